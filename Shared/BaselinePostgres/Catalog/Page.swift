import Foundation

/// One page of a list and the opaque cursor of the next (nil on the last page).
public struct Page<Item: Codable & Sendable>: Codable, Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Opaque cursors: the key of the last item, base64url-encoded so clients do not build them.
public enum Cursor {
    public static func encode(_ parts: [String]) -> String {
        let data = try! JSONEncoder().encode(parts)
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// nil when the cursor was not made by `encode` with `count` parts.
    public static func decode(_ text: String, count: Int) -> [String]? {
        guard text.utf8.count <= 4096 else { return nil }
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let parts = try? JSONDecoder().decode([String].self, from: data),
              parts.count == count else { return nil }
        return parts
    }
}
