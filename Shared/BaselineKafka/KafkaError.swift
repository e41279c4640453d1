/// An error reported by librdkafka or by this layer, with librdkafka's code when there is one.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
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

    public var description: String { "Kafka: \(message)" }
}
