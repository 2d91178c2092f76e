-- Identities, their credentials and addresses, sessions, self-service flows and errors of every project
-- homed in this region, and the region's identity invalidation feed (which keeps whoami caches coherent).
-- JSON documents are stored as TEXT on both backends: the engine owns their shape, the database never
-- queries inside them.

CREATE TABLE identities (
    project_id BLOB NOT NULL,
    id BLOB NOT NULL,
    schema_id TEXT NOT NULL,
    state TEXT NOT NULL,
    state_changed_at TEXT,
    traits TEXT NOT NULL,
    metadata_public TEXT,
    metadata_admin TEXT,
    external_id TEXT,
    organization_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX identities_external_id ON identities (project_id, external_id) WHERE external_id IS NOT NULL;

-- One row per credential kind an identity has (password, later totp, webauthn, ...); `config` is the
-- kind's own JSON (for passwords: the hash).
CREATE TABLE identity_credentials (
    project_id BLOB NOT NULL,
    identity_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, identity_id, kind)
);

-- The identifiers a credential is found by; unique per project and kind, which is what makes two accounts
-- with the same email impossible.
CREATE TABLE identity_identifiers (
    project_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    identifier TEXT NOT NULL,
    identity_id BLOB NOT NULL,
    PRIMARY KEY (project_id, kind, identifier)
);
CREATE INDEX identity_identifiers_by_identity ON identity_identifiers (project_id, identity_id);

-- Verifiable (purpose 'verify') and recovery (purpose 'recover') addresses.
CREATE TABLE identity_addresses (
    project_id BLOB NOT NULL,
    id BLOB NOT NULL,
    identity_id BLOB NOT NULL,
    purpose TEXT NOT NULL,
    via TEXT NOT NULL,
    value TEXT NOT NULL,
    verified INTEGER NOT NULL,
    status TEXT NOT NULL,
    verified_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX identity_addresses_unique ON identity_addresses (project_id, purpose, via, value);
CREATE INDEX identity_addresses_by_identity ON identity_addresses (project_id, identity_id);

-- Sessions. Tokens are stored only as SHA-256 digests; `token_hash` is unique region-wide, and every lookup
-- also binds the project so a token never works at another project's host.
CREATE TABLE sessions (
    project_id BLOB NOT NULL,
    id BLOB NOT NULL,
    identity_id BLOB NOT NULL,
    token_hash TEXT NOT NULL,
    logout_token_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    aal TEXT NOT NULL,
    methods TEXT NOT NULL,
    devices TEXT NOT NULL,
    authenticated_at TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX sessions_by_token ON sessions (token_hash);
CREATE INDEX sessions_by_identity ON sessions (project_id, identity_id);
CREATE INDEX sessions_by_created ON sessions (project_id, created_at, id);

-- Self-service flows (login, registration, settings). The flow document is what the API returns; the
-- columns are what the engine looks up or checks without parsing it.
CREATE TABLE selfservice_flows (
    project_id BLOB NOT NULL,
    id BLOB NOT NULL,
    kind TEXT NOT NULL,
    flow_type TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    identity_id BLOB,
    document TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX selfservice_flows_by_expiry ON selfservice_flows (expires_at);

-- Errors shown to browsers through the project's error page (`/self-service/errors?id=`).
CREATE TABLE selfservice_errors (
    project_id BLOB NOT NULL,
    id BLOB NOT NULL,
    error TEXT NOT NULL,
    seen INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);

-- What cached sessions a write made stale: a session (revoked or extended) or every session of an identity
-- (identity changed or deleted). Writers take the head row's lock, so the sequence is the commit order and a
-- follower that has read up to N has seen every invalidation before N.
CREATE TABLE identity_invalidations (
    seq INTEGER NOT NULL PRIMARY KEY,
    project_id BLOB NOT NULL,
    session_id BLOB,
    identity_id BLOB,
    created_at TEXT NOT NULL
);

CREATE TABLE identity_invalidation_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO identity_invalidation_head (id, seq) VALUES (1, 0);
