/// The schema, as ordered migrations. Never edit an applied migration: add a new one.
/// The tables are documented in docs/storage.md.
public enum Migrations {
    public static let all: [Migration] = [initial, views]

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
}
