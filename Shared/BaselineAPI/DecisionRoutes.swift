import BaselinePostgres
import Foundation
import Hummingbird

/// Anomalies (accept → profile-merger learns the node, dismiss), suggestions (accept →
/// suppression, dismiss) and suppressions (list, disable, enable). Every write records who.
struct DecisionRoutes {
    let anomalies: AnomalyDecisions
    let suggestions: SuggestionDecisions
    let signals: SignalAggregateStore

    func register(on api: RouterGroup<APIContext>) {
        api.get("anomalies") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await anomalies.list(image: try input.query("image"), tag: try input.query("tag"),
                                                         status: try input.oneOf("status", ["pending", "accepted", "dismissed"]),
                                                         cursor: try input.cursor(), limit: try input.limit()))
        }
        api.get("anomalies/:id") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await anomalies.get(try input.path("id", maxBytes: RequestInput.anomalyIDMaxBytes)))
        }
        api.post("anomalies/:id/accept") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await anomalies.decide(try input.path("id", maxBytes: RequestInput.anomalyIDMaxBytes), .accepted, by: input.user))
        }
        api.post("anomalies/:id/dismiss") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await anomalies.decide(try input.path("id", maxBytes: RequestInput.anomalyIDMaxBytes), .dismissed, by: input.user))
        }
        api.get("suggestions") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await suggestions.list(image: try input.query("image"),
                                                           status: try input.oneOf("status", ["open", "accepted", "dismissed"]),
                                                           cursor: try input.cursor(), limit: try input.limit()))
        }
        api.get("suggestions/:id") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await suggestions.get(try input.path("id")))
        }
        api.post("suggestions/:id/accept") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await suggestions.accept(try input.path("id"), by: input.user), status: .created)
        }
        api.post("suggestions/:id/dismiss") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await suggestions.dismiss(try input.path("id"), by: input.user))
        }
        api.get("suppressions") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await suggestions.suppressions(image: try input.query("image"), active: try input.bool("active"),
                                                                   cursor: try input.cursor(), limit: try input.limit()))
        }
        api.get("suppressions/:id") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await suggestions.suppressionRow(try input.path("id")))
        }
        api.post("suppressions/:id/disable") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await suggestions.setActive(try input.path("id"), false, by: input.user))
        }
        api.post("suppressions/:id/enable") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            return JSONResponse(try await suggestions.setActive(try input.path("id"), true, by: input.user))
        }
        api.get("profiles/:image/versions/:tag/signals") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            let image = try input.path("image"), tag = try input.path("tag")
            _ = try await ProfileListing(client: signals.client, logger: signals.logger).instanceCount(image: image, tag: tag)
            return JSONResponse(try await signals.list(image: image, tag: tag, ruleID: try input.query("rule"), cursor: try input.cursor(),
                                                       limit: try input.limit()))
        }
    }
}
