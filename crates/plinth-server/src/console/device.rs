//! `/device`: where a person approves or denies a CLI login (RFC 8628 §3.3). The CLI
//! opens (or prints) `/device?user_code=…`; the page uses the console session, so nobody
//! types a password again: signed out, the login page comes first and then comes back
//! here (`next`). The page shows the code, the address that asked for it and when, and
//! Approve / Deny, through `service::device` as `POST /api/v1/device/approve|deny`: the
//! CLI's token inherits the session's `authenticated_at`, so a session an org reset
//! refused approves only logins that org refuses too. A session signed out everywhere is
//! no session at all: it goes to the login page. Forms carry the session's CSRF token.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use plinth_core::UserCode;
use plinth_store::DeviceGrantRecord;
use serde::Deserialize;

use super::chrome::Chrome;
use super::error::{ConsoleError, PageResult, sentence};
use super::form::{ConsoleForm, Field, field_error, query};
use super::session::SignedIn;
use super::tokens::When;
use crate::api::extract::ClientMeta;
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;

#[derive(Deserialize, Default)]
pub struct DeviceQuery {
    #[serde(default)]
    user_code: String,
}

#[derive(Deserialize, Default)]
pub struct DeviceForm {
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    decision: String,
}

/// The waiting CLI login, as the person checks it before deciding.
pub struct GrantView {
    pub user_code: String,
    pub client_id: String,
    pub ip: String,
    pub user_agent: String,
    pub requested: When,
    pub requested_ago: String,
    pub expires: When,
}

/// Either the code to type (no code yet, or a refused one) or the login to decide on.
#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage<'a> {
    chrome: &'a Chrome,
    handle: String,
    /// How long the CLI's login lasts (`--temporary-token-days`).
    token_days: u32,
    grant: Option<GrantView>,
    user_code: Field,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "device_done.html")]
struct DeviceDone<'a> {
    chrome: &'a Chrome,
    heading: &'static str,
    approved: bool,
    user_code: String,
    handle: String,
}

/// Only a well-formed code is echoed back, normalized.
fn shown_code(input: &str) -> String {
    UserCode::parse(input)
        .map(|c| c.display())
        .unwrap_or_default()
}

fn ago(elapsed: time::Duration) -> String {
    match elapsed.whole_minutes() {
        ..=0 => "just now".to_owned(),
        1 => "1 minute ago".to_owned(),
        n => format!("{n} minutes ago"),
    }
}

fn grant_view(state: &AppState, grant: &DeviceGrantRecord) -> GrantView {
    GrantView {
        user_code: grant.user_code.display(),
        client_id: grant.client_id.clone(),
        ip: grant
            .requested_ip
            .clone()
            .unwrap_or_else(|| "unknown".to_owned()),
        user_agent: grant.requested_user_agent.clone().unwrap_or_default(),
        requested: When::of(grant.created_at),
        requested_ago: ago(state.now() - grant.created_at),
        expires: When::of(grant.expires_at),
    }
}

/// The code form, with the refusal beside the code (or above the form, when it is about
/// something else).
fn code_form(
    state: &AppState,
    signed: &SignedIn,
    status: StatusCode,
    typed: &str,
    error: Option<&ApiError>,
    message: Option<&str>,
) -> Response {
    let mut user_code = Field::new("user_code", "Code")
        .value(shown_code(typed))
        .required()
        .autocomplete("off")
        .placeholder("WDJB-MJHT")
        .help("The 8 letters your terminal shows when you run plinth login.");
    user_code.error = error.map(|e| field_error(e, &["user_code"]).unwrap_or_else(|| sentence(e)));
    let page = DevicePage {
        chrome: &signed.chrome,
        handle: signed.actor.user.handle.to_string(),
        token_days: state.settings.temporary_token_days,
        grant: None,
        user_code,
        error: message.map(str::to_owned),
    };
    super::render(status, &signed.chrome, &page)
}

/// `GET /device[?user_code=…]`.
pub async fn show(
    State(state): State<AppState>,
    meta: ClientMeta,
    signed: SignedIn,
    uri: Uri,
) -> PageResult {
    let query: DeviceQuery = query(&uri);
    if query.user_code.trim().is_empty() {
        return Ok(code_form(&state, &signed, StatusCode::OK, "", None, None));
    }
    match service::device::pending(&state, &meta, &signed.actor, &query.user_code).await {
        Ok(grant) => {
            let page = DevicePage {
                chrome: &signed.chrome,
                handle: signed.actor.user.handle.to_string(),
                token_days: state.settings.temporary_token_days,
                grant: Some(grant_view(&state, &grant)),
                user_code: Field::new("user_code", "Code"),
                error: None,
            };
            Ok(super::ok(&signed.chrome, &page))
        }
        Err(err) if err.status.is_client_error() => Ok(code_form(
            &state,
            &signed,
            err.status,
            &query.user_code,
            Some(&err),
            None,
        )),
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&signed.chrome)),
    }
}

/// `POST /device`: Approve or Deny, as `POST /api/v1/device/approve|deny`.
pub async fn submit(
    State(state): State<AppState>,
    meta: ClientMeta,
    signed: SignedIn,
    ConsoleForm(form): ConsoleForm<DeviceForm>,
) -> PageResult {
    let approve = match form.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return Ok(code_form(
                &state,
                &signed,
                StatusCode::BAD_REQUEST,
                &form.user_code,
                None,
                Some("Choose Approve or Deny."),
            ));
        }
    };
    match service::device::decide(&state, &meta, &signed.actor, &form.user_code, approve).await {
        Ok(grant) => {
            let page = DeviceDone {
                chrome: &signed.chrome,
                heading: if approve {
                    "CLI login approved"
                } else {
                    "CLI login denied"
                },
                approved: approve,
                user_code: grant.user_code.display(),
                handle: signed.actor.user.handle.to_string(),
            };
            Ok(super::ok(&signed.chrome, &page))
        }
        Err(err) if err.status.is_client_error() => Ok(code_form(
            &state,
            &signed,
            err.status,
            &form.user_code,
            Some(&err),
            None,
        )),
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&signed.chrome)),
    }
}
