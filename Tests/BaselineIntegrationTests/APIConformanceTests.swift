import BaselineAPI
import BaselineCore
import BaselinePostgres
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

/// Keeps the OpenAPI document true: every endpoint is called through the real HTTP stack against
/// the real database (happy path and bad input), every response is recorded, and
/// scripts/lib/openapi_check.py validates each against the served document with openapi-core
/// (status documented, body of the documented schema: required fields, no undocumented ones,
/// types, RFC 3339 dates) and checks that every operation was called with a 2xx and a 4xx.
@Suite("profile-api conformance", .serialized)
struct APIConformanceTests {
    @Test("every endpoint's responses conform to the OpenAPI document")
    func responsesConformToTheDocument() async throws {
        let seed = ProfileAPISeed()
        let recorder = ExchangeRecorder()
        try await TestStack.withDatabase { database in
            try await seed.write(database)
            try await LiveProfileAPI.run(client: database, maxBodyBytes: 4096, maxImportBytes: 64 << 10) { client, _ in
                let api = RecordingCaller(client: client, recorder: recorder)
                try await Self.checkEmbeddedAssets(api)
                try await Self.exercise(api, seed: seed)
            }
        }
        try await Self.validate(recorder.exchanges)
    }

    @Test("paths the router normalises still need a token (`/api//v1/…`, `//api/v1/…`)")
    func normalisedPathsNeedAToken() async throws {
        try await TestStack.withDatabase { database in
            try await Migrator().migrate(database, logger: TestStack.logger)
            try await LiveProfileAPI.run(client: database) { client, _ in
                // The router drops empty path components; the auth middleware must decide on the same path.
                for path in ["/api//v1/profiles", "//api/v1/profiles", "/api/v1//profiles", "///api///v1///profiles?limit=1",
                             "/api//v1/suggestions/sug-0/accept"] {
                    let method: HTTPRequest.Method = path.hasSuffix("accept") ? .post : .get
                    let response = try await client.execute(uri: path, method: method)
                    #expect(response.status == .unauthorized, "\(method) \(path) without a token answered \(response.status)")
                }
                let open = try await client.execute(uri: "/api//v1/openapi.json", method: .get)
                #expect(open.status == .ok, "the OpenAPI document stays public however the path is spelled")
            }
        }
    }

    // MARK: - the calls

    static func exercise(_ api: RecordingCaller, seed: ProfileAPISeed) async throws {
        let image = LiveProfileAPI.encoded(seed.image), tag = seed.tag
        let version = "/api/v1/profiles/\(image)/versions/\(tag)"
        let versionT = "/api/v1/profiles/{image}/versions/{tag}"
        let q = LiveProfileAPI.encoded

        // The document itself, the identity.
        try await api.expect(.get, "/api/v1/openapi.json", "/api/v1/openapi.json", token: nil, status: .ok)
        let me = try await api.json(.get, "/api/v1/identity", "/api/v1/identity", token: LiveProfileAPI.writeToken, as: [String: String].self)
        #expect(me["scope"] == "write")
        try await api.expect(.get, "/api/v1/identity", "/api/v1/identity", token: nil, status: .unauthorized, code: "unauthorized")
        try await api.expect(.get, "/api/v1/identity", "/api/v1/identity?x=1", status: .badRequest, code: "bad_request")

        // The overview: filters, paging, auth.
        let listT = "/api/v1/profiles"
        let listed = try await api.json(.get, listT, "\(listT)?image=\(image)", as: Page<ImageGroup>.self)
        #expect(listed.items.map(\.imageName) == [seed.image])
        #expect(listed.items.first?.versions.first?.commonality ?? 0 > 0)
        let byLabel = try await api.json(.get, listT, "\(listT)?q=\(q(seed.image))&label=namespace:prod&label=cluster:test&state=stable&service=web",
                                         as: Page<ImageGroup>.self)
        #expect(byLabel.items.map(\.imageName) == [seed.image], "every filter the seed matches keeps it")
        let wrongLabel = try await api.json(.get, listT, "\(listT)?image=\(image)&label=namespace:staging", as: Page<ImageGroup>.self)
        #expect(wrongLabel.items.isEmpty, "a label the version's dumps never carried filters it out")
        let first = try await api.json(.get, listT, "\(listT)?limit=1", as: Page<ImageGroup>.self)
        if let cursor = first.nextCursor {
            let second = try await api.json(.get, listT, "\(listT)?limit=1&cursor=\(q(cursor))", as: Page<ImageGroup>.self)
            #expect(second.items.first?.imageName != first.items.first?.imageName)
        }
        try await api.expect(.get, listT, "\(listT)?state=bogus", status: .badRequest, code: "bad_request")
        try await api.expect(.get, listT, "\(listT)?label=colour:blue", status: .badRequest, code: "bad_request")
        try await api.expect(.get, listT, "\(listT)?limit=0", status: .badRequest, code: "bad_request")
        try await api.expect(.get, listT, "\(listT)?imgae=x", status: .badRequest, code: "bad_request")
        try await api.expect(.get, listT, "\(listT)?cursor=not-a-cursor", status: .badRequest, code: "bad_request")
        try await api.expect(.get, listT, listT, token: nil, status: .unauthorized, code: "unauthorized")
        try await api.expect(.get, listT, listT, token: "not-a-configured-token", status: .unauthorized, code: "unauthorized")

        // A version.
        let detail = try await api.json(.get, versionT, version, as: VersionDetail.self)
        #expect(detail.instances == Int64(seed.instances))
        #expect(detail.eventTypes.contains { $0.state == "stable" && $0.timeToStableSeconds != nil && $0.reason != nil })
        try await api.expect(.get, versionT, "/api/v1/profiles/\(image)/versions/no-such-tag", status: .notFound, code: "not_found")
        try await api.expect(.get, versionT, "/api/v1/profiles/\(image)/versions/a%01b", status: .badRequest, code: "bad_request")
        try await api.expect(.get, versionT, version + "?status=pending", status: .badRequest, code: "bad_request")

        // The tree, level by level, and paging within a level.
        let treeT = versionT + "/tree"
        let roots = try await api.json(.get, treeT, version + "/tree", as: Page<ProcessTreeNode>.self)
        #expect(roots.items.map(\.key) == [seed.rootKey])
        let level = try await api.json(.get, treeT, version + "/tree?parent=\(q(seed.rootKey))", as: Page<ProcessTreeNode>.self)
        #expect(level.items.contains { $0.key == seed.nginxKey && $0.commonality == 1 })
        #expect(level.items.contains { $0.key == seed.markupKey && $0.commonality < 1 })
        let onePage = try await api.json(.get, treeT, version + "/tree?parent=\(q(seed.rootKey))&limit=1", as: Page<ProcessTreeNode>.self)
        let cursor = try #require(onePage.nextCursor)
        let nextPage = try await api.json(.get, treeT, version + "/tree?parent=\(q(seed.rootKey))&limit=1&cursor=\(q(cursor))",
                                          as: Page<ProcessTreeNode>.self)
        #expect(nextPage.items.map(\.key) == [level.items[1].key])
        try await api.expect(.get, treeT, version + "/tree?parent=\(q("/no/such > process"))", status: .notFound, code: "not_found")
        try await api.expect(.get, treeT, version + "/tree?cursor=bad", status: .badRequest, code: "bad_request")
        // Form encoding, as curl --data-urlencode and HTML forms send it: `+` is a space.
        let formEncoded = q(seed.nginxKey).replacingOccurrences(of: "%20", with: "+")
        let shells = try await api.json(.get, treeT, version + "/tree?parent=\(formEncoded)", as: Page<ProcessTreeNode>.self)
        #expect(shells.items.map(\.key) == [seed.shellKey], "a parent sent with + for spaces finds its children")
        try await api.expect(.get, treeT, version + "/tree?parent=%zz", status: .badRequest, code: "bad_request")

        // A node's panel.
        let nodeT = versionT + "/node"
        let node = try await api.json(.get, nodeT, version + "/node?key=\(q(seed.nginxKey))", as: ProcessNodeDetail.self)
        #expect(node.activities["file"]?.contains { $0.activity == "/etc/nginx/nginx.conf" } == true)
        #expect(node.activities["network"]?.isEmpty == false)
        try await api.expect(.get, nodeT, version + "/node", status: .badRequest, code: "bad_request")
        try await api.expect(.get, nodeT, version + "/node?key=\(q("/nope"))", status: .notFound, code: "not_found")

        // Instances, dumps.
        let instances = try await api.json(.get, versionT + "/instances", version + "/instances?limit=2", as: Page<InstanceRow>.self)
        #expect(instances.items.count == 2 && instances.nextCursor != nil)
        try await api.expect(.get, versionT + "/instances", version + "/instances?cursor=eA", status: .badRequest, code: "bad_request")
        let dumps = try await api.json(.get, versionT + "/dumps", version + "/dumps?limit=5", as: Page<DumpRow>.self)
        let moreDumps = try await api.json(.get, versionT + "/dumps", version + "/dumps?limit=5&cursor=\(q(try #require(dumps.nextCursor)))",
                                           as: Page<DumpRow>.self)
        #expect(Set(dumps.items.map(\.dumpId)).isDisjoint(with: moreDumps.items.map(\.dumpId)))
        try await api.expect(.get, versionT + "/dumps", version + "/dumps?limit=501", status: .badRequest, code: "bad_request")

        // History: paging loses no entry, even where a merge batch wrote many at one time.
        let historyT = versionT + "/history"
        let whole = try await api.json(.get, historyT, version + "/history?limit=500", as: Page<HistoryEntry>.self)
        var paged: [HistoryEntry] = []
        var next: String? = nil
        repeat {
            let page = try await api.json(.get, historyT, version + "/history?limit=3" + (next.map { "&cursor=\(q($0))" } ?? ""),
                                          as: Page<HistoryEntry>.self)
            paged += page.items
            next = page.nextCursor
        } while next != nil && paged.count < 1000
        #expect(paged.count == whole.items.count, "paging by 3 returned \(paged.count) of \(whole.items.count) history entries")
        #expect(paged.map { "\($0.kind) \($0.ref ?? "") \($0.eventType ?? "")" } == whole.items.map { "\($0.kind) \($0.ref ?? "") \($0.eventType ?? "")" })
        try await api.expect(.get, historyT, version + "/history?before=yesterday", status: .badRequest, code: "bad_request")

        // The commonality series.
        let series = try await api.json(.get, versionT + "/commonality", version + "/commonality?points=5", as: [String: [CommonalityPoint]].self)
        #expect((series["points"]?.count ?? 0) >= 2 && (series["points"]?.count ?? 0) <= 6)
        try await api.expect(.get, versionT + "/commonality", version + "/commonality?points=1", status: .badRequest, code: "bad_request")

        // Signals.
        let signals = try await api.json(.get, versionT + "/signals", version + "/signals", as: Page<SignalAggregateRow>.self)
        #expect(signals.items.contains { $0.suggestionId == seed.suggestionID && $0.signals == 3 })
        try await api.expect(.get, versionT + "/signals", version + "/signals?rule=\(q(seed.rule))&cursor=zz", status: .badRequest,
                             code: "bad_request")

        // Export (both formats), import.
        let exportT = versionT + "/export"
        let exported = try await api.call(.get, exportT, version + "/export")
        #expect(exported.status == .ok)
        try await api.expect(.get, exportT, version + "/export?format=datadog", status: .ok)
        try await api.expect(.get, exportT, version + "/export?format=xml", status: .badRequest, code: "bad_request")
        try await api.expect(.get, exportT, "/api/v1/profiles/\(image)/versions/nope/export", status: .notFound, code: "not_found")
        let importT = "/api/v1/profiles/import"
        let imported = try await api.call(.post, importT, importT + "?as_tag=imported", token: LiveProfileAPI.writeToken, body: exported.body)
        #expect(imported.status == .created)
        try await api.expect(.post, importT, importT + "?as_tag=imported", token: LiveProfileAPI.writeToken, body: exported.body,
                             status: .conflict, code: "conflict")
        try await api.expect(.post, importT, importT + "?as_tag=other", token: LiveProfileAPI.readToken, body: exported.body,
                             status: .forbidden, code: "forbidden")
        try await api.expect(.post, importT, importT, token: LiveProfileAPI.writeToken, body: Data(#"{"format": "baseline.profile/v1"}"#.utf8),
                             status: .badRequest, code: "bad_request")
        let reimported = try await api.json(.get, versionT, "/api/v1/profiles/\(image)/versions/imported", as: VersionDetail.self)
        #expect(reimported.nodes == detail.nodes)

        // Overrides.
        let overridesT = "/api/v1/profiles/{image}/overrides"
        let overrides = "/api/v1/profiles/\(image)/overrides"
        let none = try await api.json(.get, overridesT, overrides, as: ProfileOverrides.self)
        #expect(none.settings == OverrideSettings())
        let set = try await api.json(.put, overridesT, overrides, token: LiveProfileAPI.writeToken, body: Data(#"{"min_dumps": 12, "max_novelty": 0.2}"#.utf8),
                                     as: ProfileOverrides.self)
        #expect(set.settings.minDumps == 12 && set.updatedBy != nil && set.updatedAt != nil)
        try await api.expect(.get, overridesT, "/api/v1/profiles/a%7Fb/overrides", status: .badRequest, code: "bad_request")
        try await api.expect(.put, overridesT, overrides, token: LiveProfileAPI.writeToken, body: Data(#"{"max_novelty": 2}"#.utf8),
                             status: .badRequest, code: "bad_request")
        try await api.expect(.put, overridesT, overrides, token: LiveProfileAPI.readToken, body: Data("{}".utf8), status: .forbidden, code: "forbidden")
        try await api.expect(.put, overridesT, "/api/v1/profiles/no-such-image-\(seed.rule)/overrides", token: LiveProfileAPI.writeToken,
                             body: Data("{}".utf8), status: .notFound, code: "not_found")

        // Anomalies: list, get, accept (also one whose id is longer than 255 bytes), dismiss.
        let anomaliesT = "/api/v1/anomalies"
        let pending = try await api.json(.get, anomaliesT, "\(anomaliesT)?image=\(image)&tag=\(tag)&status=pending&limit=100", as: Page<AnomalyRow>.self)
        #expect(pending.items.contains { $0.anomalyId == seed.anomalyID })
        #expect(pending.items.contains { $0.anomalyId == seed.longAnomalyID }, "the deep lineage's anomaly was recorded")
        #expect(seed.longAnomalyID.utf8.count > 255)
        try await api.expect(.get, anomaliesT, "\(anomaliesT)?status=maybe", status: .badRequest, code: "bad_request")
        // Another route's filter is unknown here too: ignoring it would widen the list.
        try await api.expect(.get, anomaliesT, "\(anomaliesT)?state=pending", status: .badRequest, code: "bad_request")
        let anomalyT = "/api/v1/anomalies/{id}"
        let one = try await api.json(.get, anomalyT, "\(anomaliesT)/\(q(seed.anomalyID))", as: AnomalyRow.self)
        #expect(one.status == "pending" && one.activity == "/etc/shadow")
        try await api.expect(.get, anomalyT, "\(anomaliesT)/no-such-anomaly", status: .notFound, code: "not_found")
        let accepted = try await api.json(.post, anomalyT + "/accept", "\(anomaliesT)/\(q(seed.longAnomalyID))/accept",
                                          token: LiveProfileAPI.writeToken, as: AnomalyRow.self)
        #expect(accepted.status == "accepted" && accepted.decidedBy != nil)
        try await api.expect(.post, anomalyT + "/accept", "\(anomaliesT)/\(q(seed.anomalyID))/accept", token: LiveProfileAPI.readToken,
                             status: .forbidden, code: "forbidden")
        try await api.expect(.post, anomalyT + "/dismiss", "\(anomaliesT)/\(q(seed.longAnomalyID))/dismiss", token: LiveProfileAPI.writeToken,
                             status: .conflict, code: "conflict")
        let dismissed = try await api.json(.post, anomalyT + "/dismiss", "\(anomaliesT)/\(q(seed.anomalyID))/dismiss",
                                           token: LiveProfileAPI.writeToken, as: AnomalyRow.self)
        #expect(dismissed.status == "dismissed")
        try await api.expect(.post, anomalyT + "/accept", "\(anomaliesT)/\(q(seed.anomalyID))/accept", token: LiveProfileAPI.writeToken,
                             status: .conflict, code: "conflict")

        // Suggestions and suppressions.
        let suggestionsT = "/api/v1/suggestions"
        let open = try await api.json(.get, suggestionsT, "\(suggestionsT)?image=\(image)&status=open", as: Page<SuggestionRow>.self)
        #expect(Set(open.items.map(\.suggestionId)) == [seed.suggestionID, seed.secondSuggestionID])
        try await api.expect(.get, suggestionsT, "\(suggestionsT)?status=closed", status: .badRequest, code: "bad_request")
        let suggestionT = "/api/v1/suggestions/{id}"
        let suggestion = try await api.json(.get, suggestionT, "\(suggestionsT)/\(seed.suggestionID)", as: SuggestionRow.self)
        #expect(suggestion.query.contains("@file.path:/etc/nginx/nginx.conf"))
        try await api.expect(.get, suggestionT, "\(suggestionsT)/sug-000", status: .notFound, code: "not_found")
        try await api.expect(.post, suggestionT + "/accept", "\(suggestionsT)/sug-000/accept", token: LiveProfileAPI.writeToken,
                             status: .notFound, code: "not_found")
        let suppression = try await api.json(.post, suggestionT + "/accept", "\(suggestionsT)/\(seed.suggestionID)/accept",
                                             token: LiveProfileAPI.writeToken, status: .created, as: SuppressionRow.self)
        #expect(suppression.suggestionId == seed.suggestionID && suppression.active)
        try await api.expect(.post, suggestionT + "/dismiss", "\(suggestionsT)/\(seed.suggestionID)/dismiss", token: LiveProfileAPI.writeToken,
                             status: .conflict, code: "conflict")
        let other = try await api.json(.post, suggestionT + "/dismiss", "\(suggestionsT)/\(seed.secondSuggestionID)/dismiss",
                                       token: LiveProfileAPI.writeToken, as: SuggestionRow.self)
        #expect(other.status == "dismissed" && other.decidedBy != nil)

        let suppressionsT = "/api/v1/suppressions"
        let active = try await api.json(.get, suppressionsT, "\(suppressionsT)?image=\(image)&active=true", as: Page<SuppressionRow>.self)
        #expect(active.items.map(\.suppressionId) == [suppression.suppressionId])
        try await api.expect(.get, suppressionsT, "\(suppressionsT)?active=maybe", status: .badRequest, code: "bad_request")
        let suppressionT = "/api/v1/suppressions/{id}"
        try await api.expect(.get, suppressionT, "\(suppressionsT)/\(suppression.suppressionId)", status: .ok)
        try await api.expect(.get, suppressionT, "\(suppressionsT)/sup-000", status: .notFound, code: "not_found")
        let disabled = try await api.json(.post, suppressionT + "/disable", "\(suppressionsT)/\(suppression.suppressionId)/disable",
                                          token: LiveProfileAPI.writeToken, as: SuppressionRow.self)
        #expect(!disabled.active && disabled.changedBy != nil)
        try await api.expect(.post, suppressionT + "/disable", "\(suppressionsT)/sup-000/disable", token: LiveProfileAPI.writeToken,
                             status: .notFound, code: "not_found")
        let enabled = try await api.json(.post, suppressionT + "/enable", "\(suppressionsT)/\(suppression.suppressionId)/enable",
                                         token: LiveProfileAPI.writeToken, as: SuppressionRow.self)
        #expect(enabled.active)
        try await api.expect(.post, suppressionT + "/enable", "\(suppressionsT)/\(suppression.suppressionId)/enable", token: LiveProfileAPI.readToken,
                             status: .forbidden, code: "forbidden")

        // The writes are in the history, with who made them.
        let after = try await api.json(.get, historyT, version + "/history?limit=500", as: Page<HistoryEntry>.self)
        for kind in ["overrides_changed", "anomaly_accepted", "anomaly_dismissed", "suppression_created", "suppression_changed"] {
            #expect(after.items.contains { $0.kind == kind && $0.by != nil }, "history has no \(kind) with its author")
        }

        // Bodies over the limits (last: the server may close the connection after a 413).
        try await api.expect(.put, overridesT, overrides, token: LiveProfileAPI.writeToken,
                             body: Data(("{\"min_dumps\": 3" + String(repeating: " ", count: 5000) + "}").utf8), status: .contentTooLarge, code: "too_large")
        try await api.expect(.post, importT, importT, token: LiveProfileAPI.writeToken, body: Data(repeating: 0x20, count: 100 << 10),
                             status: .contentTooLarge, code: "too_large")
    }

    /// The served page and document are the files in Shared/BaselineAPI/Web (scripts/embed-assets was run).
    static func checkEmbeddedAssets(_ api: RecordingCaller) async throws {
        let web = LiveProfileAPI.packageRoot.appendingPathComponent("Shared/BaselineAPI/Web")
        for (path, file) in [("/", "index.html"), ("/app.js", "app.js"), ("/app.css", "app.css")] {
            let response = try await api.client.execute(uri: path, method: .get)
            let onDisk = try String(contentsOf: web.appendingPathComponent(file), encoding: .utf8)
            #expect(String(buffer: response.body).trimmingCharacters(in: .newlines) == onDisk.trimmingCharacters(in: .newlines),
                    "\(path) differs from Shared/BaselineAPI/Web/\(file): run scripts/embed-assets and rebuild")
            #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
        }
    }

    /// Runs scripts/lib/openapi_check.py over the recorded exchanges; fails with its report.
    static func validate(_ exchanges: [RecordedExchange]) async throws {
        let dir = try LiveProfileAPI.artifactsDirectory("openapi")
        let file = dir.appendingPathComponent("exchanges.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(exchanges).write(to: file)
        let script = LiveProfileAPI.packageRoot.appendingPathComponent("scripts/lib/openapi_check.py").path
        let yaml = LiveProfileAPI.packageRoot.appendingPathComponent("Shared/BaselineAPI/Web/openapi.yaml").path
        let (status, output) = try await ToolProcess.run(try LiveProfileAPI.python(), [script, "--exchanges", file.path, "--yaml", yaml])
        #expect(status == 0, "responses do not conform to the OpenAPI document (exchanges in \(file.path)):\n\(output)")
    }
}

/// One call and its response, as the OpenAPI check reads it.
struct RecordedExchange: Codable, Sendable {
    var method: String
    /// The OpenAPI path template the call exercises (the path itself may be spelled otherwise).
    var template: String
    var path: String
    var status: Int
    var contentType: String
    var body: String

    enum CodingKeys: String, CodingKey {
        case method, template, path, status, contentType = "content_type", body
    }
}

final class ExchangeRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [RecordedExchange] = []

    func add(_ e: RecordedExchange) { lock.withLock { recorded.append(e) } }
    var exchanges: [RecordedExchange] { lock.withLock { recorded } }
}

/// Calls the live API and records every exchange.
struct RecordingCaller: Sendable {
    let client: any TestClientProtocol
    let recorder: ExchangeRecorder

    func call(_ method: HTTPRequest.Method, _ template: String, _ path: String, token: String? = LiveProfileAPI.readToken,
              body: Data? = nil) async throws -> (status: HTTPResponse.Status, body: Data) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
        let data = Data(response.body.readableBytesView)
        recorder.add(RecordedExchange(method: method.rawValue.lowercased(), template: template, path: path, status: response.status.code,
                                      contentType: response.headers[.contentType] ?? "", body: String(decoding: data, as: UTF8.self)))
        return (response.status, data)
    }

    @discardableResult
    func expect(_ method: HTTPRequest.Method, _ template: String, _ path: String, token: String? = LiveProfileAPI.readToken, body: Data? = nil,
                status: HTTPResponse.Status, code: String? = nil) async throws -> Data {
        let response = try await call(method, template, path, token: token, body: body)
        #expect(response.status == status, "\(method) \(path): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        if let code {
            let error = try? APICoding.decoder.decode(ErrorBody.self, from: response.body)
            #expect(error?.error.code == code, "\(method) \(path): expected error code \(code)")
        }
        return response.body
    }

    func json<T: Decodable>(_ method: HTTPRequest.Method, _ template: String, _ path: String, token: String? = LiveProfileAPI.readToken,
                            body: Data? = nil, status: HTTPResponse.Status = .ok, as type: T.Type) async throws -> T {
        let data = try await expect(method, template, path, token: token, body: body, status: status)
        do {
            return try APICoding.decoder.decode(T.self, from: data)
        } catch {
            Issue.record("\(method) \(path): the body is not a \(T.self): \(error)")
            throw error
        }
    }
}
