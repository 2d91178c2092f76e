//! The shipped list of common passwords (see `data/README.md` for its source and licence).

use std::collections::HashSet;
use std::sync::LazyLock;

/// The 30,000 most common passwords of the zxcvbn frequency list, lowercase, one per line.
static LIST: &str = include_str!("../data/common-passwords.txt");

/// Built on first use so processes that never check a password do not pay for the set.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| LIST.lines().map(str::trim).filter(|line| !line.is_empty()).collect());

/// Whether `password` (compared lowercase) is on the list.
pub(crate) fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

/// Number of distinct entries, so tests can check the data file was embedded whole.
#[cfg(test)]
fn len() -> usize {
    COMMON.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_embedded_and_case_insensitive() {
        assert!(len() >= 10_000, "only {} entries", len());
        assert!(is_common("password123"));
        assert!(is_common("QwertyUIOP"));
        assert!(!is_common("c0rrect-h0rse-battery-staple-91"));
        assert!(!is_common(""));
    }
}
