-- Relationships (relation tuples) of every project homed in this region, and the region's change feed.

-- A subject is either an id (subject_kind 0; the subject_set_* columns are empty) or a subject set
-- (subject_kind 1; subject_id is empty). Empty strings are legal ids, so emptiness never means "absent".
CREATE TABLE relation_tuples (
    project_id UUID NOT NULL,
    -- SHA-256 of the length-prefixed fields: the tuple's identity, so long ids never hit index size limits.
    tuple_hash BYTEA NOT NULL,
    -- The region sequence number of the write that created it; lists are in this order.
    seq BIGINT NOT NULL,
    namespace TEXT NOT NULL,
    object TEXT NOT NULL,
    relation TEXT NOT NULL,
    subject_kind SMALLINT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_set_namespace TEXT NOT NULL,
    subject_set_object TEXT NOT NULL,
    subject_set_relation TEXT NOT NULL,
    PRIMARY KEY (project_id, tuple_hash)
);
CREATE INDEX relation_tuples_by_seq ON relation_tuples (project_id, seq);
CREATE INDEX relation_tuples_by_object ON relation_tuples (project_id, namespace, object, relation);

-- Every insert and delete, in one region-wide order. Workers follow it to keep their in-memory indexes
-- coherent with writes made by other workers; consistency tokens are positions in it.
CREATE TABLE permission_changes (
    project_id UUID NOT NULL,
    seq BIGINT NOT NULL,
    inserted BOOLEAN NOT NULL,
    namespace TEXT NOT NULL,
    object TEXT NOT NULL,
    relation TEXT NOT NULL,
    subject_kind SMALLINT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_set_namespace TEXT NOT NULL,
    subject_set_object TEXT NOT NULL,
    subject_set_relation TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, seq)
);
-- The feed is read across projects by the index maintainer (the one reader that is not tenant-scoped).
CREATE INDEX permission_changes_feed ON permission_changes (seq);

-- The last sequence number handed out; writers take its row lock, so commit order equals sequence order.
CREATE TABLE permission_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO permission_head (id, seq) VALUES (1, 0);
