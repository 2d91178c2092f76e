-- The device authorization grant (RFC 8628) of every project homed in this region.
--
-- A device request is what `/oauth2/device/auth` issued: its device code (by HMAC signature) and its user code
-- (by keyed digest; NULL once the request was approved or denied, so live codes are unique per project while
-- finished ones can be drawn again). `state` moves pending -> approved | denied -> redeemed by compare-and-set.
-- `last_polled_at` paces the token endpoint (`slow_down`).
CREATE TABLE oauth2_device_requests (
    project_id BLOB NOT NULL,
    id BLOB NOT NULL,
    client_id TEXT NOT NULL,
    device_code_signature TEXT NOT NULL,
    user_code_digest TEXT,
    state TEXT NOT NULL,
    document TEXT NOT NULL,
    last_polled_at TEXT,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX oauth2_device_requests_device_code ON oauth2_device_requests (project_id, device_code_signature);
CREATE UNIQUE INDEX oauth2_device_requests_user_code ON oauth2_device_requests (project_id, user_code_digest);
CREATE INDEX oauth2_device_requests_expiry ON oauth2_device_requests (expires_at);

-- A browser at `/oauth2/device/verify` without a user code: the device challenge the project's verification
-- UI accepts with the user code it collected (`/admin/oauth2/auth/requests/device/accept`). The verifier is
-- stored as a SHA-256 digest. `state` moves unused -> handled -> done by compare-and-set.
CREATE TABLE oauth2_device_challenges (
    project_id BLOB NOT NULL,
    challenge TEXT NOT NULL,
    state TEXT NOT NULL,
    verifier TEXT,
    csrf_digest TEXT NOT NULL,
    request_url TEXT NOT NULL,
    device_request_id BLOB,
    redirect_to TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (project_id, challenge)
);
CREATE INDEX oauth2_device_challenges_verifier ON oauth2_device_challenges (project_id, verifier);
CREATE INDEX oauth2_device_challenges_expiry ON oauth2_device_challenges (expires_at);
