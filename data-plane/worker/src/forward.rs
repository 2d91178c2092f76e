//! Forwarding a request to the project's home region.
//!
//! The request keeps its method, path, query, body, headers and `Host`; the client's address travels in
//! `X-Forwarded-For`. Forwarded requests carry a hop count and the installation's forwarding secret; a
//! receiving worker trusts the client address and hop count only when the secret matches, and refuses a
//! request that has already been forwarded `max_hops` times (508), so a stale directory cannot loop requests.
//! The relay uses hyper's pooled client directly: on the forwarding hot path it costs measurably less per
//! request than a higher-level client.

use std::net::IpAddr;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderName;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use http_body_util::{BodyExt, BodyStream, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
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

/// Answers up to this size are relayed whole (cheaper than chunked streaming); larger ones stream.
const BUFFER_LIMIT: u64 = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

/// The keep-alive connection pool used to reach other regions (HTTP or HTTPS).
pub type ForwardClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<web::Bytes>>;

/// Builds the pool; HTTPS regions are verified with the platform's trust store.
pub fn client() -> ForwardClient {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    http.set_keepalive(Some(Duration::from_secs(60)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_platform_verifier()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .build(https)
}

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

fn bad_gateway(reason: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "The project's home region cannot be reached").with_reason(reason.to_owned())
}

/// Sends the request to `base_url` (the home region) and relays the answer.
pub async fn forward(
    client: &ForwardClient,
    req: &HttpRequest,
    body: web::Bytes,
    base_url: &str,
    provenance: Provenance,
    secret: &str,
    trace: &str,
) -> Result<HttpResponse, ApiError> {
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{path_and_query}", base_url.trim_end_matches('/'));
    let mut out = http::Request::builder()
        .method(http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or(http::Method::GET))
        .uri(&url);
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
        out = out.header(n, value.as_bytes());
    }
    out = out
        .header(HOPS_HEADER, (provenance.hops + 1).to_string())
        .header(SECRET_HEADER, secret)
        .header(TRACEPARENT, format!("00-{trace}-{:016x}-01", rand::random::<u64>()));
    if let Some(client_ip) = provenance.client {
        out = out.header("x-forwarded-for", client_ip.to_string());
    }
    let request = out.body(Full::new(body)).map_err(|e| {
        tracing::warn!(error = %e, "the request cannot be forwarded as received");
        ApiError::bad_request("The request cannot be forwarded to the project's home region.")
    })?;
    let resp = match tokio::time::timeout(TIMEOUT, client.request(request)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => {
            tracing::warn!(target_url = %url, error = %e, "forwarding to the home region failed");
            return Err(bad_gateway("The request could not be forwarded to the project's home region; retry later."));
        }
        Err(_) => return Err(bad_gateway("The project's home region did not answer in time.")),
    };
    let mut answer =
        HttpResponse::build(StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY));
    let mut length = None;
    for (name, value) in resp.headers() {
        if name == http::header::CONTENT_LENGTH {
            length = value.to_str().ok().and_then(|v| v.parse::<u64>().ok());
        }
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if let Ok(n) = HeaderName::from_bytes(name.as_str().as_bytes()) {
            answer.append_header((n, value.as_bytes()));
        }
    }
    let body = resp.into_body();
    match length {
        Some(len) if len <= BUFFER_LIMIT => {
            let bytes = body.collect().await.map_err(|e| {
                tracing::warn!(error = %e, "the home region's answer broke off");
                bad_gateway("The project's home region answered incompletely.")
            })?;
            Ok(answer.body(bytes.to_bytes()))
        }
        _ => Ok(answer.streaming(BodyStream::new(body).filter_map(|frame| async move {
            match frame {
                Ok(f) => f.into_data().ok().map(Ok),
                Err(e) => Some(Err(std::io::Error::other(e))),
            }
        }))),
    }
}
