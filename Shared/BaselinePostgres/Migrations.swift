/// The schema, as ordered migrations. Never edit an applied migration: add a new one.
/// The tables are documented in docs/storage.md.
public enum Migrations {
    public static let all: [Migration] = [initial, views, profileModel, modelViews, overridesAndEstimates, suppressions, openBitsAndMoreTypes, anomalyOutbox,
                                           detectionTrust, suggestionOutbox, profileAPI, anomalyLearning, apiIndexes, importedVersions,
                                           nodeRowsUpdatedInPlace, dumpIDsPerWorkload]

    static let initial = Migration(version: 1, name: "profiles, versions, merged dumps, consumer offsets", statements: [
        """
        CREATE TABLE profiles (
            profile_key text PRIMARY KEY,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            revision bigint NOT NULL DEFAULT 0)
        """,
        """
        CREATE TABLE profile_versions (
            profile_key text NOT NULL REFERENCES profiles ON DELETE CASCADE,
            image_tag text NOT NULL,
            dumps_merged bigint NOT NULL DEFAULT 0,
            instances bigint NOT NULL DEFAULT 0,
            first_seen timestamptz NOT NULL,
            last_seen timestamptz NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (profile_key, image_tag))
        """,
        """
        CREATE TABLE merged_dumps (
            dump_id text PRIMARY KEY,
            profile_key text NOT NULL,
            image_tag text NOT NULL,
            instance_id text NOT NULL,
            host text,
            service text,
            dump_start timestamptz,
            dump_end timestamptz,
            node_count integer NOT NULL DEFAULT 0,
            new_nodes integer NOT NULL DEFAULT 0,
            source_topic text NOT NULL,
            source_partition integer NOT NULL,
            source_offset bigint NOT NULL,
            merged_at timestamptz NOT NULL DEFAULT now())
        """,
        "CREATE INDEX merged_dumps_profile ON merged_dumps (profile_key, image_tag, merged_at)",
        "CREATE INDEX merged_dumps_instance ON merged_dumps (instance_id)",
        """
        CREATE TABLE consumer_offsets (
            consumer_group text NOT NULL,
            topic text NOT NULL,
            partition integer NOT NULL,
            next_offset bigint NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer_group, topic, partition))
        """,
    ])

    static let views = Migration(version: 2, name: "profile_summary and profile_history views", statements: [
        """
        CREATE VIEW profile_summary AS
        SELECT v.profile_key AS image_name, v.image_tag, v.dumps_merged, v.instances,
               v.first_seen, v.last_seen AS last_updated, p.revision
        FROM profile_versions v JOIN profiles p USING (profile_key)
        """,
        """
        CREATE VIEW profile_history AS
        SELECT d.merged_at AS at, d.profile_key AS image_name, d.image_tag, 'dump_merged'::text AS event,
               d.dump_id AS detail, d.instance_id
        FROM merged_dumps d
        """,
    ])

    static let profileModel = Migration(version: 3, name: "profile model: instances, nodes, event-type states, transitions, anomalies", statements: [
        "ALTER TABLE profile_versions ADD COLUMN nodes integer NOT NULL DEFAULT 0",
        "ALTER TABLE profile_versions ADD COLUMN commonality double precision NOT NULL DEFAULT 0",
        "ALTER TABLE profile_versions ADD COLUMN state text NOT NULL DEFAULT 'learning'",
        """
        CREATE TABLE profile_instances (
            profile_key text NOT NULL,
            image_tag text NOT NULL,
            ordinal integer NOT NULL,
            instance_id text NOT NULL,
            first_seen_ns bigint NOT NULL,
            last_seen_ns bigint NOT NULL,
            PRIMARY KEY (profile_key, image_tag, ordinal),
            FOREIGN KEY (profile_key, image_tag) REFERENCES profile_versions ON DELETE CASCADE)
        """,
        """
        CREATE TABLE profile_nodes (
            profile_key text NOT NULL,
            image_tag text NOT NULL,
            event_type text NOT NULL,
            node_key text NOT NULL,
            dumps integer NOT NULL,
            instances integer NOT NULL,
            instance_ordinals integer[] NOT NULL,
            first_seen_ns bigint NOT NULL,
            last_seen_ns bigint NOT NULL,
            PRIMARY KEY (profile_key, image_tag, event_type, node_key),
            FOREIGN KEY (profile_key, image_tag) REFERENCES profile_versions ON DELETE CASCADE)
        """,
        """
        CREATE TABLE profile_event_types (
            profile_key text NOT NULL,
            image_tag text NOT NULL,
            event_type text NOT NULL,
            state text NOT NULL,
            learning_since_ns bigint NOT NULL,
            last_new_node_ns bigint NOT NULL,
            nodes integer NOT NULL,
            q1 integer NOT NULL,
            q2 integer NOT NULL,
            incidences bigint NOT NULL,
            coverage double precision NOT NULL,
            novelty double precision NOT NULL,
            commonality double precision NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (profile_key, image_tag, event_type),
            FOREIGN KEY (profile_key, image_tag) REFERENCES profile_versions ON DELETE CASCADE)
        """,
        """
        CREATE TABLE state_transitions (
            id bigserial PRIMARY KEY,
            profile_key text NOT NULL,
            image_tag text NOT NULL,
            event_type text NOT NULL,
            from_state text NOT NULL,
            to_state text NOT NULL,
            at_ns bigint NOT NULL,
            reason text NOT NULL,
            evidence jsonb NOT NULL,
            dump_id text NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now())
        """,
        "CREATE INDEX state_transitions_profile ON state_transitions (profile_key, image_tag, at_ns)",
        """
        CREATE TABLE anomalies (
            anomaly_id text PRIMARY KEY,
            profile_key text NOT NULL,
            image_tag text NOT NULL,
            event_type text NOT NULL,
            node_key text NOT NULL,
            dump_id text NOT NULL,
            instance_id text NOT NULL,
            at_ns bigint NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'dismissed')),
            published boolean NOT NULL DEFAULT false,
            recorded_at timestamptz NOT NULL DEFAULT now())
        """,
        "CREATE INDEX anomalies_profile ON anomalies (profile_key, image_tag, status)",
    ])

    static let modelViews = Migration(version: 4, name: "profile_summary and profile_history with states and commonality", statements: [
        "DROP VIEW profile_summary",
        "DROP VIEW profile_history",
        """
        CREATE VIEW profile_summary AS
        SELECT v.profile_key AS image_name, v.image_tag, v.dumps_merged, v.instances, v.nodes,
               v.state,
               max(e.state) FILTER (WHERE e.event_type = 'exec') AS exec_state,
               max(e.state) FILTER (WHERE e.event_type = 'file') AS file_state,
               max(e.state) FILTER (WHERE e.event_type = 'dns') AS dns_state,
               max(e.state) FILTER (WHERE e.event_type = 'network') AS network_state,
               round(v.commonality::numeric, 4) AS commonality,
               round(min(e.coverage)::numeric, 4) AS min_coverage,
               (SELECT count(*) FROM anomalies a WHERE a.profile_key = v.profile_key AND a.image_tag = v.image_tag
                                                   AND a.status = 'pending') AS pending_anomalies,
               v.first_seen, v.last_seen AS last_updated, p.revision
        FROM profile_versions v
        JOIN profiles p USING (profile_key)
        LEFT JOIN profile_event_types e ON e.profile_key = v.profile_key AND e.image_tag = v.image_tag
        GROUP BY v.profile_key, v.image_tag, p.revision
        """,
        """
        CREATE VIEW profile_history AS
        SELECT d.merged_at AS at, d.profile_key AS image_name, d.image_tag, 'dump_merged'::text AS event,
               NULL::text AS event_type, d.dump_id,
               format('dump %s from %s: %s nodes, %s new', d.dump_id, d.instance_id, d.node_count, d.new_nodes) AS detail
        FROM merged_dumps d
        UNION ALL
        SELECT t.recorded_at, t.profile_key, t.image_tag, 'state_' || t.to_state, t.event_type, t.dump_id,
               t.from_state || ' -> ' || t.to_state || ': ' || t.reason
        FROM state_transitions t
        UNION ALL
        SELECT a.recorded_at, a.profile_key, a.image_tag, 'anomaly', a.event_type, a.dump_id,
               a.status || ': ' || a.node_key || ' (instance ' || a.instance_id || ')'
        FROM anomalies a
        """,
    ])

    static let overridesAndEstimates = Migration(version: 5, name: "per-profile overrides, time-to-stable estimates, warm-up flag", statements: [
        """
        CREATE TABLE profile_overrides (
            profile_key text PRIMARY KEY,
            max_novelty double precision,
            min_dumps integer,
            min_instances integer,
            min_quiet_seconds bigint,
            max_learning_seconds bigint,
            node_cap integer,
            updated_at timestamptz NOT NULL DEFAULT now())
        """,
        "ALTER TABLE profile_event_types ADD COLUMN unseen_estimate double precision NOT NULL DEFAULT 0",
        "ALTER TABLE profile_event_types ADD COLUMN dumps_to_stable integer",
        "ALTER TABLE profile_event_types ADD COLUMN eta_seconds bigint",
        "ALTER TABLE merged_dumps ADD COLUMN warming_up boolean NOT NULL DEFAULT false",
    ])

    static let suppressions = Migration(version: 6, name: "suppression suggestions and suppressions", statements: [
        """
        CREATE TABLE suppression_suggestions (
            suggestion_id text PRIMARY KEY,
            rule_id text NOT NULL,
            profile_key text NOT NULL,
            image_tag text NOT NULL,
            event_type text NOT NULL,
            node_key text NOT NULL,
            query text NOT NULL,
            evidence jsonb NOT NULL,
            status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'dismissed')),
            created_at timestamptz NOT NULL DEFAULT now(),
            decided_at timestamptz,
            decided_by text)
        """,
        "CREATE INDEX suppression_suggestions_profile ON suppression_suggestions (profile_key, status)",
        """
        CREATE TABLE suppressions (
            suppression_id text PRIMARY KEY,
            suggestion_id text REFERENCES suppression_suggestions,
            rule_id text NOT NULL,
            profile_key text NOT NULL,
            event_type text NOT NULL,
            node_key text NOT NULL,
            query text NOT NULL,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            active boolean NOT NULL DEFAULT true,
            hits bigint NOT NULL DEFAULT 0,
            last_hit_at timestamptz,
            UNIQUE (rule_id, profile_key, event_type, node_key))
        """,
        "CREATE INDEX profile_instances_instance ON profile_instances (instance_id)",
    ])

    static let openBitsAndMoreTypes = Migration(version: 7, name: "open flags/modes on file nodes; syscall and capability states in profile_summary", statements: [
        "ALTER TABLE profile_nodes ADD COLUMN open_flags bigint NOT NULL DEFAULT 0",
        "ALTER TABLE profile_nodes ADD COLUMN open_mode bigint NOT NULL DEFAULT 0",
        "DROP VIEW profile_summary",
        """
        CREATE VIEW profile_summary AS
        SELECT v.profile_key AS image_name, v.image_tag, v.dumps_merged, v.instances, v.nodes,
               v.state,
               max(e.state) FILTER (WHERE e.event_type = 'exec') AS exec_state,
               max(e.state) FILTER (WHERE e.event_type = 'file') AS file_state,
               max(e.state) FILTER (WHERE e.event_type = 'dns') AS dns_state,
               max(e.state) FILTER (WHERE e.event_type = 'network') AS network_state,
               max(e.state) FILTER (WHERE e.event_type = 'syscall') AS syscall_state,
               max(e.state) FILTER (WHERE e.event_type = 'capability') AS capability_state,
               round(v.commonality::numeric, 4) AS commonality,
               round(min(e.coverage)::numeric, 4) AS min_coverage,
               (SELECT count(*) FROM anomalies a WHERE a.profile_key = v.profile_key AND a.image_tag = v.image_tag
                                                   AND a.status = 'pending') AS pending_anomalies,
               v.first_seen, v.last_seen AS last_updated, p.revision
        FROM profile_versions v
        JOIN profiles p USING (profile_key)
        LEFT JOIN profile_event_types e ON e.profile_key = v.profile_key AND e.image_tag = v.image_tag
        GROUP BY v.profile_key, v.image_tag, p.revision
        """,
    ])

    static let anomalyOutbox = Migration(version: 8, name: "anomalies: rate-limited flag (outbox for publication)", statements: [
        "ALTER TABLE anomalies ADD COLUMN rate_limited boolean NOT NULL DEFAULT false",
        "CREATE INDEX anomalies_unpublished ON anomalies (recorded_at) WHERE NOT published AND NOT rate_limited",
    ])

    static let detectionTrust = Migration(version: 9, name: "mined patterns flagged, differentiate_args per version, broker first-seen per instance, stable-since per type, clock transitions", statements: [
        // Patterns stored before this migration stay plain nodes (matched only literally): the old
        // miner could produce bare `*` patterns, which must not start matching again.
        "ALTER TABLE profile_nodes ADD COLUMN is_pattern boolean NOT NULL DEFAULT false",
        "ALTER TABLE profile_versions ADD COLUMN differentiate_args boolean NOT NULL DEFAULT false",
        "ALTER TABLE profile_instances ADD COLUMN first_received_ns bigint",
        // Instances from before: their first sighting is long past (no warm-up after the upgrade).
        "UPDATE profile_instances SET first_received_ns = first_seen_ns",
        "ALTER TABLE profile_event_types ADD COLUMN stable_since_ns bigint",
        "UPDATE profile_event_types SET stable_since_ns = learning_since_ns WHERE state = 'stable'",
        // Transitions made by the clock sweep belong to no dump.
        "ALTER TABLE state_transitions ALTER COLUMN dump_id DROP NOT NULL",
        // When a version last merged a dump (clock ticks do not count): eviction and "latest tag" order.
        "ALTER TABLE profile_versions ADD COLUMN last_dump_at timestamptz",
        "UPDATE profile_versions SET last_dump_at = last_seen",
        "ALTER TABLE profile_versions ALTER COLUMN last_dump_at SET DEFAULT now()",
        "ALTER TABLE profile_versions ALTER COLUMN last_dump_at SET NOT NULL",
        // One row per periodic job: the instance that moves `last_at` forward runs it this round.
        "CREATE TABLE clock_sweeps (name text PRIMARY KEY, last_at timestamptz NOT NULL)",
    ])

    static let suggestionOutbox = Migration(version: 10, name: "suppression suggestions as an outbox (published flag, message)", statements: [
        // Published once the broker acknowledged them; rows from before were.
        "ALTER TABLE suppression_suggestions ADD COLUMN published boolean NOT NULL DEFAULT true",
        "ALTER TABLE suppression_suggestions ALTER COLUMN published SET DEFAULT false",
        "ALTER TABLE suppression_suggestions ADD COLUMN message jsonb",
        "CREATE INDEX suppression_suggestions_unpublished ON suppression_suggestions (created_at) WHERE NOT published",
    ])

    static let profileAPI = Migration(version: 11, name: "profile-api: workload tags on dumps, audit fields, override history, per-profile signal aggregates", statements: [
        // Tags of the workload, for `key:value` filters (cluster and namespace were decoded but not kept).
        "ALTER TABLE merged_dumps ADD COLUMN cluster text",
        "ALTER TABLE merged_dumps ADD COLUMN namespace text",
        // The version's commonality right after the dump merged: the commonality-over-time series.
        "ALTER TABLE merged_dumps ADD COLUMN version_commonality double precision",
        // Who decided an anomaly, and whether profile-merger has learned an accepted one.
        "ALTER TABLE anomalies ADD COLUMN decided_by text",
        "ALTER TABLE anomalies ADD COLUMN decided_at timestamptz",
        "ALTER TABLE anomalies ADD COLUMN learned_at timestamptz",
        "CREATE INDEX anomalies_to_learn ON anomalies (decided_at) WHERE status = 'accepted' AND learned_at IS NULL",
        "ALTER TABLE suppressions ADD COLUMN changed_by text",
        "ALTER TABLE suppressions ADD COLUMN changed_at timestamptz",
        "ALTER TABLE profile_overrides ADD COLUMN updated_by text",
        """
        CREATE TABLE override_changes (
            id bigserial PRIMARY KEY,
            profile_key text NOT NULL,
            overrides jsonb NOT NULL,
            changed_by text NOT NULL,
            changed_at timestamptz NOT NULL DEFAULT now())
        """,
        "CREATE INDEX override_changes_profile ON override_changes (profile_key, changed_at)",
        // Bounded per-profile aggregates of the signals signal-enricher saw (never one row per signal).
        """
        CREATE TABLE profile_signals (
            profile_key text NOT NULL,
            image_tag text NOT NULL,
            rule_id text NOT NULL,
            event_type text NOT NULL,
            node_key text NOT NULL,
            match text NOT NULL,
            signals bigint NOT NULL DEFAULT 0,
            suppressed bigint NOT NULL DEFAULT 0,
            anomalous bigint NOT NULL DEFAULT 0,
            suggestion_id text,
            first_seen timestamptz NOT NULL,
            last_seen timestamptz NOT NULL,
            last_enrichment jsonb NOT NULL,
            PRIMARY KEY (profile_key, image_tag, rule_id, event_type, node_key))
        """,
        "CREATE INDEX profile_signals_recent ON profile_signals (profile_key, image_tag, last_seen DESC)",
    ])

    static let anomalyLearning = Migration(version: 12, name: "accepted anomalies: when profile-merger was last asked to learn them", statements: [
        "ALTER TABLE anomalies ADD COLUMN learn_sent_at timestamptz",
    ])

    static let apiIndexes = Migration(version: 13, name: "profile-api: indexes for its newest-first lists; anomalies accepted before v11 count as learned", statements: [
        // Accepted by hand before the API existed (no decision time): not learned into profiles on upgrade.
        "UPDATE anomalies SET learned_at = now() WHERE status = 'accepted' AND decided_at IS NULL AND learned_at IS NULL",
        "CREATE INDEX anomalies_by_version_time ON anomalies (profile_key, image_tag, recorded_at DESC, anomaly_id DESC)",
        "CREATE INDEX anomalies_by_status_time ON anomalies (status, recorded_at DESC, anomaly_id DESC)",
        "CREATE INDEX state_transitions_by_time ON state_transitions (profile_key, image_tag, recorded_at DESC)",
        "CREATE INDEX merged_dumps_by_time ON merged_dumps (profile_key, image_tag, merged_at DESC, dump_id DESC)",
        "CREATE INDEX profile_signals_by_time ON profile_signals (profile_key, image_tag, last_seen DESC, rule_id, event_type, node_key)",
    ])

    static let importedVersions = Migration(version: 14, name: "imported versions: who imported them and when", statements: [
        "ALTER TABLE profile_versions ADD COLUMN imported_by text",
        "ALTER TABLE profile_versions ADD COLUMN imported_at timestamptz",
    ])

    /// Every merge rewrites the row of each node its dumps showed (counts, last seen). With full
    /// pages each new row version moved to another page and took a new index entry: `baseline
    /// bench` measured 96 % of updates so, and the table at several times its live size. Half-empty
    /// pages keep a row's new version on its own page (a HOT update, no index entry; pruned on the
    /// next visit), so the size stays flat however often the same workload merges. New pages only;
    /// existing tables come down on their next VACUUM FULL or rewrite.
    static let nodeRowsUpdatedInPlace = Migration(version: 15, name: "profile_nodes: fillfactor 50, so updates of a node's statistics stay on its page", statements: [
        "ALTER TABLE profile_nodes SET (fillfactor = 50)",
    ])

    /// A dump id is the agent's word (or a content hash): unique within one workload, not across
    /// tenants. Keyed by the id alone, a dump sent first under another workload with a victim's
    /// future id made the victim's real dump a "replay" and it was skipped. The key is now the
    /// version and the id. The unique index is built while merges wait (a SHARE lock: reads go on;
    /// about 3 s per million rows); dropping the old key and adopting the index as the new one take
    /// ACCESS EXCLUSIVE locks for a few seconds at most (waited for within lock_timeout).
    static let dumpIDsPerWorkload = Migration(version: 16, name: "merged_dumps: a dump id is unique within its version, not globally", statements: [
        "CREATE UNIQUE INDEX merged_dumps_version_dump ON merged_dumps (profile_key, image_tag, dump_id)",
        "ALTER TABLE merged_dumps DROP CONSTRAINT merged_dumps_pkey",
        "ALTER TABLE merged_dumps ADD CONSTRAINT merged_dumps_pkey PRIMARY KEY USING INDEX merged_dumps_version_dump",
    ])
}
