//! One error type for the whole server, answered as an RFC 9457 problem.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use plinth_api::{FieldError, Problem};
use plinth_store::{ConflictOn, StoreError};

/// Every error a handler or service can return. Constructors below keep call sites short.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub problem_type: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    /// Rarely set, so boxed: keeps `Result<T, ApiError>` small on every happy path.
    extra: Option<Box<Extra>>,
}

#[derive(Debug, Default)]
struct Extra {
    errors: Vec<FieldError>,
    retry_after: Option<u64>,
    /// The `Location` of a redirect.
    location: Option<String>,
    /// Kept for the log line only; never sent to the client.
    internal: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, problem_type: &'static str, title: &'static str) -> Self {
        Self {
            status,
            problem_type,
            title,
            detail: None,
            extra: None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// 400 `validation` naming one field.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self::new(StatusCode::BAD_REQUEST, "validation", "Invalid request")
            .detail(format!("{field}: {message}"))
            .with_field(field, message)
    }

    /// 400 `validation` about the request as a whole.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "validation", "Invalid request").detail(detail)
    }

    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.extra().errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "validation",
            "Unsupported media type",
        )
        .detail("send the body as JSON with Content-Type: application/json")
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
        )
        .detail(detail)
    }

    pub fn token_expired() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "token-expired", "Token expired")
            .detail("this token has expired; log in again or create a new token")
    }

    pub fn token_revoked() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "token-revoked", "Token revoked")
            .detail("this token was logged out, deleted or made inactive")
    }

    /// 401 `token-revoked`: the token's account was disabled by the instance administrator.
    pub fn account_disabled() -> Self {
        Self::token_revoked()
            .detail("this account is disabled; ask the instance administrator to enable it")
    }

    pub fn auth_reset(scope: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "auth-reset",
            "Authentication was reset",
        )
        .detail(format!(
            "authentication for {scope} was reset after this token was issued; \
                 log in again or create a new user token"
        ))
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden").detail(detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found")
    }

    pub fn handle_taken(handle: &str) -> Self {
        Self::new(StatusCode::CONFLICT, "handle-taken", "Handle taken")
            .detail(format!("the handle \"{handle}\" is already taken"))
    }

    /// For `.map_err` on a write that claims `handle`: a store error, with a handle
    /// conflict named after the handle asked for.
    pub fn claiming(handle: &str) -> impl FnOnce(StoreError) -> Self + '_ {
        move |err| match Self::from(err) {
            err if err.problem_type == "handle-taken" => Self::handle_taken(handle),
            err => err,
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict").detail(detail)
    }

    /// 409 `last-owner`: the change would leave the org without an active owner.
    pub fn last_owner() -> Self {
        Self::new(StatusCode::CONFLICT, "last-owner", "Last owner").detail(
            "an organization must keep at least one active owner; make someone else owner first",
        )
    }

    /// 308: the resource lives at `location` now (an org's old handle during its grace
    /// period). Clients follow it; the problem body says where, for people.
    pub fn moved(location: &str) -> Self {
        let mut err = Self::new(StatusCode::PERMANENT_REDIRECT, "moved", "Moved")
            .detail(format!("this organization has a new handle: {location}"));
        err.extra().location = Some(location.to_owned());
        err
    }

    pub fn confirmation_mismatch(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "confirmation-mismatch",
            "Confirmation does not match",
        )
        .detail(detail)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut err = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
        )
        .detail(format!("try again in {retry_after_secs} s"));
        err.extra().retry_after = Some(retry_after_secs);
        err
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
        )
        .detail(format!(
            "request bodies are limited to {} KiB",
            limit / 1024
        ))
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
        )
        .detail("the database is not reachable; try again shortly")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-found",
            "Method not allowed",
        )
    }

    /// 500 with an opaque answer; `why` goes to the log with the request id.
    pub fn internal(why: impl std::fmt::Display) -> Self {
        let mut err = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
        )
        .detail("something went wrong on our side; the request id is in the x-request-id header");
        err.extra().internal = Some(why.to_string());
        err
    }

    pub fn to_problem(&self) -> Problem {
        Problem {
            problem_type: self.problem_type.to_owned(),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self
                .extra
                .as_ref()
                .map(|e| e.errors.clone())
                .unwrap_or_default(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(ConflictOn::Handle) => {
                Self::new(StatusCode::CONFLICT, "handle-taken", "Handle taken")
                    .detail("this handle is already taken")
            }
            StoreError::Conflict(ConflictOn::Email) => {
                Self::conflict("this email is already in use")
            }
            StoreError::Conflict(ConflictOn::Other) => Self::conflict("this already exists"),
            StoreError::Unavailable(e) => {
                let mut err = Self::unavailable();
                err.extra().internal = Some(e.to_string());
                err
            }
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let extra = self.extra.as_deref();
        if let Some(why) = extra.and_then(|e| e.internal.as_ref()) {
            // The request id is on the surrounding span (see `app::trace_layer`).
            if self.status.is_server_error() {
                tracing::error!(error = %why, status = self.status.as_u16(), "request failed");
            }
        }
        let body = serde_json::to_vec(&self.to_problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = extra.and_then(|e| e.retry_after) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(location) = extra
            .and_then(|e| e.location.as_deref())
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            headers.insert(header::LOCATION, location);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"plinth\""),
            );
        }
        response
    }
}
