-- The authorization-code flow of every project homed in this region: one row per /oauth2/auth request,
-- carried through Hydra's login and consent challenges; the browser's login sessions (remembered logins);
-- and remembered consents. Verifiers are stored as SHA-256 digests; flow state is TEXT JSON owned by the engine.

CREATE TABLE oauth2_flows (
    project_id UUID NOT NULL,
    id UUID NOT NULL,
    state TEXT NOT NULL,
    login_challenge TEXT NOT NULL,
    login_verifier TEXT,
    consent_challenge TEXT,
    consent_verifier TEXT,
    document TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX oauth2_flows_login_challenge ON oauth2_flows (project_id, login_challenge);
CREATE UNIQUE INDEX oauth2_flows_consent_challenge ON oauth2_flows (project_id, consent_challenge);
CREATE INDEX oauth2_flows_login_verifier ON oauth2_flows (project_id, login_verifier);
CREATE INDEX oauth2_flows_consent_verifier ON oauth2_flows (project_id, consent_verifier);
CREATE INDEX oauth2_flows_expiry ON oauth2_flows (expires_at);

-- A browser's authentication at this project's OAuth2 provider (Hydra's login session, `sid`).
CREATE TABLE oauth2_login_sessions (
    project_id UUID NOT NULL,
    id TEXT NOT NULL,
    subject TEXT NOT NULL,
    remember BOOLEAN NOT NULL,
    authenticated_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    active BOOLEAN NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX oauth2_login_sessions_subject ON oauth2_login_sessions (project_id, subject);

-- Consents a subject gave a client (remembered ones make the next consent request `skip`).
CREATE TABLE oauth2_consents (
    project_id UUID NOT NULL,
    flow_id UUID NOT NULL,
    subject TEXT NOT NULL,
    client_id TEXT NOT NULL,
    login_session_id TEXT NOT NULL,
    remember BOOLEAN NOT NULL,
    document TEXT NOT NULL,
    handled_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    active BOOLEAN NOT NULL,
    PRIMARY KEY (project_id, flow_id)
);
CREATE INDEX oauth2_consents_subject ON oauth2_consents (project_id, subject, client_id);

-- Logout requests (RP-initiated or not) on their way through the project's logout app.
CREATE TABLE oauth2_logout_requests (
    project_id UUID NOT NULL,
    challenge TEXT NOT NULL,
    verifier TEXT,
    state TEXT NOT NULL,
    document TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, challenge)
);
CREATE INDEX oauth2_logout_requests_verifier ON oauth2_logout_requests (project_id, verifier);
