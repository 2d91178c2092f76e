//! Custom domains: a project's own hostnames, routed only once the owner proves control of them.
//!
//! Adding a hostname issues a token; the owner publishes it at
//! `http://<hostname>/.well-known/tessera-domain-verification`; verifying fetches it from there. The fetch is
//! the control plane calling a tenant-chosen host, so it is fenced in: plain HTTP to one resolved address (no
//! redirects, no DNS rebinding between check and connect), five seconds, one kilobyte, and no loopback,
//! private or link-local targets unless the operator allows them.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tessera_platform::ids::ProjectId;
use tessera_platform::secrets::{constant_time_eq, generate_token};
use uuid::Uuid;

use super::ControlPlane;
use crate::auth::{Actor, ProjectAction};
use crate::error::{Error, Result};
use crate::store::{CustomDomain, StoreError};

/// Where the owner publishes the verification token.
pub const VERIFICATION_PATH: &str = "/.well-known/tessera-domain-verification";
const MAX_BODY: usize = 1024;

impl ControlPlane {
    /// Adds an unverified hostname to a project.
    pub async fn domain_add(&self, actor: &Actor, project: ProjectId, hostname: &str) -> Result<CustomDomain> {
        self.project_for(actor, project, ProjectAction::Configure).await?;
        let hostname = hostname.trim().trim_end_matches('.').to_ascii_lowercase();
        self.validate_hostname(&hostname)?;
        let domain = CustomDomain {
            project_id: project,
            id: Uuid::now_v7(),
            hostname,
            verification_token: generate_token("tessera-verify-"),
            verified_at: None,
            created_at: self.clock.now(),
        };
        match self.store.domain_create(&domain).await {
            Ok(()) => Ok(domain),
            Err(StoreError::Duplicate) => {
                Err(Error::Conflict(format!("{} is already in use by a project.", domain.hostname)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A project's hostnames.
    pub async fn domain_list(&self, actor: &Actor, project: ProjectId) -> Result<Vec<CustomDomain>> {
        self.project_for(actor, project, ProjectAction::Configure).await?;
        Ok(self.store.domain_list(project).await?)
    }

    /// Removes a hostname; regions stop routing it.
    pub async fn domain_remove(&self, actor: &Actor, project: ProjectId, id: Uuid) -> Result<()> {
        self.project_for(actor, project, ProjectAction::Configure).await?;
        let mut tx = self.store.begin().await?;
        if !self.store.domain_delete_in_tx(&mut tx, project, id).await? {
            return Err(Error::NotFound(format!("Custom domain {id} does not exist.")));
        }
        let seq = self.publish_in_tx(&mut tx, project).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.announce(seq);
        Ok(())
    }

    /// Fetches the token from the hostname and, when it matches, marks the hostname verified and routes it.
    pub async fn domain_verify(&self, actor: &Actor, project: ProjectId, id: Uuid) -> Result<CustomDomain> {
        self.project_for(actor, project, ProjectAction::Configure).await?;
        let mut domain = self
            .store
            .domain_get(project, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("Custom domain {id} does not exist.")))?;
        if domain.verified_at.is_none() {
            let published = self.fetch_verification(&domain.hostname).await?;
            if !constant_time_eq(published.trim().as_bytes(), domain.verification_token.as_bytes()) {
                return Err(Error::Invalid(format!(
                    "http://{}{VERIFICATION_PATH} does not contain this domain's verification token.",
                    domain.hostname
                )));
            }
            let now = self.clock.now();
            let mut tx = self.store.begin().await?;
            if !self.store.domain_mark_verified_in_tx(&mut tx, project, id, now).await? {
                return Err(Error::NotFound(format!("Custom domain {id} does not exist.")));
            }
            let seq = self.publish_in_tx(&mut tx, project).await?;
            tx.commit().await.map_err(StoreError::from)?;
            self.announce(seq);
            domain.verified_at = Some(now);
            tracing::info!(project = %project, hostname = %domain.hostname, "custom domain verified");
        }
        Ok(domain)
    }

    fn validate_hostname(&self, h: &str) -> Result<()> {
        let invalid = |why: &str| Error::Invalid(format!("`{h}` is not a usable hostname: {why}."));
        let labels: Vec<&str> = h.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if h.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid("use a DNS name such as login.example.com"));
        }
        if h.parse::<IpAddr>().is_ok() || labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
            return Err(invalid("IP addresses cannot be custom domains"));
        }
        let projects = &self.settings.projects_domain;
        if h == projects || h.ends_with(&format!(".{projects}")) || h == "localhost" || h.ends_with(".localhost") {
            return Err(invalid("it is reserved"));
        }
        Ok(())
    }

    async fn fetch_verification(&self, hostname: &str) -> Result<String> {
        let cfg = &self.settings.domain_verification;
        let failed = |why: String| Error::Invalid(format!("Verifying {hostname} failed: {why}"));
        let ip = match cfg.resolve.get(hostname) {
            Some(ip) => *ip,
            None => tokio::net::lookup_host((hostname, cfg.port))
                .await
                .map_err(|e| failed(format!("the name does not resolve ({e})")))?
                .map(|a| a.ip())
                .next()
                .ok_or_else(|| failed("the name does not resolve".into()))?,
        };
        if !cfg.allow_private_addresses && !is_public(ip) {
            return Err(failed(format!("it resolves to {ip}, which is not a public address")));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .resolve(hostname, SocketAddr::new(ip, cfg.port))
            .build()
            .map_err(|e| failed(e.to_string()))?;
        let url = format!("http://{hostname}:{}{VERIFICATION_PATH}", cfg.port);
        let mut resp = client.get(&url).send().await.map_err(|e| failed(format!("cannot fetch {url} ({e})")))?;
        if !resp.status().is_success() {
            return Err(failed(format!("{url} answered {}", resp.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| failed(e.to_string()))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err(failed(format!("{url} answered more than {MAX_BODY} bytes")));
            }
        }
        String::from_utf8(body).map_err(|_| failed(format!("{url} did not answer text")))
    }
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn private_targets_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
