//! `/device`: where a person approves or denies a CLI login (RFC 8628 §3.3). The CLI
//! opens it with the code filled in; the person confirms the code, signs in with their
//! password, and chooses. Signing in here issues no token: the CLI gets its own when it
//! next polls.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use plinth_core::UserCode;
use plinth_store::time_to_micros;
use serde::Deserialize;

use super::{csrf_cookie, csrf_ok, esc, new_csrf_token, page};
use crate::api::extract::ClientMeta;
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;
use crate::service::accounts::issue_time;

#[derive(Deserialize, Default)]
pub struct DeviceQuery {
    user_code: Option<String>,
}

#[derive(Deserialize, Default)]
struct DeviceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    decision: String,
}

/// What the form shows again after a refusal: never the password.
struct Filled<'a> {
    user_code: &'a str,
    login: &'a str,
    error: Option<&'a str>,
}

pub async fn show(headers: HeaderMap, uri: Uri) -> Response {
    // Only a well-formed code is echoed back, normalized; a malformed query is ignored.
    let query: DeviceQuery =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let user_code = query
        .user_code
        .and_then(|c| UserCode::parse(&c).ok())
        .map(|c| c.display())
        .unwrap_or_default();
    let filled = Filled {
        user_code: &user_code,
        login: "",
        error: None,
    };
    form_page(StatusCode::OK, &headers, &filled)
}

pub async fn submit(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: DeviceForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let shown_code = UserCode::parse(&form.user_code)
        .map(|c| c.display())
        .unwrap_or_default();
    let refuse = |status: StatusCode, message: &str| {
        let filled = Filled {
            user_code: &shown_code,
            login: &form.login,
            error: Some(message),
        };
        form_page(status, &headers, &filled)
    };
    if !csrf_ok(&headers, &form.csrf) {
        return refuse(
            StatusCode::FORBIDDEN,
            "This form expired or did not come from this page. Please try again.",
        );
    }
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
            Err(err) => return refuse(err.status, &message(&err)),
        };
    match service::device::decide_as(
        &state,
        &meta,
        &user,
        time_to_micros(issue_time(&state, &user)),
        &form.user_code,
        approve,
    )
    .await
    {
        Ok(grant) => {
            let (title, text) = if approve {
                (
                    "CLI login approved",
                    format!(
                        "<p>The CLI login <code>{}</code> is signed in as <strong>@{}</strong>. \
                         You can close this page and return to your terminal.</p>",
                        esc(&grant.user_code.display()),
                        esc(user.handle.as_str()),
                    ),
                )
            } else {
                (
                    "CLI login denied",
                    format!(
                        "<p>The CLI login <code>{}</code> was denied; it will not sign in.</p>",
                        esc(&grant.user_code.display()),
                    ),
                )
            };
            Html(page(title, &format!("<h1>{}</h1>{text}", esc(title)))).into_response()
        }
        Err(err) => refuse(err.status, &message(&err)),
    }
}

/// A problem's detail, for people: the page never shows problem JSON.
fn message(err: &ApiError) -> String {
    if err.status.is_server_error() {
        tracing::error!(error = ?err, "the device page could not answer");
        return "Something went wrong on our side. Please try again.".to_owned();
    }
    match &err.detail {
        Some(detail) => {
            let mut text = detail.clone();
            if let Some(first) = text.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            text
        }
        None => err.title.to_owned(),
    }
}

fn form_page(status: StatusCode, headers: &HeaderMap, filled: &Filled<'_>) -> Response {
    let csrf = new_csrf_token();
    let error = filled
        .error
        .map(|e| format!("<p class=error role=alert>{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Approve a CLI login</h1>\
         <p>A terminal asks to sign in to Plinth as you. Check that the code matches the one \
         it shows, then sign in to approve. Deny it if you did not start this login.</p>\
         {error}\
         <form method=post action=/device>\
         <input type=hidden name=csrf value=\"{csrf}\">\
         <label for=user_code>Code</label>\
         <input id=user_code name=user_code value=\"{code}\" required autocomplete=off \
          placeholder=WDJB-MJHT autocapitalize=characters spellcheck=false>\
         <label for=login>Handle or email</label>\
         <input id=login name=login value=\"{login}\" required autocomplete=username>\
         <label for=password>Password</label>\
         <input id=password name=password type=password required autocomplete=current-password>\
         <button type=submit name=decision value=approve>Approve</button>\
         <button type=submit name=decision value=deny>Deny</button>\
         </form>",
        code = esc(filled.user_code),
        login = esc(filled.login),
    );
    let mut response = (status, Html(page("Approve a CLI login", &body))).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::SET_COOKIE, csrf_cookie(&csrf, "/device", headers));
    // The page holds a CSRF token and maybe a login: never cached, never framed.
    response_headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response_headers.insert(
        header::X_FRAME_OPTIONS,
        header::HeaderValue::from_static("DENY"),
    );
    response
}
