-- What the billing jobs (crate `tessera-billing-jobs`) already did, so each is done once.

-- Daily usage exports written to S3: one row per workspace and day, with the manifest that was written last.
CREATE TABLE usage_exports (
    workspace_id BLOB NOT NULL,
    day TEXT NOT NULL,
    manifest TEXT NOT NULL,
    exported_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, day)
);

-- A workspace's Stripe customer and subscription, and the plan the subscription is on.
CREATE TABLE stripe_accounts (
    workspace_id BLOB PRIMARY KEY,
    customer_id TEXT NOT NULL,
    subscription TEXT,
    plan TEXT,
    updated_at TEXT NOT NULL
);

-- The cumulative quantity last reported to Stripe per workspace, period and meter: reports send the period's
-- total (Stripe's `set`), so a retry or a repeat never adds twice, and a report is skipped when nothing changed.
CREATE TABLE stripe_usage_reports (
    workspace_id BLOB NOT NULL,
    period TEXT NOT NULL,
    meter TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, period, meter)
);

-- Frozen invoices reconciled with Stripe's: the outcome per workspace and period.
CREATE TABLE stripe_reconciliations (
    workspace_id BLOB NOT NULL,
    period TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    checked_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, period)
);
