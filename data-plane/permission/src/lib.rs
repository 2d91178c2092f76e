//! The permission engine: Zanzibar-style relationships with Ory Keto's API and the Ory Permission Language.

pub mod engine;
pub mod index;
pub mod tuple;
