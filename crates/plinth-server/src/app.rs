//! The router and the layers every request goes through.

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api::docs::{ApiDocs, docs_page, openapi_json};
use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::forwarded::resolve_client;
use crate::metrics::RequestLabels;
use crate::state::AppState;
use crate::workspace_host::serve_workspace_hosts;
use crate::{api, console};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole public HTTP surface: API, docs, console, health (metrics: [`metrics_router`]).
pub fn router(state: AppState) -> Router {
    let (api_router, openapi) = api::routes().split_for_parts();
    let docs = ApiDocs::new(&openapi);
    let docs_router = Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/docs", get(docs_page))
        .with_state(docs);
    let system = Router::new()
        .route("/healthz", get(api::system::healthz))
        .route("/readyz", get(api::system::readyz))
        .route("/", get(api::system::home))
        .route(
            "/device",
            get(console::device::show).post(console::device::submit),
        );

    Router::new()
        .merge(api_router)
        .merge(system)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .merge(docs_router)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        // Wraps every route and the fallback: a request for a workspace name is answered
        // here and never reaches an API or console route; any other host passes through.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            serve_workspace_hosts,
        ))
        // Before anything reads the client's address or scheme: behind trusted proxies
        // they come from the forwarding headers, which are dropped from anyone else.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            resolve_client,
        ))
        .layer(middleware::from_fn_with_state(state, limit_request_time))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::internal("a handler panicked").into_response()
        }))
        .layer(
            // Only method and path are logged: never headers (tokens) nor query strings.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let request_id = req
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        request_id = %request_id,
                        method = %req.method(),
                        path = %req.uri().path(),
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The metrics listener's surface (`--metrics-bind`): `/metrics` and nothing else, apart
/// from the public port so that the numbers are not for everyone to read.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(api::system::metrics))
        .fallback(not_found)
        .with_state(state)
}

/// A handler that has not produced its answer's head within `request_timeout` is dropped
/// and answered 503 (a client trickling its body in, a queue that does not move).
async fn limit_request_time(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.settings.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::unavailable()
            .detail(format!(
                "the request was not answered within {} s",
                limit.as_secs_f64()
            ))
            .into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found().detail("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed().detail("this route does not take that method")
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = crate::metrics::method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status();
    state
        .metrics
        .http_requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: status.as_u16(),
        })
        .inc();
    state
        .metrics
        .http_duration
        .observe(started.elapsed().as_secs_f64());
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!("answered 500");
    }
    response
}
