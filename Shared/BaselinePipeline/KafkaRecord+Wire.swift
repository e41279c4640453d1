import BaselineKafka
import BaselineWire

extension KafkaRecord {
    /// A record of a catalogued topic: the message encoded as the topic's binding says, its key
    /// (unless `key` is given: a pass-through of the input's), `headers` followed by the kind's own.
    /// `name` sends it to another topic of the same kind (tests, renamed deployments).
    public init<Message>(_ topic: WireTopic<Message>, _ message: Message, key: [UInt8]? = nil, headers: [KafkaHeader] = [],
                         to name: String? = nil) throws {
        self.init(topic: name ?? topic.name, key: key ?? topic.key(for: message).map { Array($0.utf8) },
                  value: try topic.encode(message), headers: headers + topic.headers.map { KafkaHeader($0.name, $0.value) })
    }
}
