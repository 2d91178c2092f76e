//! The permission engine's one integration-test binary.
mod cases;
