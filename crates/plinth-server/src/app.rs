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
use crate::metrics::RequestLabels;
use crate::state::AppState;
use crate::workspace_host::serve_workspace_hosts;
use crate::{api, console};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP surface: API, docs, health and metrics.
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
        .route("/metrics", get(api::system::metrics));

    Router::new()
        .merge(api_router)
        .merge(system)
        .merge(console::routes())
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
        .layer(middleware::from_fn_with_state(state, serve_workspace_hosts))
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

async fn not_found(req: Request) -> Response {
    // A browser gets the console's 404 page; API clients the problem document.
    if console::wants_html(req.headers(), req.uri().path()) {
        return console::not_found_page();
    }
    ApiError::not_found()
        .detail("no such route")
        .into_response()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed().detail("this route does not take that method")
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
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
