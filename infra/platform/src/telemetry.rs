//! Logs, spans and Prometheus metrics.
//!
//! Tracing output is the one process-wide sink (a subscriber is global by nature); everything else,
//! including the metrics registry, is a value passed down as state, so two servers in one process
//! (as `tessera dev` and the tests run them) keep separate counters.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, TelemetryConfig};

/// Installs the global tracing subscriber; a second call is a no-op (tests start many servers).
pub fn init_tracing(config: &TelemetryConfig) {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Pretty => builder.compact().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}

/// Request counts and latencies by route pattern and status; one per server.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl HttpMetrics {
    /// Creates the metrics for one server, labelled with its component name (`control_plane`, `worker`).
    pub fn new(component: &str) -> Self {
        let registry = Registry::new_custom(Some("tessera".to_owned()), None).expect("valid registry prefix");
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests served, by route pattern, method and status")
                .const_label("component", component),
            &["route", "method", "status"],
        )
        .expect("valid counter");
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency, by route pattern and status")
                .const_label("component", component)
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["route", "method", "status"],
        )
        .expect("valid histogram");
        registry.register(Box::new(requests.clone())).expect("register counter");
        registry.register(Box::new(latency.clone())).expect("register histogram");
        Self { registry, requests, latency }
    }

    /// The registry, for crates that add their own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [route, method, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// The text exposition of every metric in the registry.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buf).expect("text encoding cannot fail");
        String::from_utf8(buf).expect("prometheus text is UTF-8")
    }
}

/// Middleware that records every request in the [`HttpMetrics`] found in app data, and opens a span.
pub async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<HttpMetrics>>().cloned();
    // Label by pattern, not path, so ids do not explode the label set.
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("request", %method, route = %route);
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(resp) => resp.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(m) = metrics {
        m.observe(&route, &method, status, elapsed);
    }
    tracing::debug!(parent: &span, status, elapsed_ms = elapsed * 1000.0, "request served");
    result
}

/// `GET /metrics`.
pub async fn metrics_endpoint(metrics: web::Data<HttpMetrics>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(metrics.render())
}
