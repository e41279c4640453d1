import Foundation

extension KafkaClient {
    private static let probes = DispatchQueue(label: "kafka-broker-probe", attributes: .concurrent)

    /// librdkafka says "all brokers down" once, and nothing when one is back. While the flag is
    /// set, ask for metadata (a cheap request any broker answers) every 2 s until one answers.
    func probeBrokersLater() {
        Self.probes.asyncAfter(deadline: .now() + 2) { [weak self] in self?.probeBrokers() }
    }

    private func probeBrokers() {
        guard events.brokersDown else { return }
        let answered: Bool
        do {
            answered = try withHandle { rk in
                var metadata: UnsafePointer<rd_kafka_metadata>?
                let err = rd_kafka_metadata(rk, 0, nil, &metadata, 1000)
                if let metadata { rd_kafka_metadata_destroy(metadata) }
                return err == RD_KAFKA_RESP_ERR_NO_ERROR
            }
        } catch {
            return  // closed
        }
        if answered { events.brokerAnswered() } else { probeBrokersLater() }
    }
}
