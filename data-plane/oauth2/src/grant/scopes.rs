//! Which requested scopes and audiences a client may be granted.

use tessera_project_config::oauth2::ScopeStrategy;

use crate::client::Client;
use crate::error::OAuth2Error;

/// Space-separated values of a form parameter (scope, audience), repeated parameters concatenated.
pub fn split(values: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values.iter().flat_map(|v| v.split_whitespace()) {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    out
}

/// Whether `granted` (one of the client's scopes) covers `requested` under the project's strategy: exact, or
/// Hydra's wildcard (`a.*` covers `a.b` and `a.b.c`; `a` alone covers `a.b` too, as fosite's hierarchic match).
fn covers(strategy: ScopeStrategy, granted: &str, requested: &str) -> bool {
    match strategy {
        ScopeStrategy::Exact => granted == requested,
        ScopeStrategy::Wildcard => {
            if granted == requested {
                return true;
            }
            let prefix = granted.strip_suffix(".*").unwrap_or(granted);
            requested.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
        }
    }
}

/// Refuses a scope the client may not request.
pub fn check_scopes(client: &Client, strategy: ScopeStrategy, requested: &[String]) -> Result<(), OAuth2Error> {
    for scope in requested {
        if !client.scopes().any(|g| covers(strategy, g, scope)) {
            return Err(OAuth2Error::InvalidScope(format!(
                "The OAuth 2.0 Client is not allowed to request scope '{scope}'."
            )));
        }
    }
    Ok(())
}

/// Refuses an audience the client is not registered for (exact match).
pub fn check_audience(client: &Client, requested: &[String]) -> Result<(), OAuth2Error> {
    for aud in requested {
        if !client.audience.iter().any(|a| a == aud) {
            return Err(OAuth2Error::InvalidAudience(format!(
                "Requested audience '{aud}' has not been whitelisted by the OAuth 2.0 Client."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_and_exact_scope_matching() {
        use ScopeStrategy::*;
        assert!(covers(Exact, "read", "read"));
        assert!(!covers(Exact, "read", "read.all"));
        assert!(covers(Wildcard, "read.*", "read.all"));
        assert!(covers(Wildcard, "read", "read.all"));
        assert!(!covers(Wildcard, "read", "readwrite"));
        assert!(!covers(Wildcard, "read.*", "read."));
        assert!(!covers(Wildcard, "read.*", "write.all"));
    }

    #[test]
    fn split_deduplicates_and_joins_repeats() {
        assert_eq!(split(&["a b", "b c", ""]), vec!["a", "b", "c"]);
    }
}
