//! The crate's single error type.

/// Everything that can go wrong in this crate. One enum so callers match in one place; the import-check
/// variants carry Kratos's exact texts because the identity API returns them verbatim to the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The imported hash matches none of the recognised prefixes.
    #[error("The imported password does not match any known hash format.")]
    UnknownHashFormat,
    /// The prefix was recognised but the rest of the hash is malformed.
    #[error("The imported password hash could not be parsed.")]
    UnparsableHash,
    /// The hash is well-formed but would cost more CPU or memory to verify than we allow.
    #[error(
        "The imported password hash declares cost parameters that exceed the bounds enforced by Ory. Re-hash the \
         password with a more conservative configuration before importing."
    )]
    HashCostOutOfBounds,
    /// The password is longer than the algorithm (bcrypt: 72 bytes) or the DoS guard (4096 bytes) accepts;
    /// refusing is safer than silently hashing a prefix.
    #[error("the password is {len} bytes long but at most {max} bytes can be hashed")]
    PasswordTooLong {
        /// Length of the refused password in bytes.
        len: usize,
        /// The limit that applied.
        max: usize,
    },
    /// The configured [`crate::HashParams`] are outside what verification accepts, so hashes made with them
    /// could never be verified.
    #[error("invalid password hashing parameters: {0}")]
    InvalidParams(&'static str),
    /// The hashing library refused its input (should not happen with validated parameters).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The blocking task running the hash panicked or was cancelled by runtime shutdown.
    #[error("the password hashing worker failed")]
    WorkerFailed,
}

/// The error of [`crate::check_imported_hash`]: the same enum (one error type per crate); only the three
/// import variants are ever returned there.
pub type ImportError = PasswordError;

impl PasswordError {
    /// A fixed text safe to show to API clients: Kratos's wording for import rejections, a generic sentence otherwise
    /// (details such as library messages stay in logs).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownHashFormat => "The imported password does not match any known hash format.",
            Self::UnparsableHash => "The imported password hash could not be parsed.",
            Self::HashCostOutOfBounds => {
                "The imported password hash declares cost parameters that exceed the bounds enforced by Ory. Re-hash \
                 the password with a more conservative configuration before importing."
            }
            Self::PasswordTooLong { .. } => "The password can not be used because it is too long.",
            Self::InvalidParams(_) => "The password hashing configuration is invalid.",
            Self::Hashing(_) | Self::WorkerFailed => "The password could not be hashed.",
        }
    }

    /// Whether this is a rejection of an admin-supplied hash (answer 400) rather than a server fault.
    pub fn is_import_rejection(&self) -> bool {
        matches!(self, Self::UnknownHashFormat | Self::UnparsableHash | Self::HashCostOutOfBounds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_matches_display_for_import_errors() {
        for e in [PasswordError::UnknownHashFormat, PasswordError::UnparsableHash, PasswordError::HashCostOutOfBounds] {
            assert_eq!(e.to_string(), e.reason());
            assert!(e.is_import_rejection());
        }
        assert!(!PasswordError::WorkerFailed.is_import_rejection());
    }
}
