//! Test cases and their harness.

mod moto;
mod worker;
