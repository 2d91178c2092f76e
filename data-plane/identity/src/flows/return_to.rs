//! `return_to`: where a browser goes after a flow. Only URLs on the project's allow-list (or the project's
//! own public URL) are accepted, compared as parsed URLs (scheme, host, port, path prefix), never as strings,
//! so `https://app.example.com.evil.test`, `https://app.example.com@evil.test`, `//evil.test` and
//! `javascript:` all fail.

use tessera_platform::tenant::TenantContext;
use url::Url;

use crate::error::IdentityError;
use crate::urls::PublicUrls;

/// Longest `return_to` accepted.
const MAX_LEN: usize = 2048;

/// The parsed, allowed URL, or a 400 `self_service_flow_return_to_forbidden`.
pub fn check(tenant: &TenantContext, urls: &PublicUrls, raw: &str) -> Result<Url, IdentityError> {
    let forbidden = || IdentityError::ReturnToForbidden(raw.chars().take(MAX_LEN).collect());
    if raw.len() > MAX_LEN || raw.chars().any(|c| c.is_control() || c == '\\') {
        return Err(forbidden());
    }
    let base = Url::parse(&format!("{}/", urls.base())).map_err(|_| forbidden())?;
    let url = if raw.starts_with('/') && !raw.starts_with("//") {
        base.join(raw).map_err(|_| forbidden())?
    } else {
        Url::parse(raw).map_err(|_| forbidden())?
    };
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
        return Err(forbidden());
    }
    let own = std::iter::once(base.clone());
    let listed = tenant.config().identity.selfservice.allowed_return_urls.iter().map(|u| u.0.clone());
    if own.chain(listed).any(|allowed| allows(&allowed, &url)) { Ok(url) } else { Err(forbidden()) }
}

/// Whether `allowed` admits `url`: same scheme and port, same host (or a subdomain of a `*.` wildcard host),
/// and a path under the allowed path.
fn allows(allowed: &Url, url: &Url) -> bool {
    if allowed.scheme() != url.scheme() || allowed.port_or_known_default() != url.port_or_known_default() {
        return false;
    }
    let (Some(a), Some(h)) = (allowed.host_str(), url.host_str()) else { return false };
    let (a, h) = (a.to_ascii_lowercase(), h.to_ascii_lowercase());
    let host_ok = match a.strip_prefix("*.") {
        Some(suffix) => h.ends_with(&format!(".{suffix}")),
        None => a == h,
    };
    host_ok && path_under(allowed.path(), url.path())
}

fn path_under(allowed: &str, path: &str) -> bool {
    let allowed = allowed.trim_end_matches('/');
    allowed.is_empty() || path == allowed || path.starts_with(&format!("{allowed}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn allow_list_matching_is_by_parts() {
        let a = u("https://app.example.com/dashboard");
        assert!(allows(&a, &u("https://app.example.com/dashboard")));
        assert!(allows(&a, &u("https://APP.example.com/dashboard/x?y=1")));
        assert!(!allows(&a, &u("https://app.example.com/dashboardx")));
        assert!(!allows(&a, &u("http://app.example.com/dashboard")));
        assert!(!allows(&a, &u("https://app.example.com:8443/dashboard")));
        assert!(!allows(&a, &u("https://app.example.com.evil.test/dashboard")));
        assert!(!allows(&a, &u("https://evil.test/app.example.com/dashboard")));
        let w = u("https://*.example.com/");
        assert!(allows(&w, &u("https://a.example.com/x")));
        assert!(!allows(&w, &u("https://example.com.evil.test/")));
        assert!(!allows(&w, &u("https://evilexample.com/")));
    }
}
