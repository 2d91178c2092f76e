//! The identity engine: identities, sessions and self-service flows with Ory Kratos's API.

pub mod api;
pub mod error;
pub mod flows;
pub mod identities;
pub mod model;
pub mod schemas;
pub mod service;
pub mod session;
pub mod store;
pub mod urls;
pub mod wire;
