-- The directory: every change a region must know, in one totally ordered log.

-- One row holding the last sequence number. Appenders increment it in their transaction; its row lock makes
-- commit order equal sequence order, so a reader that has seen seq N has seen everything before N.
CREATE TABLE directory_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO directory_head (id, seq) VALUES (1, 0);

-- Each entry carries the project's whole record (JSON text), so applying it is a replacement.
CREATE TABLE directory_log (
    seq BIGINT PRIMARY KEY,
    project_id UUID NOT NULL,
    record TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- The newest record of every project, for snapshots.
CREATE TABLE directory_records (
    project_id UUID PRIMARY KEY,
    seq BIGINT NOT NULL,
    record TEXT NOT NULL
);

-- Public halves of the keys regions sign their tokens with.
CREATE TABLE region_keys (
    id UUID PRIMARY KEY,
    region TEXT NOT NULL,
    public_key BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NULL
);

CREATE TABLE custom_domains (
    project_id UUID NOT NULL REFERENCES projects (id),
    id UUID NOT NULL,
    hostname TEXT NOT NULL UNIQUE,
    verification_token TEXT NOT NULL,
    verified_at TIMESTAMPTZ NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, id)
);
