//! The control plane's one integration-test binary.
mod cases;
