//! The crate's one integration-test binary: golden invoices for the scenarios billing must get right.

mod cases;
