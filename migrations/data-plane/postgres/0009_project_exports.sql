-- Project data exports (GDPR Art. 20) of every project homed in this region: one row per export a project
-- asked for. The data itself goes to S3 (`projects/<project>/<export>/*.jsonl` and `manifest.json`); this row
-- is the job: its state, its progress, and once it succeeded the manifest (sizes, SHA-256, line counts).
--
-- `state` moves running -> succeeded | failed, each by compare-and-set from `running`. At most one export per
-- project runs at a time: the partial unique index refuses a second `running` row, race-free across the
-- region's workers. `updated_at` is the running job's heartbeat (every page, and every few seconds while a
-- part uploads): a job whose worker died stops beating and is marked failed when its project next looks.
CREATE TABLE project_exports (
    project_id UUID NOT NULL,
    id UUID NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
    identities BIGINT NOT NULL DEFAULT 0,
    relationships BIGINT NOT NULL DEFAULT 0,
    clients BIGINT NOT NULL DEFAULT 0,
    manifest TEXT,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX project_exports_one_running ON project_exports (project_id) WHERE state = 'running';
