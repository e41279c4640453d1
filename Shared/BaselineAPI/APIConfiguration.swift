/// Settings of profile-api beyond the shared ones (docs/api.md).
public struct APIConfiguration: Sendable {
    public var tokens: APITokens
    /// The largest request body, except imports.
    public var maxBodyBytes: Int = 1 << 20
    /// The largest import body.
    public var maxImportBytes: Int = 32 << 20
    /// Origins allowed to call the API from a browser; empty: CORS off (the page is same-origin).
    public var corsOrigins: [String] = []

    public init(tokens: APITokens) {
        self.tokens = tokens
    }
}
