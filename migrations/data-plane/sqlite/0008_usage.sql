-- The region's usage outbox: every flush of the workers' in-memory usage counters is one batch, written in one
-- statement, shipped to the control plane by id (the idempotency key) and marked acknowledged only after the
-- control plane confirmed it applied that id. Acknowledged batches are kept for a few days as the region's
-- own ledger (for audits and the crash tests), then pruned. Batches span projects: this is the region's
-- bookkeeping, not tenant data, so it is keyed by batch id alone.
CREATE TABLE usage_outbox (
    id BLOB PRIMARY KEY,
    created_at TEXT NOT NULL,
    events INTEGER NOT NULL,
    body TEXT NOT NULL,
    acked_at TEXT
);
CREATE INDEX usage_outbox_pending ON usage_outbox (id) WHERE acked_at IS NULL;
CREATE INDEX usage_outbox_acked ON usage_outbox (acked_at) WHERE acked_at IS NOT NULL;
