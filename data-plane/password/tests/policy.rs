//! Password policy rules with Kratos's message ids, texts and contexts.

use serde_json::json;
use tessera_password::{HashParams, Policy, PolicyViolation};

/// Asserts that `password` breaks exactly the rule `id` with `text` and `context`.
fn assert_violation(
    policy: &Policy,
    password: &str,
    identifiers: &[&str],
    id: u32,
    text: &str,
    context: serde_json::Value,
) {
    let v = policy.check(password, identifiers).expect_err(password);
    assert_eq!(v, PolicyViolation { id, text: text.to_owned(), context }, "{password:?}");
    assert_eq!(v.to_string(), text);
}

#[test]
fn minimum_length_counts_characters() {
    let p = Policy::default();
    assert_eq!(p.min_length, 8);
    let text = "The password must be at least 8 characters long, but got 5.";
    assert_violation(&p, "abcde", &[], 4000032, text, json!({"min_length": 8, "actual_length": 5}));
    // Seven two-byte characters are 14 bytes but still only 7 characters.
    let text = "The password must be at least 8 characters long, but got 7.";
    assert_violation(&p, "ääääääß", &[], 4000032, text, json!({"min_length": 8, "actual_length": 7}));
    let text = "The password must be at least 8 characters long, but got 0.";
    assert_violation(&p, "", &[], 4000032, text, json!({"min_length": 8, "actual_length": 0}));
    let p12 = Policy { min_length: 12, ..Policy::default() };
    let text = "The password must be at least 12 characters long, but got 11.";
    assert_violation(&p12, "vT9#qLm2$wX", &[], 4000032, text, json!({"min_length": 12, "actual_length": 11}));
    assert!(p.check("vT9#qLm2", &[]).is_ok(), "exactly the minimum is fine");
}

#[test]
fn maximum_length_counts_bytes_for_bcrypt() {
    let p = Policy { max_length_bytes: HashParams::Bcrypt { cost: 10 }.max_password_bytes(), ..Policy::default() };
    assert_eq!(p.max_length_bytes, Some(72));
    let long = "vT9#qLm2$wX7!rBz".repeat(5);
    let text = "The password must be at most 72 characters long, but got 80.";
    assert_violation(&p, &long, &[], 4000033, text, json!({"max_length": 72, "actual_length": 80}));
    // 40 characters but 80 bytes.
    let wide = "äö".repeat(20);
    assert_violation(&p, &wide, &[], 4000033, text, json!({"max_length": 72, "actual_length": 80}));
    assert!(p.check(&long[..72], &[]).is_ok());
    assert!(Policy::default().check(&long, &[]).is_ok(), "argon2id has no 72-byte limit");
    assert_eq!(HashParams::default().max_password_bytes(), None);
}

#[test]
fn passwords_over_4096_bytes_are_refused() {
    let huge = "vT9#qLm2$wX7!rBz".repeat(300);
    let text = "The password can not be used because it is too long.";
    assert_violation(
        &Policy::default(),
        &huge,
        &["alice@example.com"],
        4000005,
        text,
        json!({"reason": "it is too long"}),
    );
    assert!(Policy::default().check(&huge[..4096], &[]).is_ok());
}

#[test]
fn similarity_to_identifiers() {
    let p = Policy::default();
    let text = "The password can not be used because it is too similar to the identifier.";
    let similar = [
        ("alice@example.com", "alice@example.com"),
        ("alice@example.co", "alice@example.com"),
        ("ALICE@EXAMPLE.COM1", "alice@example.com"),
        ("Alice@Example.com", "alice@example.COM"),
        ("xx-alice@example.com-xx", "alice@example.com"),
        // Distance 7, but the shared substring is 8 of 15 characters.
        ("zzzzzzzbobbybob", "bobbybob"),
        ("bobbybobQ7", "other@example.org"),
    ];
    for (password, identifier) in similar {
        let ids: &[&str] = if password == "bobbybobQ7" { &["other@example.org", "bobbybob"] } else { &[identifier] };
        assert_violation(&p, password, ids, 4000031, text, json!({}));
    }
    let distinct = [
        ("Wonderland-Rabbit-Hole-42", "alice@example.com"),
        ("vT9#qLm2$wX7!rBz", "alice@example.com"),
        ("vT9#qLm2$wX7!rBz", ""),
        // Shared substring exactly half the password: not more than half.
        ("zzzzzzzzbobbybob", "bobbybob"),
    ];
    for (password, identifier) in distinct {
        assert!(p.check(password, &[identifier]).is_ok(), "{password} vs {identifier}");
    }
    let off = Policy { identifier_similarity_check: false, ..Policy::default() };
    assert!(off.check("alice@example.com", &["alice@example.com"]).is_ok());
}

#[test]
fn common_passwords_are_refused() {
    let p = Policy::default();
    let text = "The password has been found in data breaches and must no longer be used.";
    for password in ["password123", "qwertyuiop", "Password123", "QWERTYUIOP", "iloveyou", "12345678"] {
        assert_violation(&p, password, &[], 4000034, text, json!({"breaches": 1}));
    }
    assert!(p.check("vT9#qLm2$wX7!rBz", &["alice@example.com"]).is_ok(), "a strong random password");
    assert!(p.check("correct-horse-battery-staple-91", &["bob"]).is_ok());
}

#[test]
fn rules_apply_in_order() {
    let p = Policy { max_length_bytes: Some(72), ..Policy::default() };
    // Too short wins over being common.
    assert_eq!(p.check("qwerty", &[]).unwrap_err().id, 4000032);
    // Similarity wins over being common.
    assert_eq!(p.check("password123", &["password12"]).unwrap_err().id, 4000031);
    // The bcrypt limit wins over the generic guard.
    assert_eq!(p.check(&"x".repeat(5000), &[]).unwrap_err().id, 4000033);
}
