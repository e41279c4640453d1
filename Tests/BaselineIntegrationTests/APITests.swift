import BaselineAPI
import BaselineCore
import BaselinePostgres
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

/// profile-api through its real HTTP stack (a live server on an ephemeral port) against the real
/// database: auth and scopes, filters, paging, each endpoint's happy path and bad input.
@Suite("profile-api", .serialized)
struct APITests {
    static let readToken = "read-token-0123456789abcdef"
    static let writeToken = "write-token-0123456789abcdef"

    /// A version built by import: nginx-like tree `entry > nginx > worker`, files, DNS, a bind.
    static func document(image: String, tag: String) -> ProfileDocument {
        func node(_ type: String, _ key: String, _ instances: [Int32], pattern: Bool = false) -> ProfileDocument.Node {
            ProfileDocument.Node(eventType: type, key: key, dumps: Int64(instances.count * 3), instances: instances, firstSeenNs: 1_700_000_000_000_000_000,
                                 lastSeenNs: 1_700_000_100_000_000_000, openFlags: 0, openMode: 0, isPattern: pattern)
        }
        let root = "/docker-entrypoint.sh", nginx = root + " > /usr/sbin/nginx", worker = nginx + " > /usr/sbin/nginx%20worker"
        return ProfileDocument(
            format: ProfileDocument.formatV1, imageName: image, imageTag: tag, differentiateArgs: false, dumpsMerged: 12,
            exportedAt: Date(),
            instances: (0..<4).map { .init(instanceId: "c\($0)", firstSeenNs: 1_700_000_000_000_000_000, lastSeenNs: 1_700_000_100_000_000_000) },
            eventTypes: [.init(eventType: "exec", state: "stable", learningSinceNs: 1_700_000_000_000_000_000,
                               lastNewNodeNs: 1_700_000_000_000_000_000, stableSinceNs: 1_700_000_090_000_000_000),
                         .init(eventType: "file", state: "learning", learningSinceNs: 1_700_000_000_000_000_000,
                               lastNewNodeNs: 1_700_000_000_000_000_000, stableSinceNs: nil)],
            nodes: [node("exec", root, [0, 1, 2, 3]), node("exec", nginx, [0, 1, 2, 3]), node("exec", worker, [0, 1]),
                    node("file", nginx + " | /etc/nginx/nginx.conf", [0, 1, 2, 3]),
                    node("file", worker + " | /var/cache/nginx/sess-*", [0], pattern: true),
                    node("dns", nginx + " | api.internal A", [0, 1, 2]),
                    node("network", nginx + " | AF_INET 0.0.0.0:80/tcp", [0, 1, 2, 3])])
    }

    /// Runs `body` with a live API over the test database.
    static func withAPI(_ body: @escaping @Sendable (any TestClientProtocol, PostgresClient) async throws -> Void) async throws {
        try await TestStack.withDatabase { client in
            _ = try await Migrator().migrate(client, logger: TestStack.logger)
            let tokens = try APITokens.load(inline: "\(readToken):read,\(writeToken):write", file: nil)
            var config = APIConfiguration(tokens: tokens)
            config.maxBodyBytes = 64 * 1024
            let app = Application(router: APIServer.router(client: client, configuration: config, logger: TestStack.logger),
                                  configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestStack.logger)
            try await app.test(.live) { http in try await body(http, client) }
            return true
        }
    }

    static func auth(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    static func json(_ r: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(buffer: r.body)) as? [String: Any] ?? [:]
    }

    static func errorCode(_ r: TestResponse) throws -> String? {
        (try json(r)["error"] as? [String: Any])?["code"] as? String
    }

    static func path(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~")))! }

    static func importVersion(_ http: any TestClientProtocol, image: String, tag: String) async throws {
        let body = try APICoding.encoder.encode(document(image: image, tag: tag))
        try await http.execute(uri: "/api/v1/profiles/import", method: .post, headers: auth(writeToken), body: ByteBuffer(bytes: body)) { r in
            #expect(r.status == .created, "\(String(buffer: r.body))")
        }
    }

    @Test("tokens: none or wrong → 401 JSON, read token on a write → 403, health and the OpenAPI document are public")
    func authAndScopes() async throws {
        try await Self.withAPI { http, _ in
            try await http.execute(uri: "/api/v1/profiles", method: .get) { r in
                #expect(r.status == .unauthorized)
                #expect(r.headers[.wwwAuthenticate] != nil)
                let code = try Self.errorCode(r)
                #expect(code == "unauthorized")
            }
            try await http.execute(uri: "/api/v1/profiles", method: .get, headers: Self.auth("not-a-configured-token-xyz")) { r in
                #expect(r.status == .unauthorized)
            }
            try await http.execute(uri: "/api/v1/profiles", method: .get, headers: [.authorization: "Basic \(Self.readToken)"]) { r in
                #expect(r.status == .unauthorized)
            }
            try await http.execute(uri: "/api/v1/profiles", method: .get, headers: Self.auth(Self.readToken)) { r in #expect(r.status == .ok) }
            try await http.execute(uri: "/api/v1/anomalies/an-x/dismiss", method: .post, headers: Self.auth(Self.readToken)) { r in
                #expect(r.status == .forbidden)
                let code = try Self.errorCode(r)
                #expect(code == "forbidden")
            }
            try await http.execute(uri: "/api/v1/openapi.json", method: .get) { r in #expect(r.status == .ok) }
            try await http.execute(uri: "/", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            }
            // CORS is off by default: no Access-Control-Allow-Origin for a foreign origin.
            var h = Self.auth(Self.readToken)
            h[.origin] = "https://evil.example"
            try await http.execute(uri: "/api/v1/profiles", method: .get, headers: h) { r in
                #expect(r.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }

    @Test("token configuration: scopes, file format and bad entries")
    func tokenConfiguration() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try "# comment\nfile-token-0123456789abcdef write alice\n\nother-token-0123456789abc read\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let tokens = try APITokens.load(inline: "inline-token-0123456789ab:read", file: file)
        #expect(tokens.count == 3)
        #expect(tokens.identify("file-token-0123456789abcdef") == APIIdentity(name: "alice", scope: .write))
        #expect(tokens.identify("inline-token-0123456789ab")?.scope == .read)
        #expect(tokens.identify("inline-token-0123456789ab")?.name.hasPrefix("token:") == true)
        #expect(tokens.identify("inline-token-0123456789a") == nil)
        #expect(throws: APITokens.Invalid.self) { try APITokens.load(inline: "short:read", file: nil) }
        #expect(throws: APITokens.Invalid.self) { try APITokens.load(inline: "long-enough-token-000000:admin", file: nil) }
        #expect(throws: APITokens.Invalid.self) { try APITokens.load(inline: nil, file: "/nonexistent/tokens") }
    }

    @Test("keys shown to people never mislead: a separator or a bidi override stays escaped (attack shapes)")
    func readableKeysNeverMislead() {
        #expect(NodeText.readable("/usr/sbin/nginx%20worker") == "/usr/sbin/nginx worker")
        #expect(NodeText.readable("/tmp/a%20%3E%20b") == "/tmp/a %3E b", "one process must not read as two")
        #expect(NodeText.readable("/tmp/x%20%7C%20y") == "/tmp/x %7C y")
        #expect(NodeText.readable("/tmp/update%E2%80%AEgnp.sh") == "/tmp/update%E2%80%AEgnp.sh", "a right-to-left override stays visible")
        #expect(NodeText.readable("/tmp/a%0Ab%1B[31m") == "/tmp/a%0Ab%1B%5B31m")
        #expect(NodeText.readable("/tmp/100%25") == "/tmp/100%25")
    }

    @Test("profiles: grouped by image, filters, cursor paging, bad input → 400")
    func profilesListing() async throws {
        let run = TestStack.unique("apilist")
        try await Self.withAPI { http, client in
            for i in 0..<3 { try await Self.importVersion(http, image: "\(run)-img\(i)", tag: "1.0") }
            try await Self.importVersion(http, image: "\(run)-img0", tag: "2.0")
            // Workload tags come from merged dumps: give img1 a dump from cluster eu-1.
            try await client.query("""
                INSERT INTO merged_dumps (dump_id, profile_key, image_tag, instance_id, service, cluster, source_topic, source_partition, source_offset)
                VALUES (\(run + "-d1"), \(run + "-img1"), '1.0', 'c0', 'web', 'eu-1', 'activity-dumps', 0, 0)
                """)
            let q = Self.path(run)
            var names: [String] = []
            var cursor: String?
            repeat {
                let uri = "/api/v1/profiles?q=\(q)&limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await http.execute(uri: uri, method: .get, headers: Self.auth(Self.readToken)) { try Self.json($0) }
                let items = page["items"] as? [[String: Any]] ?? []
                #expect(items.count <= 2)
                names += items.compactMap { $0["image_name"] as? String }
                if let first = items.first(where: { $0["image_name"] as? String == "\(run)-img0" }) {
                    #expect((first["versions"] as? [Any])?.count == 2, "img0 groups both of its tags")
                }
                cursor = page["next_cursor"] as? String
            } while cursor != nil
            #expect(names == ["\(run)-img0", "\(run)-img1", "\(run)-img2"])

            let byCluster = try await http.execute(uri: "/api/v1/profiles?q=\(q)&label=cluster:eu-1", method: .get,
                                                   headers: Self.auth(Self.readToken)) { try Self.json($0) }
            #expect((byCluster["items"] as? [[String: Any]])?.compactMap { $0["image_name"] as? String } == ["\(run)-img1"])
            let byService = try await http.execute(uri: "/api/v1/profiles?q=\(q)&service=web", method: .get,
                                                   headers: Self.auth(Self.readToken)) { try Self.json($0) }
            #expect((byService["items"] as? [[String: Any]])?.count == 1)
            let byTag = try await http.execute(uri: "/api/v1/profiles?q=\(q)&tag=2.0&state=learning", method: .get,
                                               headers: Self.auth(Self.readToken)) { try Self.json($0) }
            #expect((byTag["items"] as? [[String: Any]])?.compactMap { $0["image_name"] as? String } == ["\(run)-img0"])
            // A LIKE wildcard in the free text matches itself only.
            let wildcard = try await http.execute(uri: "/api/v1/profiles?q=%25", method: .get, headers: Self.auth(Self.readToken)) { try Self.json($0) }
            #expect((wildcard["items"] as? [[String: Any]])?.contains { ($0["image_name"] as? String)?.hasPrefix(run) == true } == false)

            for bad in ["limit=0", "limit=abc", "state=stableish", "label=nokey", "label=owner:me", "cursor=xyz", "tagg=1", "limit=1&limit=2"] {
                try await http.execute(uri: "/api/v1/profiles?\(bad)", method: .get, headers: Self.auth(Self.readToken)) { r in
                    #expect(r.status == .badRequest, "\(bad)")
                    let code = try Self.errorCode(r)
                    #expect(code == "bad_request")
                }
            }
        }
    }

    @Test("a version: states with evidence, the lazy tree with per-node commonality, a node's activities, export round trip")
    func versionTreeAndNode() async throws {
        let image = TestStack.unique("apitree") + "/nested/name"
        try await Self.withAPI { http, _ in
            try await Self.importVersion(http, image: image, tag: "1.0")
            let base = "/api/v1/profiles/\(Self.path(image))/versions/1.0"
            let version = try await http.execute(uri: base, method: .get, headers: Self.auth(Self.readToken)) { try Self.json($0) }
            #expect(version["image_name"] as? String == image)
            #expect(version["instances"] as? Int == 4)
            let types = version["event_types"] as? [[String: Any]] ?? []
            #expect(types.first { $0["event_type"] as? String == "exec" }?["time_to_stable_seconds"] as? Int == 90)

            let roots = try await http.execute(uri: base + "/tree", method: .get, headers: Self.auth(Self.readToken)) { try Self.json($0) }
            let root = (roots["items"] as? [[String: Any]])?.first
            #expect(root?["name"] as? String == "/docker-entrypoint.sh")
            #expect(root?["descendants"] as? Int == 2)
            #expect(root?["children"] as? Int == 1)
            let children = try await http.execute(uri: base + "/tree?parent=" + Self.path(root?["key"] as? String ?? ""), method: .get,
                                                  headers: Self.auth(Self.readToken)) { try Self.json($0) }
            let nginx = (children["items"] as? [[String: Any]])?.first
            #expect(nginx?["name"] as? String == "/usr/sbin/nginx")
            let grand = try await http.execute(uri: base + "/tree?parent=" + Self.path(nginx?["key"] as? String ?? ""), method: .get,
                                               headers: Self.auth(Self.readToken)) { try Self.json($0) }
            let worker = (grand["items"] as? [[String: Any]])?.first
            #expect(worker?["name"] as? String == "/usr/sbin/nginx worker", "percent-escapes are undone for display")
            #expect(worker?["commonality"] as? Double == 0.5)

            let panel = try await http.execute(uri: base + "/node?key=" + Self.path(nginx?["key"] as? String ?? ""), method: .get,
                                               headers: Self.auth(Self.readToken)) { try Self.json($0) }
            let activities = panel["activities"] as? [String: [[String: Any]]] ?? [:]
            #expect(activities["file"]?.map { $0["activity"] as? String } == ["/etc/nginx/nginx.conf"], "the worker's file is not the parent's")
            #expect(activities["dns"]?.first?["commonality"] as? Double == 0.75)
            #expect(activities["network"]?.count == 1)

            try await http.execute(uri: base + "/node?key=" + Self.path("/no/such"), method: .get, headers: Self.auth(Self.readToken)) { r in
                #expect(r.status == .notFound)
            }
            try await http.execute(uri: base + "/tree?parent=" + Self.path("/no/such"), method: .get, headers: Self.auth(Self.readToken)) { r in
                #expect(r.status == .notFound)
            }
            try await http.execute(uri: "/api/v1/profiles/\(Self.path(image))/versions/9.9", method: .get, headers: Self.auth(Self.readToken)) { r in
                #expect(r.status == .notFound)
            }
            for p in ["/instances", "/dumps", "/history", "/commonality", "/signals"] {
                try await http.execute(uri: base + p, method: .get, headers: Self.auth(Self.readToken)) { r in #expect(r.status == .ok, "\(p)") }
            }

            // Export, then import under another name: the same nodes come back.
            let exported = try await http.execute(uri: base + "/export", method: .get, headers: Self.auth(Self.readToken)) { Data(buffer: $0.body) }
            try await http.execute(uri: "/api/v1/profiles/import?as_tag=copy", method: .post, headers: Self.auth(Self.writeToken),
                                   body: ByteBuffer(bytes: exported)) { r in #expect(r.status == .created) }
            let copy = try await http.execute(uri: "/api/v1/profiles/\(Self.path(image))/versions/copy/export", method: .get,
                                              headers: Self.auth(Self.readToken)) { try APICoding.decoder.decode(ProfileDocument.self, from: Data(buffer: $0.body)) }
            let original = try APICoding.decoder.decode(ProfileDocument.self, from: exported)
            #expect(copy.nodes.map(\.key) == original.nodes.map(\.key))
            #expect(copy.nodes.map(\.instances) == original.nodes.map(\.instances))
            // Importing over an existing version is refused.
            try await http.execute(uri: "/api/v1/profiles/import", method: .post, headers: Self.auth(Self.writeToken),
                                   body: ByteBuffer(bytes: exported)) { r in #expect(r.status == .conflict) }

            let datadog = try await http.execute(uri: base + "/export?format=datadog", method: .get, headers: Self.auth(Self.readToken)) { try Self.json($0) }
            let tree = datadog["tree"] as? [[String: Any]]
            #expect(((tree?.first?["process"] as? [String: Any])?["file"] as? [String: Any])?["path"] as? String == "/docker-entrypoint.sh")
            #expect(((tree?.first?["children"] as? [[String: Any]])?.first?["dns_names"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test("an imported version neither becomes the latest tag nor claims a live container (attack shapes)")
    func importedVersionsDoNotCaptureLiveWorkloads() async throws {
        let image = TestStack.unique("apiclaim")
        try await Self.withAPI { http, client in
            // A live version: one dump merged, container c-live.
            try await client.query("INSERT INTO profiles (profile_key) VALUES (\(image))")
            try await client.query("""
                INSERT INTO profile_versions (profile_key, image_tag, dumps_merged, instances, first_seen, last_seen, last_dump_at)
                VALUES (\(image), 'live', 1, 1, now(), now(), now())
                """)
            try await client.query("""
                INSERT INTO profile_instances (profile_key, image_tag, ordinal, instance_id, first_seen_ns, last_seen_ns)
                VALUES (\(image), 'live', 0, 'c-live', 1, 1)
                """)
            var doc = Self.document(image: image, tag: "forged")
            doc.instances[0] = .init(instanceId: "c-live", firstSeenNs: 1, lastSeenNs: Int64(Date().timeIntervalSince1970 * 1e9))
            try await http.execute(uri: "/api/v1/profiles/import", method: .post, headers: Self.auth(Self.writeToken),
                                   body: ByteBuffer(bytes: try APICoding.encoder.encode(doc))) { r in #expect(r.status == .created) }
            let store = SuppressionStore(client: client)
            #expect(try await store.latestTag(profileKey: image) == "live")
            #expect(try await store.workload(containerID: "c-live")?.imageTag == "live")
            let history = try await http.execute(uri: "/api/v1/profiles/\(Self.path(image))/versions/forged/history", method: .get,
                                                 headers: Self.auth(Self.readToken)) { try Self.json($0) }
            let imported = (history["items"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "imported" }
            #expect(imported?["by"] as? String == "token:2", "the import says who")
        }
    }

    @Test("import refuses documents that would plant wider-than-mined patterns or malformed keys (attack shapes)")
    func importValidation() async throws {
        let image = TestStack.unique("apiimport")
        try await Self.withAPI { http, _ in
            func attempt(_ mutate: (inout ProfileDocument) -> Void) async throws -> HTTPResponse.Status {
                var doc = Self.document(image: image, tag: "1.0")
                mutate(&doc)
                return try await http.execute(uri: "/api/v1/profiles/import", method: .post, headers: Self.auth(Self.writeToken),
                                              body: ByteBuffer(bytes: try APICoding.encoder.encode(doc))) { $0.status }
            }
            let nginx = "/docker-entrypoint.sh > /usr/sbin/nginx"
            func pattern(_ path: String) -> ProfileDocument.Node {
                .init(eventType: "file", key: nginx + " | " + path, dumps: 1, instances: [0], firstSeenNs: 1, lastSeenNs: 1, openFlags: 0,
                      openMode: 0, isPattern: true)
            }
            for wide in ["/tmp/*", "/*/passwd", "/etc/*", "*", "/var/cache/*-*"] {
                #expect(try await attempt { $0.nodes.append(pattern(wide)) } == .badRequest, "pattern \(wide) must be refused")
            }
            #expect(try await attempt { $0.nodes.append(.init(eventType: "exec", key: nginx + " | /bin/sh", dumps: 1, instances: [0], firstSeenNs: 1,
                                                             lastSeenNs: 1, openFlags: 0, openMode: 0, isPattern: false)) } == .badRequest)
            #expect(try await attempt { $0.nodes[0].instances = [9] } == .badRequest)
            #expect(try await attempt { $0.nodes.append($0.nodes[0]) } == .badRequest)
            #expect(try await attempt { $0.format = "other" } == .badRequest)
            // "Every write flag learned" (-1 truncated to 32 bits) and times in the future are refused.
            #expect(try await attempt { $0.nodes[3].openFlags = -1 } == .badRequest)
            #expect(try await attempt { $0.nodes[0].openFlags = 2 } == .badRequest, "flags belong to file nodes")
            #expect(try await attempt { $0.instances[0].lastSeenNs = .max } == .badRequest)
            #expect(try await attempt { $0.imageName = "" } == .badRequest)
            // Nothing was created by the refused imports.
            try await http.execute(uri: "/api/v1/profiles/\(Self.path(image))/versions/1.0", method: .get, headers: Self.auth(Self.readToken)) { r in
                #expect(r.status == .notFound)
            }
            // Bodies: not JSON → 400; over the limit → 413.
            try await http.execute(uri: "/api/v1/profiles/\(Self.path(image))/overrides", method: .put, headers: Self.auth(Self.writeToken),
                                   body: ByteBuffer(string: "{not json")) { r in #expect(r.status == .badRequest) }
            try await http.execute(uri: "/api/v1/profiles/\(Self.path(image))/overrides", method: .put, headers: Self.auth(Self.writeToken),
                                   body: ByteBuffer(string: "{\"min_dumps\": 1, \"pad\": \"" + String(repeating: "x", count: 70_000) + "\"}")) { r in
                #expect(r.status == .contentTooLarge)
            }
        }
    }

    @Test("decisions: anomalies accept/dismiss, suggestion accept → suppression (exactly the node), disable, overrides, all with who and when")
    func decisions() async throws {
        let image = TestStack.unique("apidecide")
        try await Self.withAPI { http, client in
            try await Self.importVersion(http, image: image, tag: "1.0")
            let nginx = "/docker-entrypoint.sh > /usr/sbin/nginx"
            for n in 0..<2 {
                try await client.query("""
                    INSERT INTO anomalies (anomaly_id, profile_key, image_tag, event_type, node_key, dump_id, instance_id, at_ns)
                    VALUES (\("an-\(image)-\(n)"), \(image), '1.0', 'exec', \(nginx + " > /bin/sh"), 'd1', 'c0', 1)
                    """)
            }
            let a0 = "/api/v1/anomalies/" + Self.path("an-\(image)-0"), a1 = "/api/v1/anomalies/" + Self.path("an-\(image)-1")
            let accepted = try await http.execute(uri: a0 + "/accept", method: .post, headers: Self.auth(Self.writeToken)) { try Self.json($0) }
            #expect(accepted["status"] as? String == "accepted")
            #expect((accepted["decided_by"] as? String)?.hasPrefix("token:") == true)
            #expect(accepted["decided_at"] != nil)
            try await http.execute(uri: a0 + "/accept", method: .post, headers: Self.auth(Self.writeToken)) { r in #expect(r.status == .ok) }
            try await http.execute(uri: a0 + "/dismiss", method: .post, headers: Self.auth(Self.writeToken)) { r in #expect(r.status == .conflict) }
            try await http.execute(uri: a1 + "/dismiss", method: .post, headers: Self.auth(Self.writeToken)) { r in #expect(r.status == .ok) }
            try await http.execute(uri: "/api/v1/anomalies/nope/accept", method: .post, headers: Self.auth(Self.writeToken)) { r in
                #expect(r.status == .notFound)
            }
            let pending = try await http.execute(uri: "/api/v1/anomalies?image=\(Self.path(image))&status=pending", method: .get,
                                                 headers: Self.auth(Self.readToken)) { try Self.json($0) }
            #expect((pending["items"] as? [Any])?.isEmpty == true)

            // A suggestion recorded the way signal-enricher records it.
            let key = ProfileNodeKey(type: .file, value: nginx + " | /etc/nginx/nginx.conf")
            let id = SuppressionSuggestion.id(ruleID: "rule-1", profileKey: image, node: key)
            let suggestion = try JSONDecoder().decode(SuppressionSuggestion.self, from: JSONSerialization.data(withJSONObject: [
                "suggestion_id": id, "rule_id": "rule-1", "profile_key": image, "image_tag": "1.0", "event_type": "file",
                "node_key": key.value, "lineage": ["/docker-entrypoint.sh", "/usr/sbin/nginx"], "activity": "/etc/nginx/nginx.conf",
                "query": "q", "commonality": 1.0, "instances": 4, "instances_total": 4, "dumps": 12, "dumps_merged": 12, "explanation": "e",
            ]))
            _ = try await SuppressionStore(client: client).record(suggestion)
            let s = "/api/v1/suggestions/" + id
            // A dismissed suggestion is not accepted behind the dismisser's back.
            let other = ProfileNodeKey(type: .file, value: nginx + " | /var/log/nginx/access.log")
            let otherID = SuppressionSuggestion.id(ruleID: "rule-1", profileKey: image, node: other)
            var second = suggestion
            second.suggestionID = otherID
            second.nodeKey = other.value
            _ = try await SuppressionStore(client: client).record(second)
            try await http.execute(uri: "/api/v1/suggestions/\(otherID)/dismiss", method: .post, headers: Self.auth(Self.writeToken)) { r in
                #expect(r.status == .ok)
            }
            try await http.execute(uri: "/api/v1/suggestions/\(otherID)/accept", method: .post, headers: Self.auth(Self.writeToken)) { r in
                #expect(r.status == .conflict)
            }
            let suppression = try await http.execute(uri: s + "/accept", method: .post, headers: Self.auth(Self.writeToken)) { r in
                #expect(r.status == .created)
                return try Self.json(r)
            }
            #expect(suppression["node_key"] as? String == key.value, "the suppression is exactly the suggested node")
            #expect(suppression["event_type"] as? String == "file")
            #expect(suppression["active"] as? Bool == true)
            let store = SuppressionStore(client: client)
            let active = try await store.active().filter { $0.profileKey == image }
            #expect(active.count == 1)
            // The suppression covers that node only: a sibling file or the worker's copy are not suppressed.
            let index = SuppressionIndex(active)
            #expect(index.find(ruleID: "rule-1", profileKey: image, node: key) != nil)
            #expect(index.find(ruleID: "rule-1", profileKey: image, node: ProfileNodeKey(type: .file, value: nginx + " | /etc/nginx/other.conf")) == nil)
            #expect(index.find(ruleID: "rule-1", profileKey: image,
                               node: ProfileNodeKey(type: .file, value: nginx + " > /bin/sh | /etc/nginx/nginx.conf")) == nil)
            #expect(index.find(ruleID: "rule-2", profileKey: image, node: key) == nil)

            let sid = suppression["suppression_id"] as? String ?? ""
            let disabled = try await http.execute(uri: "/api/v1/suppressions/\(sid)/disable", method: .post, headers: Self.auth(Self.writeToken)) { try Self.json($0) }
            #expect(disabled["active"] as? Bool == false)
            #expect(disabled["changed_by"] != nil)
            #expect(try await store.active().filter { $0.profileKey == image }.isEmpty)
            try await http.execute(uri: s + "/dismiss", method: .post, headers: Self.auth(Self.writeToken)) { r in #expect(r.status == .conflict) }

            // Overrides: validated, stored with who, and in the history.
            let o = "/api/v1/profiles/\(Self.path(image))/overrides"
            try await http.execute(uri: o, method: .put, headers: Self.auth(Self.writeToken), body: ByteBuffer(string: "{\"max_novelty\": 2}")) { r in
                #expect(r.status == .badRequest)
            }
            // A misspelt key is refused, not read as "back to the default".
            try await http.execute(uri: o, method: .put, headers: Self.auth(Self.writeToken), body: ByteBuffer(string: "{\"min_dump\": 5}")) { r in
                #expect(r.status == .badRequest)
            }
            try await http.execute(uri: "/api/v1/profiles/no-such-profile-\(image)/overrides", method: .get, headers: Self.auth(Self.readToken)) { r in
                #expect(r.status == .notFound)
            }
            try await http.execute(uri: "/api/v1/profiles/\(Self.path(image))/versions/9.9/signals", method: .get, headers: Self.auth(Self.readToken)) { r in
                #expect(r.status == .notFound)
            }
            let set = try await http.execute(uri: o, method: .put, headers: Self.auth(Self.writeToken),
                                             body: ByteBuffer(string: "{\"min_dumps\": 50, \"min_quiet_seconds\": 600}")) { try Self.json($0) }
            #expect((set["settings"] as? [String: Any])?["min_dumps"] as? Int == 50)
            #expect(set["updated_by"] != nil)
            let history = try await http.execute(uri: "/api/v1/profiles/\(Self.path(image))/versions/1.0/history?limit=100", method: .get,
                                                 headers: Self.auth(Self.readToken)) { try Self.json($0) }
            let kinds = Set((history["items"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String })
            #expect(kinds.isSuperset(of: ["anomaly", "anomaly_accepted", "anomaly_dismissed", "overrides_changed", "suppression_created",
                                          "suppression_changed"]), "\(kinds)")
        }
    }

    @Test("signal aggregates: counted per (rule, node), bounded per version with an overflow row")
    func signalAggregates() async throws {
        let image = TestStack.unique("apisignals")
        try await Self.withAPI { http, client in
            let store = SignalAggregateStore(client: client, logger: TestStack.logger, maxRowsPerVersion: 2)
            func tally(_ n: Int64, at: Date) -> SignalTally {
                var t = SignalTally(match: "exact", firstSeen: at, lastSeen: at, lastEnrichment: "{\"status\":\"profiled\",\"n\":\(n)}")
                t.signals = n
                t.suppressed = 1
                return t
            }
            let now = Date()
            func key(_ node: String) -> SignalTally.Key {
                SignalTally.Key(profileKey: image, imageTag: "1.0", ruleID: "r", eventType: "exec", nodeKey: node)
            }
            try await store.record([key("a"): tally(5, at: now), key("b"): tally(3, at: now)])
            try await store.record([key("a"): tally(2, at: now.addingTimeInterval(1)), key("c"): tally(7, at: now), key("d"): tally(1, at: now)])
            var rows: [String: (Int64, Int64)] = [:]
            for try await (node, signals, suppressed) in try await client.query("""
                SELECT node_key, signals, suppressed FROM profile_signals WHERE profile_key = \(image)
                """).decode((String, Int64, Int64).self) { rows[node] = (signals, suppressed) }
            #expect(rows["a"]?.0 == 7)
            #expect(rows["b"]?.0 == 3)
            #expect(rows["c"] == nil && rows["d"] == nil, "no room past two rows")
            #expect(rows[SignalAggregateStore.overflowNode]?.0 == 8)
            #expect(rows[SignalAggregateStore.overflowNode]?.1 == 2)
        }
    }
}
