//! The permission engine: Zanzibar-style relationships with Ory Keto's API and the Ory Permission Language.

pub mod api;
pub mod engine;
pub mod index;
pub mod service;
pub mod store;
pub mod tuple;
