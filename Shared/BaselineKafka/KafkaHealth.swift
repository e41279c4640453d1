/// What a readiness check needs to know about a Kafka client. Reading it is cheap (a lock, no I/O).
public struct KafkaHealth: Sendable {
    /// `close()` began: the client refuses every call with `KafkaError.closed`.
    public var isClosed: Bool
    /// librdkafka reported that no broker is reachable (`RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN`) and no
    /// broker has answered since. librdkafka says nothing when a broker comes back, so while this is
    /// set the client asks for metadata every 2 s; a fetched message, an acknowledged record or a
    /// commit clears it too.
    public var brokersDown: Bool
    /// The latest error librdkafka reported (error callback, consumer poll errors, failed
    /// assignments); transient errors are retried by librdkafka, so judge it with `lastErrorAt`.
    public var lastError: KafkaError?
    public var lastErrorAt: ContinuousClock.Instant?

    public init(isClosed: Bool, brokersDown: Bool, lastError: KafkaError?, lastErrorAt: ContinuousClock.Instant?) {
        self.isClosed = isClosed
        self.brokersDown = brokersDown
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }
}
