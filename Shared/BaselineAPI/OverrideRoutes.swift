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
            // A misspelt key would otherwise reset that setting to its default without a word.
            let fields = try await input.body([String: JSONValue].self, limit: configuration.maxBodyBytes)
            if let unknown = fields.keys.sorted().first(where: { !OverrideSettings.fieldNames.contains($0) }) {
                throw APIError.badRequest("unknown field \(unknown) (known: \(OverrideSettings.fieldNames.sorted().joined(separator: ", ")))")
            }
            let settings = try APICoding.decoder.decode(OverrideSettings.self, from: try JSONEncoder().encode(fields))
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
            let key = try await export.importVersion(doc, as: try input.query("as_image"), tag: try input.query("as_tag"), by: input.user)
            return JSONResponse(key, status: .created)
        }
    }
}
