//! Forwarding a request to the project's home region.
//!
//! The request keeps its method, path, query, body, headers and `Host`; the client's address travels in
//! `X-Forwarded-For`. Forwarded requests carry a hop count and the installation's forwarding secret; a
//! receiving worker trusts the client address and hop count only when the secret matches, and refuses a
//! request that has already been forwarded `max_hops` times (508), so a stale directory cannot loop requests.

use std::net::IpAddr;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderName;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use tessera_platform::ApiError;
use tessera_platform::secrets::constant_time_eq;

/// Carries the number of times a request has been forwarded.
pub const HOPS_HEADER: &str = "x-tessera-hops";
/// Carries the forwarding secret.
pub const SECRET_HEADER: &str = "x-tessera-forward-secret";
/// W3C trace context, propagated so one trace follows a request across regions.
pub const TRACEPARENT: &str = "traceparent";

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// What a worker learns from the forwarding headers of an incoming request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provenance {
    /// How many workers forwarded it before this one (0 from a client).
    pub hops: u8,
    /// The original client's address.
    pub client: Option<IpAddr>,
}

/// Reads the forwarding headers; they count only with the right secret (a client could send them too).
pub fn provenance(req: &HttpRequest, secret: &str) -> Provenance {
    let peer = req.peer_addr().map(|a| a.ip());
    let trusted = req
        .headers()
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| constant_time_eq(v.as_bytes(), secret.as_bytes()));
    if !trusted {
        return Provenance { hops: 0, client: peer };
    }
    let hops = req.headers().get(HOPS_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    let client = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok())
        .or(peer);
    Provenance { hops, client }
}

/// The trace context of a request: the incoming `traceparent`, or a new one.
pub fn trace_id(req: &HttpRequest) -> String {
    req.headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split('-').nth(1))
        .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:032x}", rand::random::<u128>()))
}

/// Sends the request to `base_url` (the home region) and relays the answer.
pub async fn forward(
    client: &reqwest::Client,
    req: &HttpRequest,
    body: web::Bytes,
    base_url: &str,
    provenance: Provenance,
    secret: &str,
    trace: &str,
) -> Result<HttpResponse, ApiError> {
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{path_and_query}", base_url.trim_end_matches('/'));
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut out = reqwest::header::HeaderMap::new();
    for (name, value) in req.headers() {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n)
            || n == SECRET_HEADER
            || n == HOPS_HEADER
            || n == "x-forwarded-for"
            || n == TRACEPARENT
        {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(n.as_bytes()),
            reqwest::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(name, value);
        }
    }
    let host = req.connection_info().host().to_owned();
    insert(&mut out, "host", &host);
    insert(&mut out, HOPS_HEADER, &(provenance.hops + 1).to_string());
    insert(&mut out, SECRET_HEADER, secret);
    insert(&mut out, TRACEPARENT, &format!("00-{trace}-{:016x}-01", rand::random::<u64>()));
    if let Some(client_ip) = provenance.client {
        insert(&mut out, "x-forwarded-for", &client_ip.to_string());
    }
    let resp =
        client.request(method, &url).headers(out).body(body).timeout(Duration::from_secs(30)).send().await.map_err(
            |e| {
                tracing::warn!(target_url = %url, error = %e, "forwarding to the home region failed");
                ApiError::new(StatusCode::BAD_GATEWAY, "The project's home region cannot be reached")
                    .with_reason("The request could not be forwarded to the project's home region; retry later.")
            },
        )?;
    let mut answer =
        HttpResponse::build(StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY));
    for (name, value) in resp.headers() {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if let Ok(n) = HeaderName::from_bytes(name.as_str().as_bytes()) {
            answer.append_header((n, value.as_bytes()));
        }
    }
    // Small answers with a known length are relayed whole (cheaper than chunked streaming); the rest stream.
    match resp.content_length() {
        Some(len) if len <= BUFFER_LIMIT => {
            let bytes = resp.bytes().await.map_err(|e| {
                tracing::warn!(error = %e, "the home region's answer broke off");
                ApiError::new(StatusCode::BAD_GATEWAY, "The project's home region answered incompletely")
            })?;
            Ok(answer.body(bytes))
        }
        _ => Ok(answer.streaming(resp.bytes_stream().map(|chunk| chunk.map_err(std::io::Error::other)))),
    }
}

/// Answers up to this size are buffered rather than streamed.
const BUFFER_LIMIT: u64 = 64 * 1024;

fn insert(map: &mut reqwest::header::HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = reqwest::header::HeaderValue::from_str(value) {
        map.insert(name, v);
    }
}
