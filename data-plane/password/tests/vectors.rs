//! Every reference vector for imported formats: verifies with the right password, fails with a wrong one, and is
//! accepted by the import check as the right format; negative vectors and out-of-bounds costs are refused with
//! Kratos's exact texts.

use tessera_password::{HashFormat, HashParams, PasswordError, PasswordHasher, check_imported_hash};

const UNKNOWN: &str = "The imported password does not match any known hash format.";
const UNPARSABLE: &str = "The imported password hash could not be parsed.";
const OUT_OF_BOUNDS: &str = "The imported password hash declares cost parameters that exceed the bounds enforced by \
                             Ory. Re-hash the password with a more conservative configuration before importing.";

/// Checks import acceptance, a match for `password` with a re-hash request, and no match for a wrong password.
async fn assert_vectors(cases: &[(HashFormat, &str, &str)]) {
    let hasher = PasswordHasher::new(2);
    let params = HashParams::default();
    for &(format, password, hash) in cases {
        assert_eq!(check_imported_hash(hash), Ok(format), "{hash}");
        let ok = hasher.verify(&params, password, hash).await.unwrap();
        assert!(ok.matches && ok.needs_rehash, "{hash}: {ok:?}");
        let wrong = hasher.verify(&params, &format!("{password}x"), hash).await.unwrap();
        assert!(!wrong.matches && !wrong.needs_rehash, "{hash}");
        let empty = hasher.verify(&params, "", hash).await.unwrap();
        assert!(!empty.matches, "{hash}");
    }
}

/// Checks that the import refuses `hash` with `text` and that a login against it fails.
async fn assert_refused(cases: &[(&str, &str)]) {
    let hasher = PasswordHasher::new(2);
    for &(hash, text) in cases {
        let err = check_imported_hash(hash).expect_err(hash);
        assert_eq!(err.reason(), text, "{hash}");
        assert_eq!(err.to_string(), text, "{hash}");
        assert!(err.is_import_rejection());
        let v = hasher.verify(&HashParams::default(), "test", hash).await.unwrap();
        assert!(!v.matches && !v.needs_rehash, "{hash}");
    }
}

#[tokio::test]
async fn bcrypt_vectors() {
    let base = "$2a$12$o6hx.Wog/wvFSkT/Bp/6DOxCtLRTDj7lm9on9suF/WaCGNVHbkfL6";
    let (b, y) = (base.replacen("$2a$", "$2b$", 1), base.replacen("$2a$", "$2y$", 1));
    assert_vectors(&[
        (HashFormat::Bcrypt, "test", base),
        (HashFormat::Bcrypt, "test", &b),
        (HashFormat::Bcrypt, "test", &y),
        (HashFormat::Bcrypt, "hunter2", "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm"),
    ])
    .await;
}

#[tokio::test]
async fn bcrypt_cost_15_is_the_ceiling() {
    let hasher = PasswordHasher::new(1);
    let hash = "$2a$15$GRvRO2nrpYTEuPQX6AieaOlZ4.7nMGsXpt.QWMev1zrP86JNspZbO";
    assert_eq!(check_imported_hash(hash), Ok(HashFormat::Bcrypt));
    assert!(hasher.verify(&HashParams::default(), "test", hash).await.unwrap().matches);
    assert_refused(&[(&hash.replacen("$15$", "$16$", 1), OUT_OF_BOUNDS)]).await;
}

#[tokio::test]
async fn argon2_vectors() {
    assert_vectors(&[
        (HashFormat::Argon2id, "test", "$argon2id$v=19$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRNw"),
        (
            HashFormat::Argon2id,
            "test",
            "$argon2id$v=19$m=32,t=5,p=4$cm94YnRVOW5jZzFzcVE4bQ$fBxypOL0nP/zdPE71JtAV71i487LbX3fJI5PoTN6Lp4",
        ),
        (
            HashFormat::Argon2id,
            "hunter2",
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q",
        ),
        (
            HashFormat::Argon2i,
            "test",
            "$argon2i$v=19$m=65536,t=3,p=4$kk51rW/vxIVCYn+EG4kTSg$NyT88uraJ6im6dyha/M5jhXvpqlEdlS/9fEm7ScMb8c",
        ),
    ])
    .await;
}

#[tokio::test]
async fn pbkdf2_vectors() {
    assert_vectors(&[
        (
            HashFormat::Pbkdf2,
            "test",
            "$pbkdf2-sha256$i=100000,l=32$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpI",
        ),
        (
            HashFormat::Pbkdf2,
            "test",
            "$pbkdf2-sha512$i=100000,l=32$bdHBpn7OWOivJMVJypy2UqR0UnaD5prQXRZevj/05YU$+wArTfv1a+bNGO1iZrmEdVjhA+lL11wF4/IxpgYfPwc",
        ),
        (
            HashFormat::Pbkdf2,
            "test",
            "$pbkdf2-sha224$i=100000,l=32$A2nzbFd+wwzPSb+TqkF5Pw$9M4GM2yOYw/fZvsvQbF/0Ec8JO2u9O1MYRTfrDimX6o",
        ),
        (
            HashFormat::Pbkdf2,
            "test",
            "$pbkdf2-sha384$i=100000,l=32$xDInuz7Y/DPzZUnCaQXJmg$7ICaEa6jEqxbbCBbv4YzrBf39KYNAtc3Bj0QWKeB3Ck",
        ),
        (
            HashFormat::Pbkdf2,
            "hunter2",
            "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$RilxBxnvGa3JIyaXwlUUKmvuPzxjHerJeqIuhiIvKNU",
        ),
        (HashFormat::Pbkdf2, "hunter2", "$pbkdf2-sha1$i=1000,l=20$c2FsdHNhbHRzYWx0c2FsdA$xMfBVkeH1sfGSLo3UHk2ISF8owc"),
    ])
    .await;
}

#[tokio::test]
async fn scrypt_vectors() {
    assert_vectors(&[
        (
            HashFormat::Scrypt,
            "test",
            "$scrypt$ln=16384,r=8,p=1$2npRo7P03Mt8keSoMbyD/tKFWyUzjiQf2svUaNDSrhA=$MiCzNcIplSMqSBrm4HckjYqYhaVPPjTARTzwB1cVNYE=",
        ),
        (
            HashFormat::Scrypt,
            "hunter2",
            "$scrypt$ln=1024,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$v/uBvjpkrv4+RPlRbT7o/v0/ucpdIQIN3+rMqzxpxj4=",
        ),
        (HashFormat::FirebaseScrypt, "8x4WjoDbSxJZdR", FIREBASE),
    ])
    .await;
}

const FIREBASE: &str = "$firescrypt$ln=14,r=8,p=1$sPtDhWcd1MfdAw==$xbSou7FOl6mChCyzpCPIQ7tku7nsQMTFtyOZSXXd7tjBa4NtimOx7v42Gv2SfzPQu1oxM2/k4SsbOu73wlKe1A==$Bw==$YE0dO4bwD4JnJafh6lZZfkp1MtKzuKAXQcDCJNJNyeCHairWHKENOkbh3dzwaCdizzOspwr/FITUVlnOAwPKyw==";

#[tokio::test]
async fn crypt_vectors() {
    assert_vectors(&[
        (HashFormat::Md5Crypt, "test", "$md5-crypt$TVEiiKNb$SN6/pUaRQS/E8Jh46As2C/"),
        (HashFormat::Md5Crypt, "test", "$md5-crypt$$whuMjZj.HMFoaTaZRRtkO0"),
        (
            HashFormat::Sha256Crypt,
            "test",
            "$sha256-crypt$rounds=535000$05R.9KB6UC2kLI3w$Q/zslzx./JjkAVPTwp6th7nW5l7JU91Gte/UmIh.U78",
        ),
        (
            HashFormat::Sha512Crypt,
            "test",
            "$sha512-crypt$rounds=656000$3LVbIAVxR//cRajw$uuNasMW.RYxlGzIRFU1Was70BPSa933AjxhZIGJdJBOlqJAHlgqa0yuiuq5JHF/ryNGryJkj87G9i3G2HPSXg1",
        ),
    ])
    .await;
}

#[tokio::test]
async fn digest_vectors() {
    assert_vectors(&[
        (HashFormat::Ssha, "test123", "{SSHA}JFZFs0oHzxbMwkSJmYVeI8MnTDy/276a"),
        (HashFormat::Ssha, "test123", "{SSHA256}czO44OTV17PcF1cRxWrLZLy9xHd7CWyVYplr1rOhuMlx/7IK"),
        (
            HashFormat::Ssha,
            "test123",
            "{SSHA512}xPUl/px+1cG55rUH4rzcwxdOIPSB2TingLpiJJumN2xyDWN4Ix1WQG3ihnvHaWUE8MYNkvMi5rf0C9NYixHsE6Yh59M=",
        ),
        (HashFormat::SaltedSha, "test", "$sha1$pf=e1NBTFR9e1BBU1NXT1JEfQ==$NW9wbWtnejAzcg==$2qU2SGWP8viTM1md3FiI3+rjWXQ="),
        (
            HashFormat::SaltedSha,
            "test",
            "$sha256$pf=e1NBTFR9e1BBU1NXT1JEfQ==$NW9wbWtnejAzcg==$0gfRVLCvtBCk20udLDEY5vNhujWx7RGjwRIS1ebMsLY=",
        ),
        (
            HashFormat::SaltedSha,
            "test",
            "$sha512$pf=e1NBTFR9e1BBU1NXT1JEfQ==$NW9wbWtnejAzcg==$6ctpVuApMNp0CgBXcdHw/GC562eFEFGr4gpgANX8ZYsX+j5B19IkdmOY2Fytsz3QUwSWdGcUjbqwgJGTH0UYvw==",
        ),
        (HashFormat::Md5, "test", "$md5$CY9rzUYh03PK3k6DJie09g=="),
        (HashFormat::Md5, "test", "$md5$pf=e1NBTFR9e1BBU1NXT1JEfQ==$MTIz$q+RdKCgc+ipCAcm5ChQwlQ=="),
        (HashFormat::Hmac, "test", "$hmac-md5$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=$MTIzNDU="),
        (HashFormat::Hmac, "test", "$hmac-sha1$NDMyNjcxZTUyY2Y2YTBmYjZjZDE2NjQxYjAwNjFiZjAwOGEzNWM5MA==$MTIzNDU="),
        (
            HashFormat::Hmac,
            "test",
            "$hmac-sha256$ZTAzMWJhMWMyOTM4YjFkMjgzZjkxOWExZGY5YWM2NmMxOTJhN2RkNzQ0MzJkNWZkNGFkYTI5OTk0MWJhMTA5Zg==$MTIzNDU=",
        ),
        (HashFormat::Hmac, "test", "$hmac-md4$MWQ5ZTI4Nzc2Zjg4YmE2MTQ5YjQ0OTMyOGE4NWU4YjA=$MTIzNDU="),
    ])
    .await;
}

#[tokio::test]
async fn negative_vectors_are_refused() {
    assert_refused(&[
        ("$5$rounds=535000$05R.9KB6UC2kLI3w$Q/zslzx./JjkAVPTwp6th7nW5l7JU91Gte/UmIh.U78", UNKNOWN),
        ("$6$rounds=656000$3LVbIAVxR//cRajw$uuNasMW.RYxlGzIRFU1Was70BPSa933AjxhZIGJdJBOlqJAHlgqa0yuiuq5JHF/ryNGryJkj87G9i3G2HPSXg1", UNKNOWN),
        ("$1$TVEiiKNb$SN6/pUaRQS/E8Jh46As2C/", UNKNOWN),
        ("$sha1$pf=$NW9wbWtnejAzcg==$2qU2SGWP8viTM1md3FiI3+rjWXQ=", UNPARSABLE),
        ("$md5$$", UNPARSABLE),
        (
            "$scrypt$ln=16385,r=8,p=1$2npRo7P03Mt8keSoMbyD/tKFWyUzjiQf2svUaNDSrhA=$MiCzNcIplSMqSBrm4HckjYqYhaVPPjTARTzwB1cVNYE=",
            UNPARSABLE,
        ),
        (
            "$pbkdf2-sha512$I=100000,l=32$bdHBpn7OWOivJMVJypy2UqR0UnaD5prQXRZevj/05YU$+wArTfv1a+bNGO1iZrmEdVjhA+lL11wF4/IxpgYfPwc",
            UNPARSABLE,
        ),
        ("$hmac$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=$MTIzNDU=", UNKNOWN),
        ("$hmac-invalid$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=$MTIzNDU=", UNKNOWN),
        ("$hmac-md5$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=", UNPARSABLE),
        ("$argon2id$v=19$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ", UNPARSABLE),
        ("$argon2id$v=18$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRNw", UNPARSABLE),
        ("$2a$12$o6hx.Wog/wvFSkT/Bp/6DOxCtLRTDj7lm9on9suF", UNPARSABLE),
        ("{SSHA}!!!", UNPARSABLE),
        ("$firescrypt$ln=14,r=8,p=1$sPtDhWcd1MfdAw==$xbSou7FOl6mChCyzpCPIQ7tku7nsQMTF$Bw==", UNPARSABLE),
        ("hunter2", UNKNOWN),
        ("", UNKNOWN),
    ])
    .await;
}

#[tokio::test]
async fn out_of_bounds_costs_are_refused() {
    let argon = "$argon2id$v=19$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRNw";
    let pbkdf2 = "$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$RilxBxnvGa3JIyaXwlUUKmvuPzxjHerJeqIuhiIvKNU";
    let scrypt = "$scrypt$ln=1024,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$v/uBvjpkrv4+RPlRbT7o/v0/ucpdIQIN3+rMqzxpxj4=";
    let bcrypt = "$2b$04$abcdefghijklmnopqrstuuV3duMsC0HpUex6N9qapiuOHHWkwRXVm";
    let cases = [
        argon.replace("m=32", "m=1048577"),
        argon.replace("t=2", "t=11"),
        argon.replace("p=4", "p=17"),
        argon.replace("$argon2id$", "$argon2i$").replace("m=32", "m=4194304"),
        bcrypt.replace("$04$", "$16$"),
        bcrypt.replace("$04$", "$31$"),
        pbkdf2.replace("i=1000", "i=10000001"),
        scrypt.replace("ln=1024", "ln=262144"),
        scrypt.replace("r=8", "r=9"),
        scrypt.replace("p=1", "p=11"),
        FIREBASE.replace("ln=14", "ln=18"),
        FIREBASE.replace("r=8", "r=9"),
        FIREBASE.replace("p=1", "p=11"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|h| (h.as_str(), OUT_OF_BOUNDS)).collect();
    assert_refused(&cases).await;
    // The bounds themselves are inclusive.
    assert_eq!(check_imported_hash(&argon.replace("m=32", "m=1048576")), Ok(HashFormat::Argon2id));
    assert_eq!(check_imported_hash(&argon.replace("t=2", "t=10")), Ok(HashFormat::Argon2id));
    assert_eq!(check_imported_hash(&argon.replace("p=4", "p=16")), Ok(HashFormat::Argon2id));
    assert_eq!(check_imported_hash(&pbkdf2.replace("i=1000", "i=10000000")), Ok(HashFormat::Pbkdf2));
    assert_eq!(check_imported_hash(&scrypt.replace("ln=1024", "ln=131072")), Ok(HashFormat::Scrypt));
    assert_eq!(check_imported_hash(&FIREBASE.replace("ln=14", "ln=17")), Ok(HashFormat::FirebaseScrypt));
}

/// A stored argon2 row whose costs exceed the bounds is a non-match even when it is the password's real hash:
/// rows written before the bounds existed must not be able to exhaust memory at login.
#[tokio::test]
async fn stored_argon2_beyond_bounds_never_matches() {
    use argon2::{Algorithm, Argon2, Params, Version};
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let phc = |t: u32| {
        let mut out = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(64, t, 1, Some(32)).unwrap())
            .hash_password_into(b"hunter2", b"saltsaltsalt", &mut out)
            .unwrap();
        format!("$argon2id$v=19$m=64,t={t},p=1${}${}", b64.encode(b"saltsaltsalt"), b64.encode(out))
    };
    let hasher = PasswordHasher::new(1);
    let params = HashParams::default();
    assert!(hasher.verify(&params, "hunter2", &phc(10)).await.unwrap().matches);
    assert!(!hasher.verify(&params, "hunter2", &phc(11)).await.unwrap().matches);
    let started = std::time::Instant::now();
    let huge = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$cZqH+Xzyo0A8wGe0+1iwa4/v6AU+J43N/PP97rfjR2Q";
    let v = hasher.verify(&HashParams::Bcrypt { cost: 4 }, "hunter2", huge).await.unwrap();
    assert!(!v.matches);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "a 4 TiB argon2 row must not be attempted");
}

#[test]
fn import_error_is_the_crate_error() {
    let err: tessera_password::ImportError = check_imported_hash("$md5$$").unwrap_err();
    assert_eq!(err, PasswordError::UnparsableHash);
}
