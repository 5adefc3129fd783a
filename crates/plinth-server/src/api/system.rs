//! Liveness, readiness and metrics: outside `/api/v1`, unauthenticated.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use plinth_api::Health;
use serde_json::json;

use crate::error::ApiError;
use crate::runtime::state::AppState;

pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// How long each readiness check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Ready when the database answers a query and the DNS server answers the zone's SOA:
/// `{"status": "ready", "checks": {"database": {"ok": true}, "dns": {"ok": true}}}`.
/// Otherwise 503, a `unavailable` problem carrying the same `checks`, each failed one
/// with its `error`. The checks run side by side, so a hung database cannot hide the
/// DNS answer. A server whose database is gone still answers warm requests from its
/// caches; this is what tells the load balancer to send traffic elsewhere.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = async {
        match tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
        }
    };
    let dns = async {
        match state.dns_addr.get() {
            Some(addr) => {
                crate::names::dns::probe(*addr, &state.settings.base_domain, CHECK_TIMEOUT).await
            }
            None => Err("the DNS server has not started".to_owned()),
        }
    };
    let (database, dns) = tokio::join!(database, dns);
    let check = |result: &Result<(), String>| match result {
        Ok(()) => json!({ "ok": true }),
        Err(error) => json!({ "ok": false, "error": error }),
    };
    let checks = json!({ "database": check(&database), "dns": check(&dns) });
    if database.is_ok() && dns.is_ok() {
        return Json(json!({ "status": "ready", "checks": checks })).into_response();
    }
    let failed: Vec<&str> = [("database", &database), ("dns", &dns)]
        .into_iter()
        .filter(|(_, r)| r.is_err())
        .map(|(name, _)| name)
        .collect();
    let problem = ApiError::unavailable()
        .detail(format!("not ready: {} failing", failed.join(" and ")))
        .to_problem();
    let mut body = serde_json::to_value(problem).unwrap_or_else(|_| json!({}));
    body["checks"] = checks;
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "application/problem+json")],
        Json(body),
    )
        .into_response()
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}
