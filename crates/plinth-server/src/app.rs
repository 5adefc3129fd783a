//! The router and the layers every request goes through.

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceBuilder;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api::docs::{ApiDocs, docs_page, openapi_json};
use crate::api::extract::BODY_LIMIT;
use crate::error::ApiError;
use crate::names::workspace_host;
use crate::runtime::forwarded::resolve_client;
use crate::runtime::metrics::RequestLabels;
use crate::runtime::state::AppState;
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
        .route("/readyz", get(api::system::readyz));

    Router::new()
        .merge(api_router)
        .merge(system)
        .merge(console::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .merge(docs_router)
        // One layer stack, applied once: `Router::layer` boxes each layer it is given
        // into its own `Route` (a clone and a boxed future each, a request), so the
        // stack goes in as one, outermost first.
        .layer(
            ServiceBuilder::new()
                // The id is always the server's own (audit entries store it).
                .layer(MapRequestLayer::new(take_client_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // Never headers (tokens) nor query strings. A line per answer only at
                // DEBUG (`PLINTH_LOG=info,tower_http=debug`); answers of 500 are logged
                // at WARN (`record_metrics`), inside this span, so with the request's id.
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
                )
                .layer(CatchPanicLayer::custom(|_panic| {
                    ApiError::internal("a handler panicked").into_response()
                }))
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                // Client address, workspace hosts, metrics, security headers and the
                // time limit, in one middleware: one boxed future a request.
                .layer(middleware::from_fn_with_state(state, edge)),
        )
}

/// The span every line logged for a request is in. At INFO it holds the ids alone: the
/// log formats a span's fields when the span opens, on every request, whether or not
/// anything is logged in it (method and path cost a sixth of a warm request). With the
/// line per answer on, method and path are in the span too, so in that line.
fn request_span(req: &Request) -> tracing::Span {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let client_request_id = req.extensions().get::<ClientRequestId>();
    // The per-answer line is `tower_http`'s, at DEBUG (`PLINTH_LOG=info,tower_http=debug`).
    let span = if tracing::enabled!(target: "tower_http::trace::on_response", Level::DEBUG) {
        tracing::info_span!(
            "request",
            request_id = %request_id,
            client_request_id = tracing::field::Empty,
            method = %req.method(),
            path = %loggable_path(req.uri().path()),
        )
    } else {
        tracing::info_span!(
            "request",
            request_id = %request_id,
            client_request_id = tracing::field::Empty,
        )
    };
    if let Some(id) = client_request_id {
        span.record("client_request_id", id.0.as_str());
    }
    span
}

/// A random (v4) UUID a request, from the thread's random generator: `MakeRequestUuid`
/// asks the kernel for its random bytes, one system call a request.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &http::Request<B>) -> Option<RequestId> {
        use rand::RngExt;
        let id = uuid::Builder::from_random_bytes(rand::rng().random()).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = id.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

/// A client's own `X-Request-Id`: logged beside the server's id as an untrusted field,
/// never stored and never echoed as the request's id.
#[derive(Clone, Debug)]
struct ClientRequestId(String);

/// Moves a client-sent `X-Request-Id` out of the way so `SetRequestIdLayer` makes a
/// fresh one, keeping at most 64 printable ASCII characters of it for the log.
fn take_client_request_id(mut req: Request) -> Request {
    if let Some(value) = req.headers_mut().remove(&REQUEST_ID) {
        let cleaned: String = value
            .as_bytes()
            .iter()
            .filter(|b| b.is_ascii_graphic())
            .take(64)
            .map(|&b| char::from(b))
            .collect();
        req.extensions_mut().insert(ClientRequestId(cleaned));
    }
    req
}

/// A path as it may appear in a log line: a segment shaped like a token (a user who
/// pasted a secret where an id belongs) is replaced, long segments are cut, and the
/// whole is capped, so a log never holds a secret nor grows with a client's input.
fn loggable_path(path: &str) -> String {
    const MAX_SEGMENT: usize = 64;
    const MAX_PATH: usize = 256;
    let mut out = String::with_capacity(path.len().min(MAX_PATH));
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let lower = segment.get(..4).map(str::to_ascii_lowercase);
        if matches!(lower.as_deref(), Some("plt_" | "plu_")) {
            out.push_str("[token]");
        } else if segment.len() > MAX_SEGMENT {
            let mut end = MAX_SEGMENT;
            while !segment.is_char_boundary(end) {
                end -= 1;
            }
            out.push_str(&segment[..end]);
            out.push('…');
        } else {
            out.push_str(segment);
        }
        if out.len() > MAX_PATH {
            out.truncate(MAX_PATH);
            out.push('…');
            break;
        }
    }
    out
}

/// The Content-Security-Policy of every HTML answer that sets none of its own: no
/// script, style or image from anywhere but this server, no framing, no `<base>`, and
/// forms that post only here.
pub const DEFAULT_CSP: &str =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// For the few self-contained pages that carry their own `<style>` (the API docs, the
/// workspace hosts): nothing may load at all, inline styles excepted.
pub const INLINE_STYLE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `nosniff` on every answer; on HTML ones also a CSP (unless the page set a stricter
/// or narrower one itself), `Referrer-Policy: same-origin` and `X-Frame-Options: DENY`
/// for browsers that predate `frame-ancestors`.
fn add_security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if is_html {
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(DEFAULT_CSP));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// The metrics listener's surface (`--metrics-bind`): `/metrics` and nothing else, apart
/// from the public port so that the numbers are not for everyone to read.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(api::system::metrics))
        .fallback(not_found)
        .with_state(state)
}

/// The layers between the panic guard and the router, in order:
/// - a request not answered within `request_timeout` (a client trickling its body in, a
///   queue that does not move) is dropped and answered 503;
/// - the client's address is resolved before anything reads it ([`resolve_client`]);
/// - a request for a workspace name is answered here and never reaches an API or
///   console route ([`workspace_host::answer`]); any other host passes through;
/// - requests that reach the router are counted in the metrics;
/// - every answer, workspace hosts' included, gets the security headers.
async fn edge(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let limit = state.settings.request_timeout;
    let routed = async {
        resolve_client(&state, &mut req);
        match workspace_host::answer(&state, req).await {
            Ok(response) => response,
            Err(req) => record_metrics(&state, req, next).await,
        }
    };
    let mut response = match tokio::time::timeout(limit, routed).await {
        Ok(response) => response,
        Err(_) => ApiError::unavailable()
            .detail(format!(
                "the request was not answered within {} s",
                limit.as_secs_f64()
            ))
            .into_response(),
    };
    add_security_headers(response.headers_mut());
    response
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

async fn record_metrics(state: &AppState, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = crate::runtime::metrics::method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status();
    let labels = RequestLabels {
        method,
        route,
        status: status.as_u16(),
    };
    state.metrics.http_requests.get_or_create(&labels).inc();
    state
        .metrics
        .http_duration
        .observe(started.elapsed().as_secs_f64());
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        // The route's pattern, not its path: no client input in the line.
        tracing::warn!(method, route = %labels.route, "answered 500");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn logged_paths_hold_no_token_and_stay_short() {
        let token = plinth_core::TokenSecret::generate(plinth_core::TokenKind::User);
        let path = format!("/api/v1/user/tokens/{}", token.expose());
        let logged = loggable_path(&path);
        assert_eq!(logged, "/api/v1/user/tokens/[token]");
        // A mistyped token (bad checksum) is still a secret.
        assert_eq!(loggable_path("/x/PLT_abc/y"), "/x/[token]/y");
        assert_eq!(loggable_path("/api/v1/orgs/acme"), "/api/v1/orgs/acme");
        let long = format!("/{}", "é".repeat(200));
        assert!(loggable_path(&long).len() < 80);
        let many = "/a".repeat(1000);
        assert!(loggable_path(&many).len() <= 260);
    }
}
