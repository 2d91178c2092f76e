//! The control plane's internal API for regions: the directory log and snapshots.
//!
//! Not part of the public workspace API (and not in its OpenAPI document). Callers are regional workers,
//! authenticated with region tokens; record JSON is passed through as stored, never re-serialized.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::web::{self, Data, Query};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;
use tessera_control_plane::app::DirectoryReadError;
use tessera_directory::{
    ENTRIES_PATH, MAX_PAGE, MAX_USAGE_UPLOAD_BYTES, MAX_WAIT_MS, RESYNC_ERROR_ID, SNAPSHOT_PATH, USAGE_BATCHES_PATH,
    UsageUpload,
};
use tessera_platform::ApiError;
use tessera_platform::http::bearer_token;

use crate::state::ApiState;

/// Registers the internal routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(ENTRIES_PATH, web::get().to(entries)).route(SNAPSHOT_PATH, web::get().to(snapshot)).service(
        web::resource(USAGE_BATCHES_PATH)
            .app_data(web::PayloadConfig::new(MAX_USAGE_UPLOAD_BYTES))
            .route(web::post().to(usage_batches)),
    );
}

/// A region, authenticated by its token.
#[derive(Debug)]
pub struct RegionCaller(pub String);

impl FromRequest for RegionCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<Data<ApiState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(ApiError::internal)?;
            let token = token.ok_or_else(|| ApiError::unauthorized("A region token is required."))?;
            Ok(RegionCaller(state.control_plane.region_authenticate(&token).await?))
        })
    }
}

#[derive(Debug, Deserialize)]
struct EntriesQuery {
    after: i64,
    limit: Option<u32>,
    wait_ms: Option<u64>,
}

async fn entries(
    region: RegionCaller,
    state: Data<ApiState>,
    query: Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(1000).clamp(1, MAX_PAGE);
    let wait = Duration::from_millis(query.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
    match state.control_plane.directory_entries(query.after, i64::from(limit), wait).await {
        Ok((entries, head)) => {
            let mut body = String::with_capacity(entries.iter().map(|(_, r)| r.len() + 32).sum::<usize>() + 32);
            body.push_str("{\"entries\":[");
            for (i, (seq, record)) in entries.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&format!("{{\"seq\":{seq},\"record\":"));
                body.push_str(record);
                body.push('}');
            }
            body.push_str(&format!("],\"head\":{head}}}"));
            tracing::debug!(region = %region.0, after = query.after, count = entries.len(), "directory entries served");
            Ok(HttpResponse::Ok().content_type("application/json").body(body))
        }
        Err(DirectoryReadError::Resync { cursor, oldest, head }) => {
            Err(ApiError::conflict(format!("Cursor {cursor} is outside the log ({oldest}..={head}); load a snapshot."))
                .with_id(RESYNC_ERROR_ID))
        }
        Err(DirectoryReadError::Other(e)) => Err(e.into()),
    }
}

async fn snapshot(region: RegionCaller, state: Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let (seq, records) = state.control_plane.directory_snapshot().await?;
    let mut body = String::with_capacity(records.iter().map(|r| r.len() + 1).sum::<usize>() + 64);
    body.push_str(&format!("{{\"seq\":{seq},\"records\":["));
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(record);
    }
    body.push_str("]}");
    tracing::info!(region = %region.0, seq, projects = records.len(), "directory snapshot served");
    Ok(HttpResponse::Ok().content_type("application/json").body(body))
}

/// A region's usage upload: applied exactly once per batch id, acknowledged per batch.
async fn usage_batches(
    region: RegionCaller,
    state: Data<ApiState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let upload: UsageUpload = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("The usage upload is not valid: {e}")))?;
    let ack = state.control_plane.usage_ingest(&region.0, upload).await?;
    Ok(HttpResponse::Ok().json(ack))
}
