//! Each project's identity schemas, compiled once per configuration revision.
//!
//! Schemas arrive inline in the project's configuration through the directory; the control plane already
//! refused any that do not compile, so a failure here means a bug or a corrupted record, reported as a 500.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tessera_identity_schema::IdentitySchema;
use tessera_platform::ids::{ProjectId, RevisionId};
use tessera_platform::tenant::TenantContext;
use tessera_project_config::identity::decode_inline_schema;

use crate::error::IdentityError;

/// A project's compiled schemas.
#[derive(Debug)]
pub struct ProjectSchemas {
    /// The schema new identities get when none is named.
    pub default_id: String,
    /// In configuration order.
    pub schemas: Vec<Arc<IdentitySchema>>,
}

impl ProjectSchemas {
    /// The schema with `id`.
    pub fn get(&self, id: &str) -> Option<&Arc<IdentitySchema>> {
        self.schemas.iter().find(|s| s.id() == id)
    }

    /// The default schema.
    pub fn default_schema(&self) -> Option<&Arc<IdentitySchema>> {
        self.get(&self.default_id)
    }

    /// The schema `id` names, or the default one for an empty id; a 400 naming the id otherwise.
    pub fn resolve(&self, id: &str) -> Result<&Arc<IdentitySchema>, IdentityError> {
        let id = if id.is_empty() { self.default_id.as_str() } else { id };
        self.get(id).ok_or_else(|| IdentityError::BadRequest(format!("Unable to find JSON Schema ID: {id}")))
    }
}

type Cached = (Option<RevisionId>, Arc<ProjectSchemas>);

/// Compiled schemas of the projects this worker served.
#[derive(Debug, Default)]
pub struct SchemaCache {
    projects: Mutex<HashMap<ProjectId, Cached>>,
}

impl SchemaCache {
    /// The tenant's schemas at its current revision.
    pub fn for_tenant(&self, tenant: &TenantContext) -> Result<Arc<ProjectSchemas>, IdentityError> {
        let revision = tenant.revision_id();
        if let Some((rev, schemas)) = self.projects.lock().get(&tenant.project_id())
            && *rev == revision
        {
            return Ok(schemas.clone());
        }
        let config = &tenant.config().identity.identity;
        let mut schemas = Vec::with_capacity(config.schemas.len());
        for s in &config.schemas {
            let raw = decode_inline_schema(&s.url).map_err(|e| compile_failure(&s.id, &e))?;
            let compiled = IdentitySchema::compile(&s.id, &raw).map_err(|e| compile_failure(&s.id, &e.to_string()))?;
            schemas.push(Arc::new(compiled));
        }
        let compiled = Arc::new(ProjectSchemas { default_id: config.default_schema_id.clone(), schemas });
        self.projects.lock().insert(tenant.project_id(), (revision, compiled.clone()));
        Ok(compiled)
    }
}

fn compile_failure(id: &str, error: &str) -> IdentityError {
    tracing::error!(schema = id, error, "a stored identity schema does not compile");
    IdentityError::Internal
}
