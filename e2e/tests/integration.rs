//! End-to-end tests: the real control plane on an ephemeral port, one fresh database per test,
//! on SQLite always and on Postgres when `DATABASE_URL` is set.
mod cases;
