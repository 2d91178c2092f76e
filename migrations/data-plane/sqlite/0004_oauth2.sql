-- OAuth2 clients and tokens of every project homed in this region. Client secrets and tokens are stored only
-- as keyed digests (see data-plane/oauth2/src/token.rs); client documents are TEXT JSON owned by the engine.

CREATE TABLE oauth2_clients (
    project_id BLOB NOT NULL,
    id TEXT NOT NULL,
    secret_digest TEXT,
    -- Digests of secrets replaced by rotation, still accepted until deleted.
    rotated_secret_digests TEXT NOT NULL,
    document TEXT NOT NULL,
    client_name TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);

-- Access and refresh tokens (and later authorization codes) by their signature. `request_id` groups what one
-- grant issued, so a reused refresh token or a replayed code can revoke the whole chain.
CREATE TABLE oauth2_tokens (
    project_id BLOB NOT NULL,
    signature TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_id BLOB NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    audience TEXT NOT NULL,
    extra TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (project_id, signature)
);
CREATE INDEX oauth2_tokens_client ON oauth2_tokens (project_id, client_id);
CREATE INDEX oauth2_tokens_request ON oauth2_tokens (project_id, request_id);
CREATE INDEX oauth2_tokens_expiry ON oauth2_tokens (expires_at);

-- JSON Web Key sets (Hydra's /admin/keys). The private JWK is stored only sealed (AES-256-GCM under a key derived
-- from the installation's secret), bound to its row through the associated data: project id, set and kid. alg
-- and use are kept in clear for listing and for finding a set's signing key without opening every row.
CREATE TABLE oauth2_jwks (
    project_id BLOB NOT NULL,
    set_id TEXT NOT NULL,
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    use TEXT NOT NULL,
    sealed BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, set_id, kid)
);

-- The jti of every client assertion (private_key_jwt) until it expires, for replay detection. jti holds a digest of
-- the client id and the assertion's jti, so clients never collide and the key has a fixed length.
CREATE TABLE oauth2_jtis (
    project_id BLOB NOT NULL,
    jti TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (project_id, jti)
);
CREATE INDEX oauth2_jtis_expiry ON oauth2_jtis (project_id, expires_at);
