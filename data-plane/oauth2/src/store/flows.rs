//! SQL for authorization flows, login sessions and remembered consents. Verifiers arrive only as digests.
//! A flow moves from state to state with a compare-and-set on its `state` column, so two requests racing on
//! one challenge or verifier cannot both win.

use sqlx::FromRow;
use tessera_platform::on_db;
use time::OffsetDateTime;

use super::{OAuth2Store, StoreError};
use crate::flow::{Flow, FlowState};

#[derive(FromRow)]
struct FlowRow {
    document: String,
}

fn state_name(s: FlowState) -> &'static str {
    match s {
        FlowState::LoginUnused => "login_unused",
        FlowState::LoginHandled => "login_handled",
        FlowState::ConsentUnused => "consent_unused",
        FlowState::ConsentHandled => "consent_handled",
        FlowState::Done => "done",
    }
}

fn parse(row: Option<FlowRow>) -> Result<Option<Flow>, StoreError> {
    row.map(|r| serde_json::from_str(&r.document).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
}

/// Which unique value a flow is looked up by.
#[derive(Debug, Clone, Copy)]
pub enum FlowKey<'a> {
    LoginChallenge(&'a str),
    ConsentChallenge(&'a str),
    LoginVerifier(&'a str),
    ConsentVerifier(&'a str),
}

/// A remembered login (Hydra's authentication session).
#[derive(Debug, Clone, FromRow)]
pub struct LoginSession {
    pub id: String,
    pub subject: String,
    pub remember: bool,
    pub authenticated_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub active: bool,
}

impl OAuth2Store<'_> {
    /// Stores a new flow.
    pub async fn insert_flow(&self, flow: &Flow) -> Result<(), StoreError> {
        let doc = serde_json::to_string(flow).expect("a flow serializes");
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_flows (project_id, id, state, login_challenge, document, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(self.project)
            .bind(flow.id)
            .bind(state_name(flow.state))
            .bind(&flow.login_challenge)
            .bind(doc)
            .bind(flow.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The flow a challenge or verifier digest names.
    pub async fn flow(&self, key: FlowKey<'_>) -> Result<Option<Flow>, StoreError> {
        let (column, value) = match key {
            FlowKey::LoginChallenge(v) => ("login_challenge", v),
            FlowKey::ConsentChallenge(v) => ("consent_challenge", v),
            FlowKey::LoginVerifier(v) => ("login_verifier", v),
            FlowKey::ConsentVerifier(v) => ("consent_verifier", v),
        };
        let sql = format!("SELECT document FROM oauth2_flows WHERE project_id = $1 AND {column} = $2");
        let row: Option<FlowRow> = on_db!(self.db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.project).bind(value).fetch_optional(pool).await?
        });
        parse(row)
    }

    /// Moves a flow from `from` to its new state with the given verifier digests; `false` when another request
    /// moved it first.
    pub async fn advance_flow(
        &self,
        flow: &Flow,
        from: FlowState,
        login_verifier: Option<&str>,
        consent_verifier: Option<&str>,
    ) -> Result<bool, StoreError> {
        let doc = serde_json::to_string(flow).expect("a flow serializes");
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_flows SET state = $3, document = $4, consent_challenge = $5, \
                 login_verifier = COALESCE($6, login_verifier), consent_verifier = COALESCE($7, consent_verifier) \
                 WHERE project_id = $1 AND id = $2 AND state = $8",
            )
            .bind(self.project)
            .bind(flow.id)
            .bind(state_name(flow.state))
            .bind(doc)
            .bind(&flow.consent_challenge)
            .bind(login_verifier)
            .bind(consent_verifier)
            .bind(state_name(from))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Stores a login session, or refreshes an existing one's authentication time.
    pub async fn upsert_login_session(&self, s: &LoginSession) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_login_sessions (project_id, id, subject, remember, authenticated_at, expires_at, active) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, id) DO UPDATE SET \
                 subject = excluded.subject, remember = excluded.remember, authenticated_at = excluded.authenticated_at, \
                 expires_at = excluded.expires_at, active = excluded.active",
            )
            .bind(self.project)
            .bind(&s.id)
            .bind(&s.subject)
            .bind(s.remember)
            .bind(s.authenticated_at)
            .bind(s.expires_at)
            .bind(s.active)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A login session by its id.
    pub async fn login_session(&self, id: &str) -> Result<Option<LoginSession>, StoreError> {
        let row = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT id, subject, remember, authenticated_at, expires_at, active FROM oauth2_login_sessions \
                 WHERE project_id = $1 AND id = $2",
            )
            .bind(self.project)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Ends login sessions: one by id, or all of a subject.
    pub async fn revoke_login_sessions(&self, subject: Option<&str>, sid: Option<&str>) -> Result<u64, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_login_sessions SET active = $2 WHERE project_id = $1 \
                 AND ($3 IS NULL OR subject = $3) AND ($4 IS NULL OR id = $4)",
            )
            .bind(self.project)
            .bind(false)
            .bind(subject)
            .bind(sid)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }

    /// Records a consent that was given (every one is listed; remembered ones make later requests skip).
    pub async fn insert_consent(&self, flow: &Flow, expires_at: Option<OffsetDateTime>) -> Result<(), StoreError> {
        let Some(consent) = &flow.consent else { return Ok(()) };
        let doc = serde_json::to_string(flow).expect("a flow serializes");
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_consents (project_id, flow_id, subject, client_id, login_session_id, remember, \
                 document, handled_at, expires_at, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(self.project)
            .bind(flow.id)
            .bind(&flow.subject)
            .bind(&flow.request.client_id)
            .bind(&flow.login_session_id)
            .bind(consent.remember)
            .bind(doc)
            .bind(consent.handled_at)
            .bind(expires_at)
            .bind(true)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Active consents of a subject (optionally for one client), newest first; `remembered_only` for skip checks.
    pub async fn consents(
        &self,
        subject: &str,
        client_id: Option<&str>,
        remembered_only: bool,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<Flow>, StoreError> {
        let rows: Vec<FlowRow> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT document FROM oauth2_consents WHERE project_id = $1 AND subject = $2 AND active = $3 \
                 AND ($4 IS NULL OR client_id = $4) AND (remember = $3 OR $5 = $6) \
                 AND (expires_at IS NULL OR expires_at > $7) ORDER BY handled_at DESC LIMIT $8",
            )
            .bind(self.project)
            .bind(subject)
            .bind(true)
            .bind(client_id)
            .bind(remembered_only)
            .bind(false)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| serde_json::from_str(&r.document).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    /// Revokes a subject's consents (for one client, or all); the flow ids whose tokens must go too.
    pub async fn revoke_consents(&self, subject: &str, client_id: Option<&str>) -> Result<Vec<uuid::Uuid>, StoreError> {
        let ids: Vec<(uuid::Uuid,)> = on_db!(self.db, pool => {
            sqlx::query_as(
                "UPDATE oauth2_consents SET active = $3 WHERE project_id = $1 AND subject = $2 \
                 AND ($4 IS NULL OR client_id = $4) AND active = $5 RETURNING flow_id",
            )
            .bind(self.project)
            .bind(subject)
            .bind(false)
            .bind(client_id)
            .bind(true)
            .fetch_all(pool)
            .await?
        });
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}
