/// Builds an `rd_kafka_topic_partition_list_t` (the caller destroys it) with one offset each.
func makeList(_ offsets: [KafkaTopicPartition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
    for (tp, offset) in offsets {
        rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset
    }
    return list
}

func readList(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition: Int64] {
    var result: [KafkaTopicPartition: Int64] = [:]
    for i in 0..<Int(list.pointee.cnt) {
        let e = list.pointee.elems[i]
        result[KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)] = e.offset
    }
    return result
}
