//! Test harness: a real localstripe per test, a fault-injecting proxy in front of it, and raw HTTP helpers
//! to look at Stripe's state without going through the code under test.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod proxy;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tessera_billing_stripe::testing::LocalStripeProcess;
use tessera_billing_stripe::{StripeBilling, StripeConfig};

pub use tessera_billing_stripe::testing::API_KEY;

/// A localstripe process on a free port (killed on drop), with raw HTTP to look at its state.
pub struct LocalStripe {
    pub port: u16,
    process: LocalStripeProcess,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl LocalStripe {
    /// Starts `scripts/localstripe` and waits until it answers an authenticated request.
    pub async fn start() -> LocalStripe {
        let process = tokio::task::spawn_blocking(LocalStripeProcess::start).await.expect("localstripe starts");
        let http = Client::builder(TokioExecutor::new()).build_http();
        LocalStripe { port: process.port, process, http }
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
