//! `/device`: where a person approves or denies a CLI login (RFC 8628 §3.3). The CLI
//! opens it with the code filled in; the person confirms the code, signs in with their
//! password, and chooses. Signing in here issues no token: the CLI gets its own when it
//! next polls. The form's CSRF token is checked by `csrf::require_csrf` like any other.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use plinth_core::UserCode;
use plinth_store::time_to_micros;
use serde::Deserialize;

use super::chrome::Chrome;
use super::error::sentence;
use super::form::{ConsoleForm, query};
use super::session::Visitor;
use crate::api::extract::ClientMeta;
use crate::runtime::state::AppState;
use crate::service;
use crate::service::accounts::issue_time;

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
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    decision: String,
}

/// The form, again after a refusal: never the password.
#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage<'a> {
    chrome: &'a Chrome,
    user_code: &'a str,
    login: &'a str,
    error: Option<&'a str>,
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

pub async fn show(visitor: Visitor, uri: Uri) -> Response {
    let query: DeviceQuery = query(&uri);
    let code = shown_code(&query.user_code);
    let page = DevicePage {
        chrome: &visitor.chrome,
        user_code: &code,
        login: "",
        error: None,
    };
    super::ok(&visitor.chrome, &page)
}

pub async fn submit(
    State(state): State<AppState>,
    meta: ClientMeta,
    visitor: Visitor,
    ConsoleForm(form): ConsoleForm<DeviceForm>,
) -> Response {
    let code = shown_code(&form.user_code);
    let refuse = |status: StatusCode, message: &str| {
        let page = DevicePage {
            chrome: &visitor.chrome,
            user_code: &code,
            login: &form.login,
            error: Some(message),
        };
        super::render(status, &visitor.chrome, &page)
    };
    let approve = match form.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return refuse(StatusCode::BAD_REQUEST, "Choose Approve or Deny."),
    };
    if UserCode::parse(&form.user_code).is_err() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Enter the 8-letter code your terminal shows, like WDJB-MJHT.",
        );
    }
    let user =
        match service::accounts::check_password(&state, &meta, &form.login, &form.password).await {
            Ok(user) => user,
            Err(err) => return refuse(err.status, &sentence(&err)),
        };
    // Signing in here is proving who one is: the CLI's token is authenticated now.
    let authenticated_at = time_to_micros(issue_time(&state, &user));
    match service::device::decide_as(
        &state,
        &meta,
        &user,
        authenticated_at,
        &form.user_code,
        approve,
    )
    .await
    {
        Ok(grant) => {
            let page = DeviceDone {
                chrome: &visitor.chrome,
                heading: if approve {
                    "CLI login approved"
                } else {
                    "CLI login denied"
                },
                approved: approve,
                user_code: grant.user_code.display(),
                handle: user.handle.to_string(),
            };
            super::ok(&visitor.chrome, &page)
        }
        Err(err) => refuse(err.status, &sentence(&err)),
    }
}
