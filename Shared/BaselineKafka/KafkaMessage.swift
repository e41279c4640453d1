/// A topic and partition.
public struct KafkaTopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A record header: a name and raw bytes.
public struct KafkaHeader: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(_ name: String, _ value: String) {
        self.init(name: name, value: Array(value.utf8))
    }

    public var stringValue: String? { String(validating: value, as: UTF8.self) }
}

/// A record received from the broker (bytes copied out of librdkafka's buffers).
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch, when the broker or producer set one.
    public var timestamp: Int64?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
                headers: [KafkaHeader] = [], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public var topicPartition: KafkaTopicPartition { .init(topic: topic, partition: partition) }
    public var keyString: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }
    public func header(_ name: String) -> KafkaHeader? { headers.last { $0.name == name } }
}

/// A record to produce. A nil partition lets the partitioner choose from the key.
public struct KafkaRecord: Sendable {
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// The record's CreateTime in milliseconds since the epoch; nil: librdkafka's clock at send.
    public var timestampMs: Int64?

    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8], headers: [KafkaHeader] = [],
                timestampMs: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }

    public init(topic: String, key: String?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: key.map { Array($0.utf8) }, value: value, headers: headers)
    }
}

/// Where the broker stored a produced record.
public struct KafkaDeliveryReport: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}
