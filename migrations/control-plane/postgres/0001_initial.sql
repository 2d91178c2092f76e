-- The control plane's global schema: workspaces, projects, config revisions, members and API keys.
-- Ids are UUIDv7 (time-ordered); lists page by id.

CREATE TABLE accounts (
    id UUID PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE workspaces (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    access_policy TEXT NULL,
    subscription_plan TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE projects (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    environment TEXT NOT NULL CHECK (environment IN ('prod', 'stage', 'dev')),
    home_region TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'halted', 'deleted')),
    -- The current revision; not a foreign key because the revision row references the project.
    revision_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX projects_by_workspace ON projects (workspace_id, id);

CREATE TABLE project_revisions (
    project_id UUID NOT NULL REFERENCES projects (id),
    id UUID NOT NULL,
    -- The settings exactly as written (JSON text, key order kept).
    settings TEXT NOT NULL,
    -- The typed configuration with defaults, what the engines run on (JSON text).
    rendered TEXT NOT NULL,
    -- JSON array of {code, message}.
    warnings TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, id)
);

CREATE TABLE project_members (
    project_id UUID NOT NULL REFERENCES projects (id),
    account_id UUID NOT NULL REFERENCES accounts (id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'developer', 'viewer')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, account_id)
);

CREATE TABLE api_keys (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces (id),
    -- NULL for a workspace key.
    project_id UUID NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    owner_id UUID NOT NULL,
    -- SHA-256 of the key, hex; the key itself is never stored.
    secret_hash TEXT NOT NULL UNIQUE,
    last_characters TEXT NOT NULL,
    expires_at TIMESTAMPTZ NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX api_keys_by_scope ON api_keys (workspace_id, project_id, id);
