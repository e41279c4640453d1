/// What `FleetGenerator.generate` produces: dumps to send first, then labelled signals.
public struct GeneratedFleet: Sendable, Hashable {
    public var configuration: FleetConfiguration
    /// Every dump of every container, in event-time order (window end, then image, tag, container).
    public var dumps: [ActivityDump]
    /// Signals in send order; their `date`s fall after the last dump window.
    public var signals: [GeneratedSignal]
    public var summary: FleetSummary

    /// Signal id → kind, to label enriched output.
    public var kindsByID: [String: SignalKind] {
        Dictionary(uniqueKeysWithValues: signals.map { ($0.id, $0.kind) })
    }
}

/// What was generated, for printing and for the evaluation report.
public struct FleetSummary: Sendable, Hashable, Codable {
    public struct Version: Sendable, Hashable, Codable {
        public var imageKind: FleetImageKind
        public var imageName: String
        public var imageTag: String
        /// Container ids, in replica order.
        public var containers: [String]
        /// The container whose extra behaviour is the `rare` kind.
        public var rareContainer: String
        public var dumps: Int
        public var signals: Int

        enum CodingKeys: String, CodingKey {
            case imageKind = "image_kind", imageName = "image_name", imageTag = "image_tag", containers,
                 rareContainer = "rare_container", dumps, signals
        }
    }

    public struct KindCount: Sendable, Hashable, Codable {
        public var kind: SignalKind
        public var count: Int
    }

    public var seed: UInt64
    public var versions: [Version]
    public var dumps: Int
    public var signals: Int
    /// Every kind, in `SignalKind.allCases` order (zero when none were generated).
    public var signalsByKind: [KindCount]
    /// First dump window start and last window end (ns).
    public var dumpsStart: Int64
    public var dumpsEnd: Int64
    /// `date` of the first and last signal (ms since the epoch).
    public var signalsFirstDate: Int64
    public var signalsLastDate: Int64

    enum CodingKeys: String, CodingKey {
        case seed, versions, dumps, signals, signalsByKind = "signals_by_kind", dumpsStart = "dumps_start",
             dumpsEnd = "dumps_end", signalsFirstDate = "signals_first_date", signalsLastDate = "signals_last_date"
    }

    /// A few readable lines.
    public var text: String {
        var lines = ["fleet seed \(seed): \(versions.count) versions, \(versions.map(\.containers.count).reduce(0, +)) containers, "
                     + "\(dumps) dumps, \(signals) signals"]
        for v in versions {
            lines.append("  \(v.imageName):\(v.imageTag) (\(v.imageKind.rawValue)): \(v.containers.count) containers, "
                         + "\(v.dumps) dumps, \(v.signals) signals, rare container \(v.rareContainer.prefix(12))")
        }
        lines.append("  signals by kind: " + signalsByKind.map { "\($0.kind.rawValue) \($0.count)" }.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
