//! SQL for the device authorization grant: device requests (found by device-code signature or user-code digest)
//! and device challenges (found by challenge or verifier digest). Every state change is a compare-and-set on the
//! `state` column, so an approval, a redemption or a challenge is won by exactly one request.

use sqlx::FromRow;
use tessera_platform::on_db;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{OAuth2Store, StoreError};
use crate::flow::device::{DeviceRequest, DeviceState};

#[derive(FromRow)]
struct DocRow {
    document: String,
    state: String,
    last_polled_at: Option<OffsetDateTime>,
}

fn parse(row: Option<DocRow>) -> Result<Option<DeviceRequest>, StoreError> {
    row.map(|r| {
        let mut req: DeviceRequest =
            serde_json::from_str(&r.document).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        req.last_polled_at = r.last_polled_at;
        // The column is authoritative: redemption moves it without rewriting the document.
        req.state = DeviceState::parse(&r.state).unwrap_or(req.state);
        Ok(req)
    })
    .transpose()
}

/// A browser's device challenge on its way through the project's verification UI.
#[derive(Debug, Clone, FromRow)]
pub struct DeviceChallenge {
    pub challenge: String,
    pub state: String,
    pub csrf_digest: String,
    pub request_url: String,
    pub device_request_id: Option<Uuid>,
    pub redirect_to: String,
    pub expires_at: OffsetDateTime,
}

impl OAuth2Store<'_> {
    /// Stores a new device request; [`StoreError::Conflict`] when its user code is taken by a live request.
    /// A finished-but-unexpired request no longer holds its code; an expired one gives it up here.
    pub async fn insert_device_request(
        &self,
        req: &DeviceRequest,
        device_code_signature: &str,
        user_code_digest: &str,
    ) -> Result<(), StoreError> {
        let doc = serde_json::to_string(req).expect("a device request serializes");
        on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_device_requests SET user_code_digest = NULL \
                 WHERE project_id = $1 AND user_code_digest = $2 AND expires_at <= $3",
            )
            .bind(self.project)
            .bind(user_code_digest)
            .bind(req.requested_at)
            .execute(pool)
            .await?;
            sqlx::query(
                "INSERT INTO oauth2_device_requests (project_id, id, client_id, device_code_signature, \
                 user_code_digest, state, document, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(self.project)
            .bind(req.id)
            .bind(&req.client_id)
            .bind(device_code_signature)
            .bind(user_code_digest)
            .bind(req.state.as_str())
            .bind(doc)
            .bind(req.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The live (pending) request a user code names.
    pub async fn device_request_by_user_code(&self, digest: &str) -> Result<Option<DeviceRequest>, StoreError> {
        let row: Option<DocRow> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT document, state, last_polled_at FROM oauth2_device_requests \
                 WHERE project_id = $1 AND user_code_digest = $2",
            )
            .bind(self.project)
            .bind(digest)
            .fetch_optional(pool)
            .await?
        });
        parse(row)
    }

    /// The request a device code's signature names, with its current state.
    pub async fn device_request_by_signature(&self, signature: &str) -> Result<Option<DeviceRequest>, StoreError> {
        let row: Option<DocRow> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT document, state, last_polled_at FROM oauth2_device_requests \
                 WHERE project_id = $1 AND device_code_signature = $2",
            )
            .bind(self.project)
            .bind(signature)
            .fetch_optional(pool)
            .await?
        });
        parse(row)
    }

    /// A request by id (from a device challenge).
    pub async fn device_request(&self, id: Uuid) -> Result<Option<DeviceRequest>, StoreError> {
        let row: Option<DocRow> = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT document, state, last_polled_at FROM oauth2_device_requests WHERE project_id = $1 AND id = $2",
            )
            .bind(self.project)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        parse(row)
    }

    /// Approves or denies a pending request (its document carries the outcome) and frees its user code;
    /// `false` when it was no longer pending or had expired.
    pub async fn finish_device_request(&self, req: &DeviceRequest, now: OffsetDateTime) -> Result<bool, StoreError> {
        let doc = serde_json::to_string(req).expect("a device request serializes");
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_device_requests SET state = $3, document = $4, user_code_digest = NULL \
                 WHERE project_id = $1 AND id = $2 AND state = $5 AND expires_at > $6",
            )
            .bind(self.project)
            .bind(req.id)
            .bind(req.state.as_str())
            .bind(doc)
            .bind(DeviceState::Pending.as_str())
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Records a poll of the token endpoint unless the previous one was after `not_after`; `false` means the
    /// device polls too fast (`slow_down`).
    pub async fn poll_device_request(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_device_requests SET last_polled_at = $3 WHERE project_id = $1 AND id = $2 \
                 AND (last_polled_at IS NULL OR last_polled_at <= $4)",
            )
            .bind(self.project)
            .bind(id)
            .bind(now)
            .bind(not_after)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Marks an approved request redeemed; `false` when it was not approved (already redeemed: a replay).
    pub async fn redeem_device_request(&self, id: Uuid) -> Result<bool, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query("UPDATE oauth2_device_requests SET state = $3 WHERE project_id = $1 AND id = $2 AND state = $4")
                .bind(self.project)
                .bind(id)
                .bind(DeviceState::Redeemed.as_str())
                .bind(DeviceState::Approved.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// The login and consent facts of a redeemed device request (its id is the tokens' request id), for
    /// `/userinfo`.
    pub async fn device_grant_session(&self, request_id: Uuid) -> Result<Option<serde_json::Value>, StoreError> {
        Ok(self.device_request(request_id).await?.and_then(|r| r.grant).map(|g| g.session))
    }

    /// Drops an unfinished browser flow of a device request (its flow id is the request's id), so that a user who
    /// enters the code again starts over; the earlier browser's challenges and verifiers stop working.
    pub async fn drop_unfinished_device_flow(&self, id: Uuid) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query("DELETE FROM oauth2_flows WHERE project_id = $1 AND id = $2 AND state <> $3")
                .bind(self.project)
                .bind(id)
                .bind("done")
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores a new device challenge.
    pub async fn insert_device_challenge(&self, c: &DeviceChallenge) -> Result<(), StoreError> {
        on_db!(self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth2_device_challenges (project_id, challenge, state, csrf_digest, request_url, \
                 redirect_to, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(self.project)
            .bind(&c.challenge)
            .bind(&c.state)
            .bind(&c.csrf_digest)
            .bind(&c.request_url)
            .bind(&c.redirect_to)
            .bind(c.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A device challenge by its value (`Some(digest)` of `verifier`: by its verifier instead).
    pub async fn device_challenge(
        &self,
        challenge: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<Option<DeviceChallenge>, StoreError> {
        let row = on_db!(self.db, pool => {
            sqlx::query_as(
                "SELECT challenge, state, csrf_digest, request_url, device_request_id, redirect_to, expires_at \
                 FROM oauth2_device_challenges WHERE project_id = $1 AND (challenge = $2 OR verifier = $3)",
            )
            .bind(self.project)
            .bind(challenge)
            .bind(verifier)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Moves a device challenge from `from` to `to`, recording the verifier digest, device request and redirect
    /// when given; `false` when another request moved it first.
    pub async fn advance_device_challenge(
        &self,
        challenge: &str,
        from: &str,
        to: &str,
        verifier: Option<&str>,
        device_request_id: Option<Uuid>,
        redirect_to: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self.db, pool => {
            sqlx::query(
                "UPDATE oauth2_device_challenges SET state = $4, verifier = COALESCE($5, verifier), \
                 device_request_id = COALESCE($6, device_request_id), redirect_to = COALESCE($7, redirect_to) \
                 WHERE project_id = $1 AND challenge = $2 AND state = $3",
            )
            .bind(self.project)
            .bind(challenge)
            .bind(from)
            .bind(to)
            .bind(verifier)
            .bind(device_request_id)
            .bind(redirect_to)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }
}
