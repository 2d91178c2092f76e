//! A fault-injecting HTTP proxy between the client under test and localstripe.
//!
//! It forwards every request and records what it saw. Rules pick the n-th request matching a method and path
//! and either answer 500 without forwarding (Stripe never saw it), or forward it, wait for localstripe's answer
//! and then hold the response far past the client's timeout (Stripe applied it, the client saw a timeout).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// How long a stalled response is held: far beyond any client timeout the tests use.
const STALL: Duration = Duration::from_secs(60);

/// What to do to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 500 with a Stripe error body, without forwarding.
    Status500,
    /// Forward, then hold the response until the client gave up.
    StallAfterForward,
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path without the query.
    pub path: String,
    pub idempotency_key: Option<String>,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
}

struct Rule {
    method: String,
    path: String,
    /// Matching requests still to let through before the fault applies.
    skip: usize,
    /// Matching requests the fault still applies to.
    times: usize,
    fault: Fault,
}

struct State {
    upstream: u16,
    seen: Mutex<Vec<Seen>>,
    rules: Mutex<Vec<Rule>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// The running proxy; its task ends with the test's runtime.
pub struct FaultProxy {
    pub port: u16,
    state: Arc<State>,
}

impl FaultProxy {
    /// Listens on a free port and forwards to localstripe on `upstream`.
    pub async fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy addr").port();
        let state = Arc::new(State {
            upstream,
            seen: Mutex::new(Vec::new()),
            rules: Mutex::new(Vec::new()),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let accept_state = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = accept_state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        FaultProxy { port, state }
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Applies `fault` to the `nth` (1-based) request from now on matching `method` and `path` exactly.
    pub fn fail_nth(&self, method: &str, path: &str, nth: usize, fault: Fault) {
        self.fail_range(method, path, nth, 1, fault);
    }

    /// Applies `fault` to `times` consecutive matching requests starting with the `nth`.
    pub fn fail_range(&self, method: &str, path: &str, nth: usize, times: usize, fault: Fault) {
        assert!(nth >= 1, "requests are counted from 1");
        self.state.rules.lock().unwrap().push(Rule {
            method: method.to_owned(),
            path: path.to_owned(),
            skip: nth - 1,
            times,
            fault,
        });
    }

    /// Drops every rule, so later requests pass untouched.
    pub fn clear_rules(&self) {
        self.state.rules.lock().unwrap().clear();
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Requests seen with this method and exact path.
    pub fn requests(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.method == method && s.path == path).collect()
    }

    /// Requests seen with this method and a path starting with `prefix`.
    pub fn requests_under(&self, method: &str, prefix: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.method == method && s.path.starts_with(prefix)).collect()
    }

    /// Forgets what was seen, so a test can count one phase at a time.
    pub fn clear_seen(&self) {
        self.state.seen.lock().unwrap().clear();
    }
}

/// The fault for this request. Every matching rule counts the request towards its `nth`; the first rule whose
/// turn it is fires.
fn pick_fault(state: &State, method: &str, path: &str) -> Option<Fault> {
    let mut rules = state.rules.lock().unwrap();
    let mut fired = None;
    for rule in rules.iter_mut().filter(|r| r.method == method && r.path == path && r.times > 0) {
        if rule.skip > 0 {
            rule.skip -= 1;
        } else if fired.is_none() {
            rule.times -= 1;
            fired = Some(rule.fault);
        }
    }
    fired
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let fault = pick_fault(&state, &method, &path);
    let idempotency_key = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    state.seen.lock().unwrap().push(Seen { method, path, idempotency_key, fault });

    if fault == Some(Fault::Status500) {
        let body = r#"{"error":{"type":"api_error","message":"injected by the test proxy"}}"#;
        return Ok(json(500, Bytes::from_static(body.as_bytes())));
    }
    let response = match forward(&state, req).await {
        Ok(response) => response,
        Err(e) => {
            return Ok(json(502, Bytes::from(format!("{{\"error\":{{\"type\":\"api_error\",\"message\":{e:?}}}}}"))));
        }
    };
    if fault == Some(Fault::StallAfterForward) {
        tokio::time::sleep(STALL).await;
    }
    Ok(response)
}

async fn forward(state: &State, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, String> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut upstream = Request::builder()
        .method(parts.method.clone())
        .uri(format!("http://127.0.0.1:{}{path_and_query}", state.upstream));
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name != http::header::CONNECTION {
            upstream = upstream.header(name, value);
        }
    }
    let upstream = upstream.body(Full::new(body)).map_err(|e| e.to_string())?;
    let response = state.client.request(upstream).await.map_err(|e| e.to_string())?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let mut out = Response::builder().status(parts.status);
    for (name, value) in &parts.headers {
        if name != http::header::TRANSFER_ENCODING && name != http::header::CONNECTION {
            out = out.header(name, value);
        }
    }
    out.body(Full::new(body)).map_err(|e| e.to_string())
}

fn json(status: u16, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}
