-- Issuers trusted for the JWT-bearer grant (RFC 7523 §2.1): whose assertions, about which subject, with which
-- public key and scopes, until when. The public key is stored as its JWK (it is not a secret).
CREATE TABLE oauth2_trusted_issuers (
    project_id BLOB NOT NULL,
    id BLOB NOT NULL,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    allow_any_subject BOOLEAN NOT NULL,
    scope TEXT NOT NULL,
    kid TEXT NOT NULL,
    jwk TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX oauth2_trusted_issuers_key ON oauth2_trusted_issuers (project_id, issuer, subject, kid);
