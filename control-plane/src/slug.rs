//! Project slugs: the DNS label a project is reached at (`<slug>.<projects domain>`).
//!
//! A slug is the project's name, lowercased and reduced to `[a-z0-9-]`, plus a random suffix so that
//! names need not be unique and slugs cannot be guessed from names. Slugs are never reused, even after purge.

use rand::Rng;

const SUFFIX_LEN: usize = 8;
const MAX_BASE_LEN: usize = 40;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh slug for a project called `name`.
pub fn generate(name: &str) -> String {
    let mut base = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            base.push(c);
        } else if !base.ends_with('-') && !base.is_empty() {
            base.push('-');
        }
        if base.len() >= MAX_BASE_LEN {
            break;
        }
    }
    let base = base.trim_matches('-');
    let base = if base.is_empty() { "project" } else { base };
    let mut rng = rand::rng();
    let suffix: String = (0..SUFFIX_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("{base}-{suffix}")
}

/// Whether `s` is a valid slug: a DNS label of lowercase letters, digits and inner hyphens.
pub fn is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_dns_labels() {
        for name in ["My Project!", "  ", "ÄÖÜ", "a--b", &"x".repeat(300), "Ünïcode Names 2026", "-lead"] {
            let s = generate(name);
            assert!(is_valid(&s), "{name:?} gave {s:?}");
        }
        assert!(generate("My Project!").starts_with("my-project-"));
        assert!(generate("!!!").starts_with("project-"));
        assert_ne!(generate("x"), generate("x"));
    }
}
