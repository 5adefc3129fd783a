//! CLI login, RFC 8628: `/device/code` and `/device/token` speak OAuth (form-encoded
//! requests, OAuth JSON errors) for the CLI; `/device/approve` and `/device/deny` are
//! ordinary API calls for the signed-in person.

mod approve;
mod code;
mod deny;
mod token;

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use plinth_api::{DeviceDecision, OAuthError};
use plinth_store::DeviceGrantRecord;
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::extract::{body_bytes, media_type};
use crate::runtime::state::AppState;
use crate::service::device::DeviceError;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(code::code))
        .routes(routes!(token::token))
        .routes(routes!(approve::approve))
        .routes(routes!(deny::deny))
}

/// A form-encoded OAuth request body (RFC 6749 §3.2). Unknown parameters are ignored, as
/// OAuth requires; missing or malformed ones are `invalid_request`.
pub struct OAuthForm<T>(pub T);

impl<S, T> FromRequest<S> for OAuthForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = DeviceError;

    async fn from_request(req: Request, state: &S) -> Result<Self, DeviceError> {
        if media_type(req.headers()).as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(DeviceError::invalid_request(
                "send the parameters as application/x-www-form-urlencoded",
            ));
        }
        let bytes = body_bytes(req, state).await?;
        serde_urlencoded::from_bytes(&bytes)
            .map(OAuthForm)
            .map_err(|err| DeviceError::invalid_request(err.to_string()))
    }
}

/// OAuth answers must not be cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for DeviceError {
    fn into_response(self) -> Response {
        match self {
            DeviceError::OAuth {
                status,
                error,
                description,
            } => no_store(
                (
                    status,
                    Json(OAuthError {
                        error: error.to_owned(),
                        error_description: description,
                    }),
                )
                    .into_response(),
            ),
            DeviceError::Api(err) => err.into_response(),
        }
    }
}

fn decision(grant: &DeviceGrantRecord) -> DeviceDecision {
    DeviceDecision {
        user_code: grant.user_code.display(),
        client_id: grant.client_id.clone(),
        status: grant.status.as_str().to_owned(),
    }
}
