import BaselineCore
import BaselinePostgres
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// `/api/v1/profiles`: the overview, versions, the tree, a node, instances, dumps, history and the
/// commonality series.
struct ProfileRoutes {
    let listing: ProfileListing

    func register(on api: RouterGroup<APIContext>) {
        api.get("profiles") { request, context in try await list(RequestInput(request, context)) }
        api.get("profiles/:image/versions/:tag") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await listing.version(image: try input.path("image"), tag: try input.path("tag")))
        }
        api.get("profiles/:image/versions/:tag/tree") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await listing.children(image: try input.path("image"), tag: try input.path("tag"),
                                                           parent: try input.query("parent", maxBytes: StorageLimits().maxNodeKeyBytes),
                                                           cursor: try input.cursor(), limit: try input.limit(default: 200, max: 1000)))
        }
        api.get("profiles/:image/versions/:tag/node") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            guard let key = try input.query("key", maxBytes: StorageLimits().maxNodeKeyBytes) else {
                throw APIError.badRequest("key (the process node's key) is required")
            }
            return JSONResponse(try await listing.node(image: try input.path("image"), tag: try input.path("tag"), key: key,
                                                       limit: try input.limit(default: 200, max: 1000)))
        }
        api.get("profiles/:image/versions/:tag/instances") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await listing.instances(image: try input.path("image"), tag: try input.path("tag"),
                                                            cursor: try input.cursor(), limit: try input.limit()))
        }
        api.get("profiles/:image/versions/:tag/dumps") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await listing.dumps(image: try input.path("image"), tag: try input.path("tag"),
                                                        cursor: try input.cursor(), limit: try input.limit()))
        }
        api.get("profiles/:image/versions/:tag/history") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            var before: Date?
            if let raw = try input.query("before") {
                guard let d = ISO8601DateFormatter.withFraction.date(from: raw) ?? ISO8601DateFormatter().date(from: raw) else {
                    throw APIError.badRequest("before must be an RFC 3339 time")
                }
                before = d
            }
            return JSONResponse(try await listing.history(image: try input.path("image"), tag: try input.path("tag"), before: before,
                                                          cursor: try input.cursor(), limit: try input.limit()))
        }
        api.get("profiles/:image/versions/:tag/commonality") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            var points = 200
            if let raw = try input.query("points") {
                guard let n = Int(raw), (2...2000).contains(n) else { throw APIError.badRequest("points must be an integer in 2...2000") }
                points = n
            }
            return JSONResponse(CommonalitySeries(points: try await listing.commonalitySeries(image: try input.path("image"), tag: try input.path("tag"),
                                                                                   limit: points)))
        }
    }

    func list(_ input: RequestInput) async throws -> JSONResponse<Page<ImageGroup>> {
        try input.rejectUnknownParameters()
        var filter = ProfileFilter()
        filter.image = try input.query("image")
        filter.imageTag = try input.query("tag")
        filter.service = try input.query("service")
        filter.text = try input.query("q", maxBytes: 200)
        if let state = try input.oneOf("state", LifecycleState.allCases.map(\.rawValue)) { filter.state = LifecycleState(rawValue: state) }
        for label in try input.queryAll("label") {
            guard let colon = label.firstIndex(of: ":"), let key = ProfileFilter.LabelKey(rawValue: String(label[..<colon])),
                  !label[label.index(after: colon)...].isEmpty, label.utf8.count <= 300 else {
                throw APIError.badRequest("label must be key:value with key one of \(ProfileFilter.LabelKey.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.labels.append((key, String(label[label.index(after: colon)...])))
        }
        return JSONResponse(try await listing.list(filter, cursor: try input.cursor(), limit: try input.limit()))
    }
}

/// The commonality-over-time chart's points.
struct CommonalitySeries: Encodable, Sendable {
    let points: [CommonalityPoint]
}
