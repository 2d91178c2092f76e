//! The worker's own metrics, beside the per-route request metrics every server has.

use prometheus::{Gauge, IntCounterVec, IntGauge, IntGaugeVec, Opts};
use tessera_platform::telemetry::HttpMetrics;

use crate::directory::Directory;
use crate::directory::sync::SyncStatus;
use crate::usage::UsageStatus;

/// Per-project traffic and the directory's health.
#[derive(Debug, Clone)]
pub struct WorkerMetrics {
    pub http: HttpMetrics,
    /// Requests by project and outcome (`served`, `forwarded`, `rate_limited`, `halted`, `unauthorized`).
    pub tenant_requests: IntCounterVec,
    /// Requests sent on to another region, by target region.
    pub forwarded: IntCounterVec,
    directory_seq: IntGauge,
    directory_projects: IntGauge,
    lag_entries: IntGauge,
    lag_seconds: Gauge,
    since_contact: Gauge,
    usage: IntGaugeVec,
}

impl WorkerMetrics {
    /// Registers the worker's metrics, labelled with its region.
    pub fn new(region: &str) -> Self {
        let http = HttpMetrics::new("worker");
        let registry = http.registry();
        let region_opts = |name: &str, help: &str| Opts::new(name, help).const_label("region", region);
        let tenant_requests = IntCounterVec::new(
            region_opts("tenant_requests_total", "Requests for projects, by project and outcome"),
            &["project", "outcome"],
        )
        .expect("valid metric");
        let forwarded = IntCounterVec::new(
            region_opts("forwarded_requests_total", "Requests forwarded to another region"),
            &["to_region"],
        )
        .expect("valid metric");
        let directory_seq =
            IntGauge::with_opts(region_opts("directory_seq", "Directory entries applied (the version)"))
                .expect("valid metric");
        let directory_projects =
            IntGauge::with_opts(region_opts("directory_projects", "Projects in the directory")).expect("valid metric");
        let lag_entries = IntGauge::with_opts(region_opts(
            "directory_lag_entries",
            "Entries the control plane has that are not applied here",
        ))
        .expect("valid metric");
        let lag_seconds =
            Gauge::with_opts(region_opts("directory_lag_seconds", "Seconds since this region was last current"))
                .expect("valid metric");
        let since_contact = Gauge::with_opts(region_opts(
            "directory_seconds_since_contact",
            "Seconds since the control plane last answered",
        ))
        .expect("valid metric");
        let usage = IntGaugeVec::new(
            region_opts(
                "usage_progress",
                "Usage metering since start: batches/events flushed, batches acknowledged, failed shipping rounds",
            ),
            &["what"],
        )
        .expect("valid metric");
        for m in [
            Box::new(usage.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(tenant_requests.clone()),
            Box::new(forwarded.clone()),
            Box::new(directory_seq.clone()),
            Box::new(directory_projects.clone()),
            Box::new(lag_entries.clone()),
            Box::new(lag_seconds.clone()),
            Box::new(since_contact.clone()),
        ] {
            registry.register(m).expect("metric names are unique");
        }
        Self {
            http,
            tenant_requests,
            forwarded,
            directory_seq,
            directory_projects,
            lag_entries,
            lag_seconds,
            since_contact,
            usage,
        }
    }

    /// Counts one request for a project.
    pub fn tenant(&self, project: &str, outcome: &str) {
        self.tenant_requests.with_label_values(&[project, outcome]).inc();
    }

    /// Sets the directory gauges from the live state; called at scrape time.
    pub fn refresh(&self, directory: &Directory, status: &SyncStatus, usage: &UsageStatus) {
        use std::sync::atomic::Ordering::Relaxed;
        for (what, n) in [
            ("flushed_batches", usage.flushed_batches.load(Relaxed)),
            ("flushed_events", usage.flushed_events.load(Relaxed)),
            ("acknowledged_batches", usage.acknowledged.load(Relaxed)),
            ("ship_failures", usage.ship_failures.load(Relaxed)),
        ] {
            self.usage.with_label_values(&[what]).set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let applied = directory.seq();
        self.directory_seq.set(applied);
        self.directory_projects.set(directory.len() as i64);
        self.lag_entries.set(status.lag_entries(applied));
        let lag = status.lag_seconds(applied);
        self.lag_seconds.set(if lag.is_finite() { lag } else { -1.0 });
        self.since_contact.set(status.seconds_since_contact().unwrap_or(-1.0));
    }
}
