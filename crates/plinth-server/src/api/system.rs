//! Liveness, readiness and metrics: outside `/api/v1`, unauthenticated.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use plinth_api::Health;

use crate::error::ApiError;
use crate::runtime::state::AppState;

pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// Ready when the database answers.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping())
        .await
        .map_err(|_| ApiError::unavailable())?
        .map_err(|_| ApiError::unavailable())?;
    Ok(Json(Health {
        status: "ready".to_owned(),
    }))
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
