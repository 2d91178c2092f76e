//! The resolved tenant: what an engine receives for every request, and the only way it reaches tenant data.
//!
//! The data-plane worker resolves each request to exactly one project before any engine code runs and puts a
//! [`TenantContext`] into the request. Engines take it as an extractor. Its [`TenantDb`] is the engines' only
//! handle on the regional database, and it carries the project id that every tenant query must bind: engines
//! never see a bare pool, so they cannot reach another tenant's rows by accident.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use tessera_project_config::RenderedConfig;

use crate::ApiError;
use crate::db::Database;
use crate::ids::{ProjectId, RevisionId, WorkspaceId};
use crate::usage::UsageRecorder;

/// A request's project, as the serving region knows it.
#[derive(Clone, Debug)]
pub struct TenantContext {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    project_id: ProjectId,
    workspace_id: WorkspaceId,
    slug: String,
    environment: String,
    region: String,
    revision_id: Option<RevisionId>,
    config: Arc<RenderedConfig>,
    base_path: String,
    quota_exceeded: Vec<String>,
    db: Database,
    usage: UsageRecorder,
}

/// What the worker knows about a project when it builds a context.
#[derive(Debug, Clone)]
pub struct TenantParts {
    pub project_id: ProjectId,
    pub workspace_id: WorkspaceId,
    pub slug: String,
    pub environment: String,
    pub revision_id: Option<RevisionId>,
    pub config: Arc<RenderedConfig>,
    /// The path the client reached the project under (`/p/<slug>` through the path prefix, else empty);
    /// engines put it in front of links they return.
    pub base_path: String,
    /// Billable meters over their hard limit this period (from the directory); engines refuse that usage.
    pub quota_exceeded: Vec<String>,
}

impl TenantContext {
    /// Built by the worker after resolution; `region` is the serving region, `db` its database.
    pub fn new(parts: TenantParts, region: &str, db: Database, usage: UsageRecorder) -> Self {
        Self {
            inner: Arc::new(Inner {
                project_id: parts.project_id,
                workspace_id: parts.workspace_id,
                slug: parts.slug,
                environment: parts.environment,
                region: region.to_owned(),
                revision_id: parts.revision_id,
                config: parts.config,
                base_path: parts.base_path,
                quota_exceeded: parts.quota_exceeded,
                db,
                usage,
            }),
        }
    }

    /// The project.
    pub fn project_id(&self) -> ProjectId {
        self.inner.project_id
    }

    /// The project's workspace.
    pub fn workspace_id(&self) -> WorkspaceId {
        self.inner.workspace_id
    }

    /// The project's slug.
    pub fn slug(&self) -> &str {
        &self.inner.slug
    }

    /// `prod`, `stage` or `dev`.
    pub fn environment(&self) -> &str {
        &self.inner.environment
    }

    /// The region serving this request (the project's home region).
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The configuration revision in force.
    pub fn revision_id(&self) -> Option<RevisionId> {
        self.inner.revision_id
    }

    /// The project's rendered configuration.
    pub fn config(&self) -> &RenderedConfig {
        &self.inner.config
    }

    /// The path the client reached the project under (`/p/<slug>`, or empty at the project's own host).
    pub fn base_path(&self) -> &str {
        &self.inner.base_path
    }

    /// The project's public base URL as this client reached it (scheme and `Host` of the request plus the
    /// base path), without a trailing slash: links handed out work through whichever address the client used.
    pub fn public_base_url(&self, req: &HttpRequest) -> String {
        let info = req.connection_info();
        format!("{}://{}{}", info.scheme(), info.host(), self.base_path())
    }

    /// Counts this project's usage (in memory; the worker ships it to the control plane).
    pub fn usage(&self) -> TenantUsage<'_> {
        TenantUsage { recorder: &self.inner.usage, project_id: self.inner.project_id }
    }

    /// Whether the project is over `meter`'s hard limit this period (from the directory); engines then refuse
    /// that usage with their own `quota_exceeded` error (402).
    pub fn over_quota(&self, meter: &str) -> bool {
        self.inner.quota_exceeded.iter().any(|m| m == meter)
    }

    /// The project's slice of the regional database.
    pub fn db(&self) -> TenantDb<'_> {
        TenantDb { db: &self.inner.db, project_id: self.inner.project_id }
    }
}

/// The error a project over a hard limit gets; `meter` is the billable meter (`permission_checks`, ...).
pub fn quota_exceeded(meter: &str) -> ApiError {
    ApiError::new(actix_web::http::StatusCode::PAYMENT_REQUIRED, "Quota exceeded")
        .with_id("quota_exceeded")
        .with_reason(format!(
            "This project used all of its plan's `{meter}` for this billing period; upgrade the workspace's plan to continue."
        ))
}

/// The usage recorder, bound to one project.
#[derive(Clone, Copy, Debug)]
pub struct TenantUsage<'a> {
    recorder: &'a UsageRecorder,
    project_id: ProjectId,
}

impl TenantUsage<'_> {
    /// Counts `n` events of `meter` today.
    pub fn count(&self, meter: &'static str, n: u64) {
        self.recorder.count(self.project_id, meter, n);
    }

    /// Notes an identity (or OAuth2 subject) active today.
    pub fn active_identity(&self, identity: &str) {
        self.recorder.active_identity(self.project_id, identity);
    }
}

/// The regional database, bound to one project. Every query through it must filter on [`TenantDb::project_id`].
#[derive(Clone, Copy, Debug)]
pub struct TenantDb<'a> {
    db: &'a Database,
    project_id: ProjectId,
}

impl<'a> TenantDb<'a> {
    /// The project every query must bind.
    pub fn project_id(&self) -> ProjectId {
        self.project_id
    }

    /// The pool, for the engine's store module.
    pub fn database(&self) -> &'a Database {
        self.db
    }
}

impl FromRequest for TenantContext {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Absent only if a route is registered outside the worker's tenant scope: a programming error.
        ready(req.extensions().get::<TenantContext>().cloned().ok_or_else(|| {
            tracing::error!(path = %req.path(), "tenant route reached without a resolved tenant");
            ApiError::internal()
        }))
    }
}
