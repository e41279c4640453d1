import BaselinePostgres
import Foundation
import Hummingbird

/// Per-profile learning overrides (read and write), export and import of versions.
struct OverrideRoutes {
    let overrides: OverrideStore
    let export: ProfileExport
    let configuration: APIConfiguration

    func register(on api: RouterGroup<APIContext>) {
        api.get("profiles/:image/overrides") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            let image = try input.path("image")
            return JSONResponse(try await overrides.get(profileKey: image))
        }
        api.put("profiles/:image/overrides") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            let settings = try await input.body(OverrideSettings.self, limit: configuration.maxBodyBytes)
            return JSONResponse(try await overrides.set(profileKey: try input.path("image"), settings, by: input.user))
        }
        api.get("profiles/:image/versions/:tag/export") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            let doc = try await export.export(image: try input.path("image"), tag: try input.path("tag"))
            switch try input.oneOf("format", ["baseline", "datadog"]) ?? "baseline" {
            case "datadog": return try JSONResponse(DatadogProfileExport.securityProfile(doc)).response(from: request, context: context)
            default: return try JSONResponse(doc).response(from: request, context: context)
            }
        }
        api.post("profiles/import") { request, context in
            let input = RequestInput(request, context)
            try input.rejectUnknownParameters()
            let doc = try await input.body(ProfileDocument.self, limit: configuration.maxImportBytes)
            let key = try await export.importVersion(doc, as: try input.query("as_image"), tag: try input.query("as_tag"))
            return JSONResponse(key, status: .created)
        }
    }
}
