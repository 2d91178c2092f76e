//! The harness that starts the real stack on ephemeral ports.
//!
//! Tests use [`stack`] to get a control plane on port 0 over a fresh database; `tessera dev` uses [`dev`],
//! which runs the same code over a persistent SQLite directory and seeds a demo workspace. Because the dev
//! command reuses the harness, the dev stack is exercised by every test run.

pub mod bench;
pub mod datasets;
pub mod dev;
pub mod stack;
