import Foundation
import Logging

/// A swift-log handler that keeps what it is given, for tests asserting on log lines.
final class LogCapture: LogHandler, @unchecked Sendable {
    struct Entry {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
        let source: String
    }

    private let lock = NSLock()
    private var stored: [Entry] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let entry = Entry(level: event.level, message: event.message.description,
                          metadata: metadata.merging(event.metadata ?? [:]) { $1 }, source: event.source)
        lock.withLock { stored.append(entry) }
    }

    var entries: [Entry] { lock.withLock { stored } }

    /// True once a librdkafka line from a client whose name starts with `client` arrived.
    func contains(client: String) -> Bool {
        entries.contains { $0.source == "librdkafka" && ($0.metadata["kafka.client"].map { "\($0)" } ?? "").hasPrefix(client) }
    }
}
