//! Anti-CSRF for browser flows: a random token in an HttpOnly cookie, and the same token, freshly masked on
//! every render, in the form's hidden `csrf_token` node. A submission must carry a token that unmasks to the
//! cookie's; a cross-site page can make the browser send the cookie but cannot read the form.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use tessera_platform::secrets::constant_time_eq;

use crate::error::IdentityError;
use crate::urls::PublicUrls;

const TOKEN_BYTES: usize = 32;

/// The cookie's name: `csrf_token_` and the hex SHA-256 of the project's public URL (with a trailing
/// slash), as Ory names it, so projects sharing a host never share a token.
pub fn cookie_name(urls: &PublicUrls) -> String {
    let digest = Sha256::digest(format!("{}/", urls.base()).as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("csrf_token_{hex}")
}

/// A fresh random token (base64).
pub fn generate() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).expect("the OS random generator is available");
    STANDARD.encode(bytes)
}

/// The token as the form carries it: a random pad, then the token XOR the pad (a new pad every time, so
/// the page never shows the same bytes twice; BREACH-style compression attacks learn nothing).
pub fn mask(token: &str) -> String {
    let Ok(raw) = STANDARD.decode(token) else { return String::new() };
    let mut pad = vec![0u8; raw.len()];
    rand::rngs::OsRng.try_fill_bytes(&mut pad).expect("the OS random generator is available");
    let mut out = pad.clone();
    out.extend(raw.iter().zip(&pad).map(|(r, p)| r ^ p));
    STANDARD.encode(out)
}

/// The raw token a form value stands for (masked or not).
fn unmask(sent: &str) -> Option<Vec<u8>> {
    let bytes = STANDARD.decode(sent.trim()).ok()?;
    match bytes.len() {
        n if n == 2 * TOKEN_BYTES => {
            let (pad, masked) = bytes.split_at(TOKEN_BYTES);
            Some(masked.iter().zip(pad).map(|(m, p)| m ^ p).collect())
        }
        TOKEN_BYTES => Some(bytes),
        _ => None,
    }
}

/// The cookie that carries `token`.
pub fn cookie(urls: &PublicUrls, token: &str) -> Cookie<'static> {
    Cookie::build(cookie_name(urls), token.to_owned())
        .path("/")
        .http_only(true)
        .secure(urls.is_https())
        .same_site(if urls.is_https() { SameSite::None } else { SameSite::Lax })
        .max_age(CookieDuration::days(365))
        .finish()
}

/// The token in the request's CSRF cookie, if any.
pub fn from_cookie(req: &HttpRequest, urls: &PublicUrls) -> Option<String> {
    req.cookie(&cookie_name(urls)).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}

/// Checks a browser submission: the cookie must be there and the sent token must unmask to it.
pub fn verify(req: &HttpRequest, urls: &PublicUrls, sent: Option<&str>) -> Result<(), IdentityError> {
    if req.headers().get(actix_web::http::header::COOKIE).is_none() {
        return Err(IdentityError::Csrf { reject_reason: "The HTTP Cookie Header is empty or not set." });
    }
    let Some(cookie) = from_cookie(req, urls) else {
        return Err(IdentityError::Csrf {
            reject_reason: "The HTTP Cookie Header was set but did not include the anti-CSRF cookie.",
        });
    };
    let header = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok());
    let Some(sent) = sent.filter(|s| !s.is_empty()).or(header) else {
        return Err(IdentityError::Csrf {
            reject_reason: "The anti-CSRF cookie was found but the CSRF token was not included in the HTTP request body (csrf_token) nor in the HTTP Header (X-CSRF-Token).",
        });
    };
    matches(&cookie, sent).then_some(()).ok_or(IdentityError::Csrf {
        reject_reason: "The HTTP Cookie Header was set and a CSRF token was sent but they do not match. We recommend deleting all cookies for this domain and retrying the flow.",
    })
}

/// Whether a cookie value is a token we could have issued (so a garbage cookie is replaced, not trusted).
pub fn is_well_formed(token: &str) -> bool {
    STANDARD.decode(token).is_ok_and(|b| b.len() == TOKEN_BYTES)
}

/// Whether a sent (masked or raw) token stands for `token`, compared in constant time.
pub fn matches(token: &str, sent: &str) -> bool {
    match (STANDARD.decode(token), unmask(sent)) {
        (Ok(expected), Some(got)) => constant_time_eq(&expected, &got),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_differ_each_time_and_unmask_to_the_token() {
        let t = generate();
        let (a, b) = (mask(&t), mask(&t));
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(&a).unwrap().len(), 64);
        assert!(matches(&t, &a) && matches(&t, &b) && matches(&t, &t));
        assert!(!matches(&t, &mask(&generate())));
        assert!(!matches(&t, "garbage"));
        assert!(!matches(&t, ""));
    }

    #[test]
    fn cookie_name_is_the_hash_of_the_url_with_a_trailing_slash() {
        let urls = PublicUrls::fixed("https://cool-curran-f83m3srkfl.projects.oryapis.com");
        assert_eq!(cookie_name(&urls), "csrf_token_1d61ec8f0158ec4868343239ec73dbe1bfebad9908ad860e62f470c767573d0d");
    }
}
