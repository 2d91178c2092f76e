//! Golden invoice scenarios.
//!
//! Each scenario computes an invoice, compares its JSON byte for byte with `tests/golden/<name>.json`
//! (rewritten when `UPDATE_GOLDEN=1`), and asserts figures computed by hand in comments, so a golden file that
//! merely recorded a wrong rule would still fail.

mod boundaries;
mod drafts;
mod full_month;
mod plan_changes;
mod support;
