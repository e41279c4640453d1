/// What a record costs against librdkafka's `message.max.bytes`: key, value and every header
/// (name, value and their framing) count, not the value alone.
extension KafkaRecord {
    public var wireBytes: Int { (key?.count ?? 0) + value.count + KafkaHeader.wireBytes(headers) + 64 }
}

extension KafkaHeader {
    /// Bytes of a header list on the wire (name, value and a few bytes of framing each).
    public static func wireBytes(_ headers: [KafkaHeader]) -> Int {
        headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.count + 8 }
    }
}
