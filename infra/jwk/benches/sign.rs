//! JWT signing and verification per algorithm, for a typical small ID token /
//! access token claim set. ES256 signing sits on the token endpoint's hot path.
//!
//! `cargo bench -p tessera-jwk --bench sign`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tessera_jwk::{Algorithm, KeyPair, KeyUse, PublicKeySet};

fn claims() -> serde_json::Value {
    json!({
        "iss": "https://auth.example.com",
        "sub": "3f0c1c5e-9b7a-4d7e-8f61-2b9d6a1d2c44",
        "aud": ["my-client"],
        "iat": 1_700_000_000,
        "exp": 1_700_003_600,
        "jti": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
        "scope": "openid offline_access",
        "client_id": "my-client"
    })
}

fn bench(c: &mut Criterion) {
    let claims = claims();
    for alg in Algorithm::ALL {
        let key = KeyPair::generate(alg, None, KeyUse::Sig).expect("key generation");
        let set: PublicKeySet = [key.public_key().expect("public key")].into_iter().collect();
        let token = key.sign_jwt(&claims).expect("signing");
        c.bench_function(&format!("sign_jwt {alg}"), |b| b.iter(|| key.sign_jwt(black_box(&claims)).unwrap()));
        c.bench_function(&format!("verify_jwt {alg}"), |b| {
            b.iter(|| set.verify_jwt(black_box(&token), &Algorithm::ALL).unwrap())
        });
    }
    let private = KeyPair::generate(Algorithm::RS256, None, KeyUse::Sig).unwrap().private_jwk().unwrap();
    c.bench_function("from_jwk RS256 (key load)", |b| b.iter(|| KeyPair::from_jwk(black_box(&private)).unwrap()));
    c.bench_function("generate ES256", |b| b.iter(|| KeyPair::generate(Algorithm::ES256, None, KeyUse::Sig).unwrap()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
