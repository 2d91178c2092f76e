//! Password hashing, imported hash formats and password policy for Tessera's identity engine.
//!
//! - [`PasswordHasher`] runs argon2id / bcrypt on a bounded pool of blocking threads, so slow hashes never stall
//!   the async runtime and never use more cores or memory than the pool allows.
//! - [`check_imported_hash`] accepts the hash formats Ory Kratos can import (bcrypt, argon2, pbkdf2, scrypt,
//!   Firebase scrypt, crypt(3), SSHA, salted SHA/MD5, HMAC) and refuses costs that would let a hostile import
//!   exhaust CPU or memory at login; [`PasswordHasher::verify`] checks any of them in constant time.
//! - [`Policy`] applies Kratos's password rules with its UI message ids and texts.

mod common;
mod encoding;
mod error;
mod hasher;
mod import;
mod params;
mod policy;
mod pool;

pub use error::{ImportError, PasswordError};
pub use import::{HashFormat, check_imported_hash};
pub use params::{
    ARGON2_MAX_ITERATIONS, ARGON2_MAX_MEMORY_KIB, ARGON2_MAX_PARALLELISM, BCRYPT_MAX_COST, BCRYPT_MAX_PASSWORD_BYTES,
    BCRYPT_MIN_COST, HashParams, MAX_PASSWORD_BYTES,
};
pub use policy::{Policy, PolicyViolation};
pub use pool::{PasswordHasher, Verified};
