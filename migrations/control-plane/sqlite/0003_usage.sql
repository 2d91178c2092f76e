-- Usage metering and billing.

-- Every usage batch a region shipped and that was applied, by its id (the idempotency key). The row is
-- inserted in the same transaction as the batch's aggregates, so a batch id is applied exactly once.
CREATE TABLE usage_batches (
    batch_id BLOB PRIMARY KEY,
    region TEXT NOT NULL,
    events INTEGER NOT NULL,
    applied_at TEXT NOT NULL
);

-- Summed meters per project, UTC day, meter and region.
CREATE TABLE usage_daily (
    project_id BLOB NOT NULL,
    day TEXT NOT NULL,
    meter TEXT NOT NULL,
    region TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, meter, region)
);

-- The exact set of identities active per project and UTC day, merged across regions (a union, so an
-- identity seen in two regions counts once).
CREATE TABLE usage_identities (
    project_id BLOB NOT NULL,
    day TEXT NOT NULL,
    identity TEXT NOT NULL,
    PRIMARY KEY (project_id, day, identity)
);

-- Quota events: a project reached 80 % or 100 % of a hard limit in a billing period; one row per threshold.
CREATE TABLE usage_events (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    project_id BLOB NOT NULL,
    period TEXT NOT NULL,
    meter TEXT NOT NULL,
    threshold INTEGER NOT NULL,
    used INTEGER NOT NULL,
    quota INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (project_id, period, meter, threshold)
);
CREATE INDEX usage_events_workspace ON usage_events (workspace_id, created_at);

-- Meters a project may not use for the rest of a period (over a hard limit); published in its directory record.
CREATE TABLE quota_blocks (
    project_id BLOB NOT NULL,
    period TEXT NOT NULL,
    meter TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, period, meter)
);

-- Every plan a workspace asked for and when; billing derives the effective schedule (upgrades at once,
-- downgrades at the next period) from this history.
CREATE TABLE plan_changes (
    workspace_id BLOB NOT NULL,
    requested_at TEXT NOT NULL,
    plan TEXT NOT NULL,
    PRIMARY KEY (workspace_id, requested_at)
);
INSERT INTO plan_changes (workspace_id, requested_at, plan) SELECT id, created_at, subscription_plan FROM workspaces;

-- Final invoices, frozen once a period closed (drafts are computed on request and never stored).
CREATE TABLE invoices (
    workspace_id BLOB NOT NULL,
    period TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    body TEXT NOT NULL,
    finalized_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, period)
);
