//! Prometheus metrics, served at `/metrics` on their own listener (`--metrics-bind`).
//!
//! Every label value comes from a fixed set, so no request can add a time series: the
//! method is one of the standard ones or `other`, the route is the matched route
//! template or `unmatched`, the status a number.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// See [`method_label`].
    pub method: &'static str,
    /// The matched route (`/api/v1/user/tokens/{id}`), never the raw path, or
    /// `unmatched`.
    pub route: String,
    pub status: u16,
}

/// The method as a label: a standard method, else `other` (HTTP allows any token as a
/// method, and a raw one would make a new series per request).
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Histogram,
    /// Authenticated requests answered from the caches, and those that had to read.
    pub auth_cache_hits: Counter,
    pub auth_cache_misses: Counter,
    pub logins_failed: Counter,
    /// Audit entries written (committed or not).
    pub audit_entries: Counter,
    /// Finished passes of the purge task (deleted orgs, expired handles, old audit entries).
    pub purge_passes: Counter,
    /// Usage snapshots taken (members, workspaces, audit events of every org).
    pub usage_snapshots: Counter,
    /// Invalidations logged by other processes and applied here.
    pub invalidations_applied: Counter,
    /// The HTTP listeners' connections (see `runtime::connections`).
    pub connections: ConnectionMetrics,
}

/// What the connection limits did, for an operator to see them work.
#[derive(Clone, Default)]
pub struct ConnectionMetrics {
    /// Connections open now.
    pub open: Gauge,
    /// Connections answered 503 and closed at the cap.
    pub refused: Counter,
    /// Connections closed by a header-read, idle or no-progress timeout.
    pub timed_out: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let auth_cache_hits = Counter::default();
        let auth_cache_misses = Counter::default();
        let logins_failed = Counter::default();
        let audit_entries = Counter::default();
        let purge_passes = Counter::default();
        let usage_snapshots = Counter::default();
        let invalidations_applied = Counter::default();
        let connections = ConnectionMetrics::default();
        let mut registry = Registry::with_prefix("plinth");
        registry.register(
            "http_requests",
            "HTTP requests answered",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            http_duration.clone(),
        );
        registry.register(
            "auth_cache_hits",
            "Authentications answered from memory",
            auth_cache_hits.clone(),
        );
        registry.register(
            "auth_cache_misses",
            "Authentications that read the database",
            auth_cache_misses.clone(),
        );
        registry.register("logins_failed", "Failed logins", logins_failed.clone());
        registry.register(
            "audit_entries",
            "Audit entries written",
            audit_entries.clone(),
        );
        registry.register(
            "purge_passes",
            "Finished passes of the purge task",
            purge_passes.clone(),
        );
        registry.register(
            "usage_snapshots",
            "Usage snapshots taken",
            usage_snapshots.clone(),
        );
        registry.register(
            "invalidations_applied",
            "Invalidations logged by other processes (replicas, plinth admin) and applied here",
            invalidations_applied.clone(),
        );
        registry.register(
            "http_connections_open",
            "HTTP connections open now",
            connections.open.clone(),
        );
        registry.register(
            "http_connections_refused",
            "HTTP connections refused at the connection cap",
            connections.refused.clone(),
        );
        registry.register(
            "http_connections_timed_out",
            "HTTP connections closed by a header-read, idle or no-progress timeout",
            connections.timed_out.clone(),
        );

        Self {
            registry: Mutex::new(registry),
            http_requests,
            http_duration,
            auth_cache_hits,
            auth_cache_misses,
            logins_failed,
            audit_entries,
            purge_passes,
            usage_snapshots,
            invalidations_applied,
            connections,
        }
    }
}

impl Metrics {
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let _ = encode(&mut out, &registry);
        out
    }
}
