/// An error reported by librdkafka or by this layer, with librdkafka's code when there is one.
public struct KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    public let code: Int32
    public let message: String

    public init(code: Int32 = -1, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ code: rd_kafka_resp_err_t, context: String) {
        self.code = code.rawValue
        self.message = "\(context): \(errorString(code))"
    }

    /// Thrown by every call on a client after `close()` began, instead of touching a handle that is
    /// (or is about to be) destroyed. Carries librdkafka's "handle destroyed" code.
    public static let closed = KafkaError(code: RD_KAFKA_RESP_ERR__DESTROY.rawValue, "the Kafka client is closed")

    public var isClosed: Bool { self == .closed }

    public var description: String { "Kafka: \(message)" }
}
