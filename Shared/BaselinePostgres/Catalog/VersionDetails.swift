import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// One event type of a version: its state, why, and how far from stable.
public struct EventTypeDetail: Codable, Sendable {
    public var eventType: String
    public var state: String
    public var nodes: Int64
    public var coverage: Double
    public var novelty: Double
    public var commonality: Double
    public var unseenEstimate: Double
    public var learningSince: Date?
    public var stableSince: Date?
    public var lastNewNode: Date?
    /// Seconds from learning start to stable, once stable.
    public var timeToStableSeconds: Int64?
    /// While learning: dumps and seconds still needed at the observed rate, when estimable.
    public var dumpsToStable: Int64?
    public var etaSeconds: Int64?
    /// The last transition's reason and evidence (why the type is in this state).
    public var reason: String?
    public var evidence: JSONValue?
}

/// A version with everything the profile page shows at the top.
public struct VersionDetail: Codable, Sendable {
    public var imageName: String
    public var imageTag: String
    public var state: String
    public var dumpsMerged: Int64
    public var instances: Int64
    public var nodes: Int64
    public var commonality: Double
    public var differentiateArgs: Bool
    public var firstSeen: Date
    public var lastUpdated: Date
    public var revision: Int64
    public var pendingAnomalies: Int64
    public var eventTypes: [EventTypeDetail]
    public var overrides: OverrideSettings
}

extension ProfileListing {
    public func version(image: String, tag: String) async throws -> VersionDetail {
        var header: VersionDetail?
        for try await (state, dumps, instances, nodes, commonality, args, first, last, revision, pending) in try await client.query("""
            SELECT v.state, v.dumps_merged, v.instances, v.nodes::int8, v.commonality, v.differentiate_args, v.first_seen, v.last_seen,
                   p.revision,
                   (SELECT count(*) FROM anomalies a WHERE a.profile_key = v.profile_key AND a.image_tag = v.image_tag AND a.status = 'pending')
            FROM profile_versions v JOIN profiles p USING (profile_key)
            WHERE v.profile_key = \(image) AND v.image_tag = \(tag)
            """, logger: logger).decode((String, Int64, Int64, Int64, Double, Bool, Date, Date, Int64, Int64).self) {
            header = VersionDetail(imageName: image, imageTag: tag, state: state, dumpsMerged: dumps, instances: instances, nodes: nodes,
                                   commonality: Catalog.round4(commonality), differentiateArgs: args, firstSeen: first, lastUpdated: last,
                                   revision: revision, pendingAnomalies: pending, eventTypes: [], overrides: OverrideSettings())
        }
        guard var detail = header else { throw CatalogError.notFound("no profile version \(image):\(tag)") }
        for try await row in try await client.query("""
            SELECT e.event_type, e.state, e.nodes::int8, e.coverage, e.novelty, e.commonality, e.unseen_estimate, e.learning_since_ns,
                   e.stable_since_ns, e.last_new_node_ns, e.dumps_to_stable::int8, e.eta_seconds, t.reason, t.evidence::text
            FROM profile_event_types e
            LEFT JOIN LATERAL (SELECT reason, evidence FROM state_transitions s
                               WHERE s.profile_key = e.profile_key AND s.image_tag = e.image_tag AND s.event_type = e.event_type
                               ORDER BY s.id DESC LIMIT 1) t ON true
            WHERE e.profile_key = \(image) AND e.image_tag = \(tag)
            ORDER BY e.event_type
            """, logger: logger).decode((String, String, Int64, Double, Double, Double, Double, Int64, Int64?, Int64, Int64?, Int64?,
                                         String?, String?).self) {
            let (type, state, nodes, coverage, novelty, commonality, unseen, since, stableSince, lastNew, dumpsToStable, eta, reason, evidence) = row
            detail.eventTypes.append(EventTypeDetail(
                eventType: type, state: state, nodes: nodes, coverage: Catalog.round4(coverage), novelty: Catalog.round4(novelty),
                commonality: Catalog.round4(commonality), unseenEstimate: Catalog.round4(unseen),
                learningSince: Catalog.date(ns: since), stableSince: Catalog.date(ns: stableSince), lastNewNode: Catalog.date(ns: lastNew),
                timeToStableSeconds: stableSince.map { max(0, $0.saturatingSubtracting(since) / 1_000_000_000) },
                dumpsToStable: dumpsToStable, etaSeconds: eta, reason: reason, evidence: evidence.map(JSONValue.parse)))
        }
        detail.overrides = try await OverrideStore(client: client, logger: logger).get(profileKey: image).settings
        return detail
    }
}
