//! SQL for logout requests. Like flows, they move between states with a compare-and-set.

use tessera_platform::on_db;

use super::{OAuth2Store, StoreError};
use crate::flow::logout::{LogoutRequest, LogoutState};

fn state_name(s: LogoutState) -> &'static str {
    match s {
        LogoutState::Unused => "unused",
        LogoutState::Accepted => "accepted",
        LogoutState::Rejected => "rejected",
        LogoutState::Done => "done",
    }
}

impl OAuth2Store<'_> {
    /// Stores a new logout request.
    pub async fn insert_logout(&self, r: &LogoutRequest) -> Result<(), StoreError> {
        let doc = serde_json::to_string(r).expect("a logout request serializes");
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_logout_requests (project_id, challenge, state, document, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(self.project)
            .bind(&r.challenge)
            .bind(state_name(r.state))
            .bind(doc)
            .bind(r.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A logout request by its challenge, or by its verifier's digest.
    pub async fn logout(
        &self,
        challenge: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<Option<LogoutRequest>, StoreError> {
        let row: Option<(String,)> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT document FROM oauth2_logout_requests WHERE project_id = $1 \
                 AND (challenge = $2 OR verifier = $3)",
            )
            .bind(self.project)
            .bind(challenge)
            .bind(verifier)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(d,)| serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
    }

    /// Moves a logout request from `from` to its new state; `false` when another request moved it first.
    pub async fn advance_logout(
        &self,
        r: &LogoutRequest,
        from: LogoutState,
        verifier: Option<&str>,
    ) -> Result<bool, StoreError> {
        let doc = serde_json::to_string(r).expect("a logout request serializes");
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_logout_requests SET state = $3, document = $4, verifier = COALESCE($5, verifier) \
                 WHERE project_id = $1 AND challenge = $2 AND state = $6",
            )
            .bind(self.project)
            .bind(&r.challenge)
            .bind(state_name(r.state))
            .bind(doc)
            .bind(verifier)
            .bind(state_name(from))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }
}
