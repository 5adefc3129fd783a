//! The console's stylesheet, icon and its one small script (the workspace DNS name
//! preview), compiled into the binary: no CDN, no files to deploy. Cached for a day
//! (the path does not change with the content, so not longer).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const STYLESHEET: &str = include_str!("static/console.css");
const FAVICON: &str = include_str!("static/favicon.svg");
const WORKSPACE_NAME_SCRIPT: &str = include_str!("static/workspace-name.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

pub async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON)
}

/// The DNS name preview of the workspace forms; allowed by the CSP's `'self'`.
pub async fn workspace_name_script() -> Response {
    asset("text/javascript; charset=utf-8", WORKSPACE_NAME_SCRIPT)
}
