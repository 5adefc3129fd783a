//! Extractors that turn every malformed input into a clear `validation` problem.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::runtime::forwarded::ClientAddr;

/// The largest request body accepted anywhere: 64 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body. Malformed JSON, wrong types and unknown fields become 400 `validation`
/// naming the field; an oversized body 413 `payload-too-large`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = media_type(req.headers())
            .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"));
        if !is_json {
            return Err(ApiError::unsupported_media_type());
        }
        parse_json(&body_bytes(req, state).await?).map(ApiJson)
    }
}

/// The request's media type, lowercased, without parameters (`; charset=…`).
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
}

/// The whole body; past [`BODY_LIMIT`] 413 `payload-too-large`.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(_) => ApiError::payload_too_large(BODY_LIMIT),
            other => ApiError::bad_request(other.body_text()),
        })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    plinth_api::body::parse_json(bytes).map_err(|err| match err.field {
        Some(field) => ApiError::validation(field, err.message),
        None => ApiError::bad_request(err.message),
    })
}

/// Query parameters, with the same kind of errors as [`ApiJson`].
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                if path == "." || path.is_empty() {
                    ApiError::bad_request(format!("the query string is not valid: {message}"))
                } else {
                    ApiError::validation(path, message)
                }
            })
    }
}

/// Path parameters. A segment that cannot name anything (not UTF-8 once decoded, say
/// `%FF`) is a 404 `not-found` problem, as any unknown id or handle is: never a 500 nor a
/// plain-text answer.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::not_found().detail(format!(
                "nothing is at this path: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Who is calling from where: recorded in audit entries and used by rate limits.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Resolved behind trusted proxies by `forwarded::resolve_client`; else the peer.
        let ip = parts
            .extensions
            .get::<ClientAddr>()
            .map(|client| client.ip)
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|ConnectInfo(addr)| addr.ip())
            });
        let text = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(512).collect::<String>())
        };
        Ok(Self {
            ip,
            user_agent: text("user-agent"),
            request_id: text("x-request-id"),
        })
    }
}

/// The scheme the client used: `https` behind a TLS-terminating proxy that says so with
/// `X-Forwarded-Proto`, else `http` (the server itself speaks plain HTTP). The header
/// only survives `forwarded::resolve_client` when a trusted proxy sent it.
pub fn request_scheme(headers: &HeaderMap) -> &'static str {
    match headers.get("x-forwarded-proto") {
        Some(proto) if proto.as_bytes().eq_ignore_ascii_case(b"https") => "https",
        _ => "http",
    }
}
