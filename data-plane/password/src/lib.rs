//! Password hashing and policy (work in progress).
