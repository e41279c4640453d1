/// The workloads the fleet generator knows how to simulate (process trees in `FleetBlueprint`).
public enum FleetImageKind: String, Codable, Sendable, CaseIterable {
    /// nginx-like: `/bin/sh /docker-entrypoint.sh` → nginx master → workers; `find` helper; port 80.
    case webServer = "web-server"
    /// python/gunicorn-like: `docker-entrypoint.sh` → python master → workers; `sh -c find` cleanup; port 8000.
    case pythonApp = "python-app"
    /// busybox-based log shipper: `/bin/busybox` as `sh`, `httpd` (port 8081, forks per request) and `wget`.
    case busyboxSidecar = "busybox-sidecar"
    /// redis-like: `docker-entrypoint.sh` → `gosu` exec's redis-server (+ a forked save child);
    /// a busybox `sh -c redis-cli ping` healthcheck; port 6379.
    case keyValueStore = "key-value-store"
}

/// What to generate. Every field has a default, so a partial JSON object decodes
/// (`{"seed": 7}` is the default fleet with seed 7).
public struct FleetConfiguration: Codable, Sendable, Hashable {
    /// Everything random derives from this seed.
    public var seed: UInt64 = 1
    /// The images (one blueprint each, in this order).
    public var images: [FleetImageKind] = FleetImageKind.allCases
    /// Prepended to every image name (`fleet-nginx`), so generated profiles stay apart from real ones.
    public var imageNamePrefix: String = "fleet-"
    /// Appended to every image tag (`1.25.0-run7`), so a second run on the same stack gets new
    /// versions instead of merging into (already stable) ones of an earlier run.
    public var imageTagSuffix: String = ""
    /// Image tags (= profile versions) per image.
    public var tagsPerImage: Int = 2
    /// Containers (instances) per image tag. At least 2, so one container's behaviour is rare.
    public var replicasPerTag: Int = 4
    /// Dumps recorded per container, spread over `spanHours`.
    public var dumpsPerContainer: Int = 12
    /// Event time the dumps cover, in hours.
    public var spanHours: Double = 6
    /// Start of the first dump window, nanoseconds since the epoch (default 2024-01-15T00:00:00Z).
    public var startNanoseconds: Int64 = 1_705_276_800_000_000_000
    /// Signals of each kind per version (image × tag). Kinds an image cannot produce (busybox
    /// applets on an image without busybox) are skipped.
    public var signalsPerKind: Int = 25

    public init() {}

    /// A few seconds' worth for unit tests: every image, one tag, three containers, eight dumps each.
    public static var small: FleetConfiguration {
        var c = FleetConfiguration()
        c.tagsPerImage = 1
        c.replicasPerTag = 3
        c.dumpsPerContainer = 8
        c.signalsPerKind = 4
        return c
    }

    /// Nanoseconds the dumps cover.
    public var spanNanoseconds: Int64 { Int64((spanHours * 3600).rounded()) * 1_000_000_000 }

    /// Why this configuration would not give the intended evaluation with the production defaults
    /// (empty when fine). The generator still runs; these are warnings for the CLI to print.
    public func problems(lifecycle: LifecycleConfiguration = LifecycleConfiguration()) -> [String] {
        var out: [String] = []
        if images.isEmpty { out.append("no images") }
        if tagsPerImage < 1 { out.append("tagsPerImage must be at least 1") }
        if replicasPerTag < 2 { out.append("replicasPerTag must be at least 2, else no behaviour is rare (commonality 1 / replicas)") }
        if dumpsPerContainer < 1 { out.append("dumpsPerContainer must be at least 1") }
        if dumpsPerContainer < 8 { out.append("dumpsPerContainer below 8: fewer than 8 ephemeral names per container") }
        if replicasPerTag * dumpsPerContainer < lifecycle.minDumps {
            out.append("\(replicasPerTag * dumpsPerContainer) dumps per version, below min_dumps \(lifecycle.minDumps): versions never turn stable")
        }
        if spanHours <= 0 { out.append("spanHours must be positive") }
        if dumpsPerContainer > 0 && spanHours > 0 {
            let interval = spanNanoseconds / Int64(dumpsPerContainer)
            if interval < 60 * 1_000_000_000 { out.append("less than a minute between a container's dumps") }
            // New behaviour stops after the first rounds; stable needs that much quiet time after it.
            if interval * Int64(max(0, dumpsPerContainer - 4)) < lifecycle.minQuietPeriod {
                out.append("the span leaves too little quiet time (min_quiet_period) after the first dumps: versions may never turn stable")
            }
        }
        if spanNanoseconds >= lifecycle.maxLearningPeriod { out.append("the span exceeds max_learning_period: versions may turn unstable") }
        if signalsPerKind < 0 { out.append("signalsPerKind must not be negative") }
        return out
    }

    enum CodingKeys: String, CodingKey {
        case seed, images, imageNamePrefix = "image_name_prefix", imageTagSuffix = "image_tag_suffix", tagsPerImage = "tags_per_image",
             replicasPerTag = "replicas_per_tag", dumpsPerContainer = "dumps_per_container", spanHours = "span_hours",
             startNanoseconds = "start_ns", signalsPerKind = "signals_per_kind"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FleetConfiguration()
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        images = try c.decodeIfPresent([FleetImageKind].self, forKey: .images) ?? d.images
        imageNamePrefix = try c.decodeIfPresent(String.self, forKey: .imageNamePrefix) ?? d.imageNamePrefix
        imageTagSuffix = try c.decodeIfPresent(String.self, forKey: .imageTagSuffix) ?? d.imageTagSuffix
        tagsPerImage = try c.decodeIfPresent(Int.self, forKey: .tagsPerImage) ?? d.tagsPerImage
        replicasPerTag = try c.decodeIfPresent(Int.self, forKey: .replicasPerTag) ?? d.replicasPerTag
        dumpsPerContainer = try c.decodeIfPresent(Int.self, forKey: .dumpsPerContainer) ?? d.dumpsPerContainer
        spanHours = try c.decodeIfPresent(Double.self, forKey: .spanHours) ?? d.spanHours
        startNanoseconds = try c.decodeIfPresent(Int64.self, forKey: .startNanoseconds) ?? d.startNanoseconds
        signalsPerKind = try c.decodeIfPresent(Int.self, forKey: .signalsPerKind) ?? d.signalsPerKind
    }
}
