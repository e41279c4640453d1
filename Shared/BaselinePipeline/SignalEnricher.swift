import BaselineCore
import BaselineKafka
import Foundation
import Logging
import Metrics

/// signal-enricher's logic: each signal comes out on `security-signals.enriched` byte-for-byte
/// unchanged plus a `baseline` object; what cannot be parsed goes to `security-signals.dlq`.
public struct SignalEnricher: Sendable {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func transform(_ batch: [KafkaMessage]) -> [KafkaRecord] {
        batch.map { message in
            do {
                let signal = try SecuritySignal.parse(message.value)
                let context = BaselineContext.noProfile(workload: signal.workload)
                let value = try SecuritySignal.appendingBaseline(context, to: message.value)
                Counter(label: "baseline_signals_enriched_total").increment()
                return KafkaRecord(topic: Topics.securitySignalsEnriched, key: message.key, value: value, headers: message.headers)
            } catch let rejection as Rejection {
                Counter(label: "baseline_signals_rejected_total", dimensions: [("reason", rejection.code)]).increment()
                return DeadLetter.record(for: message, to: Topics.securitySignalsDLQ, rejection: rejection)
            } catch {
                return DeadLetter.record(for: message, to: Topics.securitySignalsDLQ, rejection: Rejection("internal_error", "\(error)"))
            }
        }
    }
}
