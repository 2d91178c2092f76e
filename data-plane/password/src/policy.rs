//! Password policy with Kratos's rules and UI message ids, applied at registration, settings and import of
//! plaintext passwords.

use serde_json::json;

use crate::common;
use crate::params::MAX_PASSWORD_BYTES;

/// The policy configuration. Checks run in a fixed order and the first violation is returned, as Kratos does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Minimum length in characters (not bytes), default 8.
    pub min_length: usize,
    /// Refuse passwords too similar to one of the identity's identifiers, default on.
    pub identifier_similarity_check: bool,
    /// Maximum length in bytes: `Some(72)` when the configured hasher is bcrypt (see
    /// [`crate::HashParams::max_password_bytes`]), so users learn the limit instead of hitting a hashing error.
    pub max_length_bytes: Option<usize>,
}

impl Default for Policy {
    /// Kratos's defaults: 8 characters, similarity check on, no byte limit beyond the 4096-byte guard.
    fn default() -> Self {
        Policy { min_length: 8, identifier_similarity_check: true, max_length_bytes: None }
    }
}

/// One broken rule, rendered by the identity engine as a UI message on the `password` node.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyViolation {
    /// Kratos's UI text id.
    pub id: u32,
    /// Kratos's exact English text.
    pub text: String,
    /// The message context (numbers the UI may re-render in other languages).
    pub context: serde_json::Value,
}

impl PolicyViolation {
    /// Generic policy violation with a reason; used for the 4096-byte guard.
    pub const GENERIC: u32 = 4_000_005;
    /// Too similar to an identifier.
    pub const TOO_SIMILAR: u32 = 4_000_031;
    /// Shorter than the minimum length.
    pub const TOO_SHORT: u32 = 4_000_032;
    /// Longer than the hasher accepts.
    pub const TOO_LONG: u32 = 4_000_033;
    /// On the list of breached passwords.
    pub const BREACHED: u32 = 4_000_034;
}

impl std::fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for PolicyViolation {}

/// Levenshtein distances below this make a password too similar to an identifier.
const MIN_IDENTIFIER_DISTANCE: usize = 5;
/// A common substring longer than this share of the password makes it too similar to an identifier.
const MAX_SHARED_SUBSTRING_RATIO: f64 = 0.5;

impl Policy {
    /// Checks `password` against every rule and returns the first violation: minimum length (characters), maximum
    /// length (bytes), the 4096-byte guard, similarity to any non-empty identifier (case-insensitive), then the
    /// common-password list.
    pub fn check(&self, password: &str, identifiers: &[&str]) -> Result<(), PolicyViolation> {
        let chars = password.chars().count();
        if chars < self.min_length {
            return Err(PolicyViolation {
                id: PolicyViolation::TOO_SHORT,
                text: format!("The password must be at least {} characters long, but got {chars}.", self.min_length),
                context: json!({ "min_length": self.min_length, "actual_length": chars }),
            });
        }
        if let Some(max) = self.max_length_bytes
            && password.len() > max
        {
            return Err(PolicyViolation {
                id: PolicyViolation::TOO_LONG,
                text: format!("The password must be at most {max} characters long, but got {}.", password.len()),
                context: json!({ "max_length": max, "actual_length": password.len() }),
            });
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PolicyViolation {
                id: PolicyViolation::GENERIC,
                text: "The password can not be used because it is too long.".to_owned(),
                context: json!({ "reason": "it is too long" }),
            });
        }
        if self.identifier_similarity_check {
            let lowered: Vec<char> = password.to_lowercase().chars().collect();
            if identifiers.iter().any(|identifier| too_similar(&lowered, identifier)) {
                return Err(PolicyViolation {
                    id: PolicyViolation::TOO_SIMILAR,
                    text: "The password can not be used because it is too similar to the identifier.".to_owned(),
                    context: json!({}),
                });
            }
        }
        if common::is_common(password) {
            return Err(PolicyViolation {
                id: PolicyViolation::BREACHED,
                text: "The password has been found in data breaches and must no longer be used.".to_owned(),
                context: json!({ "breaches": 1 }),
            });
        }
        Ok(())
    }
}

/// Kratos's similarity rule on lowercase text: edit distance below 5, or a shared substring longer than half the
/// password. Empty identifiers are skipped.
fn too_similar(password: &[char], identifier: &str) -> bool {
    let identifier: Vec<char> = identifier.to_lowercase().chars().collect();
    if identifier.is_empty() {
        return false;
    }
    if levenshtein(password, &identifier) < MIN_IDENTIFIER_DISTANCE {
        return true;
    }
    !password.is_empty()
        && longest_common_substring(password, &identifier) as f64 / password.len() as f64 > MAX_SHARED_SUBSTRING_RATIO
}

/// Edit distance (insertions, deletions, substitutions) over characters, in O(|a|·|b|) time and O(|b|) memory.
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Length of the longest common contiguous substring, in O(|a|·|b|) time and O(|b|) memory.
fn longest_common_substring(a: &[char], b: &[char]) -> usize {
    let mut previous = vec![0usize; b.len() + 1];
    let mut current = vec![0usize; b.len() + 1];
    let mut best = 0;
    for ca in a {
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = if ca == cb { previous[j] + 1 } else { 0 };
            best = best.max(current[j + 1]);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn levenshtein_distances() {
        for (a, b, d) in
            [("", "", 0), ("abc", "", 3), ("", "abc", 3), ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("ü", "u", 1)]
        {
            assert_eq!(levenshtein(&chars(a), &chars(b)), d, "{a} {b}");
        }
    }

    #[test]
    fn longest_common_substrings() {
        for (a, b, n) in [("", "abc", 0), ("abcdef", "zcdez", 3), ("alice", "alice@example.com", 5), ("ab", "cd", 0)] {
            assert_eq!(longest_common_substring(&chars(a), &chars(b)), n, "{a} {b}");
        }
    }
}
