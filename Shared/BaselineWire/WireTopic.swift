import Foundation

/// A header every message of one kind carries (the clock tick's `baseline-kind`).
public struct WireHeader: Sendable, Hashable {
    public let name: String
    public let value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A topic bound to the type of its messages: its name, the record key a message gets, the headers
/// that say what it is, and how its value is written and read. Producers and consumers go through
/// the binding, so both sides of a topic agree on one encoding.
public struct WireTopic<Message: Sendable>: Sendable {
    public let name: String
    public let headers: [WireHeader]
    private let keyOf: @Sendable (Message) -> String?
    private let encoder: @Sendable (Message) throws -> [UInt8]
    private let decoder: @Sendable ([UInt8]) throws -> Message

    public init(name: String, headers: [WireHeader] = [], key: @escaping @Sendable (Message) -> String?,
                encode: @escaping @Sendable (Message) throws -> [UInt8], decode: @escaping @Sendable ([UInt8]) throws -> Message) {
        self.name = name
        self.headers = headers
        self.keyOf = key
        self.encoder = encode
        self.decoder = decode
    }

    /// The record key for `message` (nil: the producer keeps the input's key).
    public func key(for message: Message) -> String? { keyOf(message) }
    public func encode(_ message: Message) throws -> [UInt8] { try encoder(message) }
    public func decode(_ value: [UInt8]) throws -> Message { try decoder(value) }
}

extension WireTopic where Message: Codable {
    /// A topic of JSON messages written with `formatting`.
    public static func json(_ name: String, formatting: JSONEncoder.OutputFormatting = [], headers: [WireHeader] = [],
                            key: @escaping @Sendable (Message) -> String?) -> WireTopic {
        WireTopic(name: name, headers: headers, key: key,
                  encode: { message in
                      let encoder = JSONEncoder()
                      encoder.outputFormatting = formatting
                      return Array(try encoder.encode(message))
                  },
                  decode: { try JSONDecoder().decode(Message.self, from: Data($0)) })
    }
}
