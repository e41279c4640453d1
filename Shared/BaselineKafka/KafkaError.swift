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

    /// The producer or the broker refuses the record for what it is (too large, invalid): sending
    /// it again can never work, unlike a broker that is down or a full queue.
    public var refusesRecord: Bool {
        [RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD]
            .contains { $0.rawValue == code }
    }

    public var description: String { "Kafka: \(message)" }
}
