//! Test harness: a real localstripe per test, a fault-injecting proxy in front of it, and raw HTTP helpers
//! to look at Stripe's state without going through the code under test.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod proxy;

use std::io::Read;
use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tessera_billing_stripe::{StripeBilling, StripeConfig};

/// The key every test uses; localstripe accepts any `sk_...`.
pub const API_KEY: &str = "sk_test_tessera";
/// How long a first start may take, including installing localstripe into its virtualenv from PyPI.
const START_DEADLINE: Duration = Duration::from_secs(120);

/// A localstripe process on a free port, killed on drop.
pub struct LocalStripe {
    pub port: u16,
    child: Child,
    log: PathBuf,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl LocalStripe {
    /// Starts `scripts/localstripe <port>` and waits until it answers an authenticated request.
    pub async fn start() -> LocalStripe {
        let port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/localstripe");
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("localstripe-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("create localstripe log");
        let child = Command::new(script)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        let http = Client::builder(TokioExecutor::new()).build_http();
        let mut server = LocalStripe { port, child, log, http };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("localstripe exited with {status} before answering:\n{}", self.log_tail());
            }
            if self.request("GET", "/v1/customers", None).await.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "localstripe did not answer within {START_DEADLINE:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let start = text.len().saturating_sub(4_000);
        text.get(start..).unwrap_or_default().to_owned()
    }

    /// `http://127.0.0.1:<port>/`, the base URL the client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// A client talking to localstripe directly.
    pub fn client(&self) -> StripeBilling {
        StripeBilling::new(StripeConfig::localstripe(self.base_url())).expect("client")
    }

    async fn request(&self, method: &str, path: &str, form: Option<String>) -> Result<(u16, Value), String> {
        let uri = format!("http://127.0.0.1:{}{path}", self.port);
        let mut builder =
            http::Request::builder().method(method).uri(uri).header("authorization", format!("Bearer {API_KEY}"));
        if form.is_some() {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
        }
        let request = builder.body(Full::new(Bytes::from(form.unwrap_or_default()))).map_err(|e| e.to_string())?;
        let response = self.http.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        let json = serde_json::from_slice(&body).map_err(|e| format!("{status}: {e}"))?;
        Ok((status, json))
    }

    /// GETs a path straight from localstripe and panics unless it answers 200.
    pub async fn get(&self, path: &str) -> Value {
        match self.request("GET", path, None).await {
            Ok((200, json)) => json,
            other => panic!("GET {path}: {other:?}"),
        }
    }

    /// POSTs a form straight to localstripe and panics unless it answers 200.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let body = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        match self.request("POST", path, Some(body)).await {
            Ok((200, json)) => json,
            other => panic!("POST {path}: {other:?}"),
        }
    }

    /// Every object of a list endpoint (`path` may carry a query), following `has_more`.
    pub async fn list(&self, path: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut after: Option<String> = None;
        loop {
            let page = match &after {
                Some(a) => self.get(&format!("{path}{sep}limit=100&starting_after={a}")).await,
                None => self.get(&format!("{path}{sep}limit=100")).await,
            };
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data.last().and_then(|o| o["id"].as_str()).map(str::to_owned);
            all.extend(data);
            if page["has_more"] != Value::Bool(true) || after.is_none() {
                return all;
            }
        }
    }

    /// Gives a customer a card, so localstripe can charge paid plans when subscribing.
    pub async fn attach_test_card(&self, customer: &str) {
        self.post(
            &format!("/v1/customers/{customer}/sources"),
            &[
                ("source[object]", "card"),
                ("source[number]", "4242424242424242"),
                ("source[exp_month]", "12"),
                ("source[exp_year]", "2035"),
                ("source[cvc]", "123"),
            ],
        )
        .await;
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = StdListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// Percent-encodes a form key or value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of a metadata key of a Stripe object, or `""`.
pub fn meta<'a>(object: &'a Value, key: &str) -> &'a str {
    object["metadata"][key].as_str().unwrap_or_default()
}
