//! Signing in, signing up and out. A login calls the API's own
//! `service::accounts::login` and keeps its temporary token in the session cookie.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use plinth_api::{LoginRequest, SignupRequest};
use plinth_core::Handle;
use serde::Deserialize;

use super::chrome::Chrome;
use super::cookies;
use super::form::{ConsoleForm, Field, form_error};
use super::session::{Reason, Visitor, local_path, see_other};
use crate::api::extract::ClientMeta;
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;
use crate::service::accounts::LoginOutcome;

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    org: String,
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: &'a Chrome,
    reason: Option<String>,
    error: Option<String>,
    next: &'a str,
    signup_link: String,
    login: Field,
    password: Field,
}

fn reason_text(reason: Reason, org: Option<&Handle>) -> String {
    match reason {
        Reason::SignedOut => "You are signed out.".to_owned(),
        Reason::Expired => "Your session expired. Please sign in again.".to_owned(),
        Reason::Revoked => "Your session was signed out. Please sign in again.".to_owned(),
        Reason::AccountReset => {
            "You signed out everywhere, so this session ended. Please sign in again.".to_owned()
        }
        Reason::OrgReset => match org {
            Some(org) => format!(
                "Authentication for the organization \"{org}\" was reset: every earlier \
                 session and token stopped working for it. Log in again to continue."
            ),
            None => {
                "Authentication for an organization was reset. Log in again to continue.".to_owned()
            }
        },
        Reason::Required => "Sign in to continue.".to_owned(),
    }
}

fn render_login(
    status: StatusCode,
    chrome: &Chrome,
    query: &LoginQuery,
    login: &str,
    error: Option<&ApiError>,
) -> Response {
    let next = local_path(&query.next).unwrap_or_default();
    let reason = Reason::parse(&query.reason)
        .map(|r| reason_text(r, Handle::parse(&query.org).ok().as_ref()))
        .or_else(|| {
            (!next.is_empty() && error.is_none()).then(|| reason_text(Reason::Required, None))
        });
    let fields = ["login", "password"];
    let signup_link = if next.is_empty() {
        "/signup".to_owned()
    } else {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        format!("/signup?{q}")
    };
    let page = LoginPage {
        chrome,
        reason,
        error: error.and_then(|e| form_error(e, &fields)),
        next,
        signup_link,
        login: Field::new("login", "Handle or email")
            .value(login)
            .required()
            .autocomplete("username")
            .error_from(error, &fields),
        password: Field::new("password", "Password")
            .kind("password")
            .required()
            .autocomplete("current-password")
            .error_from(error, &fields),
    };
    super::render(status, chrome, &page)
}

/// `GET /login`.
pub async fn login_page(visitor: Visitor, uri: Uri) -> Response {
    let query: LoginQuery = super::form::query(&uri);
    render_login(StatusCode::OK, &visitor.chrome, &query, "", None)
}

/// Sets the session cookie to the new login's token and goes to `next`. A session the
/// browser held before is signed out, so no orphaned token stays valid.
async fn start_session(
    state: &AppState,
    meta: &ClientMeta,
    headers: &HeaderMap,
    outcome: LoginOutcome,
    next: &str,
) -> Response {
    if let Some(Ok(old)) = crate::auth::session_token(headers, cookies::SESSION)
        && let Ok(actor) = crate::auth::authenticate(state, &old).await
        && let Err(err) = service::accounts::logout(state, meta, &actor).await
    {
        tracing::warn!(error = ?err, "the previous console session could not be signed out");
    }
    let max_age = outcome
        .token
        .expires_at
        .map(|at| (at - state.now()).whole_seconds().max(0));
    let mut response = see_other(local_path(next).unwrap_or("/"));
    let headers_out = response.headers_mut();
    headers_out.append(
        header::SET_COOKIE,
        cookies::set(
            headers,
            cookies::SESSION,
            outcome.secret.expose(),
            "Lax",
            max_age,
        ),
    );
    headers_out.append(header::SET_COOKIE, cookies::clear(headers, cookies::FLASH));
    response
}

/// `POST /login`: the API's login, then the cookie.
pub async fn login(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    visitor: Visitor,
    ConsoleForm(form): ConsoleForm<LoginForm>,
) -> Response {
    let req = LoginRequest {
        login: form.login.clone(),
        password: form.password,
    };
    match service::accounts::login_to_console(&state, &meta, req).await {
        Ok(outcome) => start_session(&state, &meta, &headers, outcome, &form.next).await,
        Err(err) => {
            let query = LoginQuery {
                next: form.next,
                ..LoginQuery::default()
            };
            render_login(err.status, &visitor.chrome, &query, &form.login, Some(&err))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct SignupForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    next: String,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage<'a> {
    chrome: &'a Chrome,
    error: Option<String>,
    next: &'a str,
    handle: Field,
    display_name: Field,
    email: Field,
    password: Field,
}

fn signup_page_with(
    status: StatusCode,
    chrome: &Chrome,
    form: &SignupForm,
    error: Option<&ApiError>,
) -> Response {
    let fields = ["handle", "email", "password", "display_name"];
    let page = SignupPage {
        chrome,
        error: error.and_then(|e| form_error(e, &fields)),
        next: local_path(&form.next).unwrap_or_default(),
        handle: Field::new("handle", "Handle")
            .value(&form.handle)
            .required()
            .autocomplete("username")
            .help("Lowercase letters, digits and single hyphens, up to 39 characters. Shared with organization handles.")
            .error_from(error, &["handle"]),
        display_name: Field::new("display_name", "Display Name")
            .value(&form.display_name)
            .autocomplete("name")
            .help("Optional: how people see you. Your handle if empty.")
            .error_from(error, &["display_name"]),
        email: Field::new("email", "Email")
            .kind("email")
            .value(&form.email)
            .required()
            .autocomplete("email")
            .error_from(error, &["email"]),
        password: Field::new("password", "Password")
            .kind("password")
            .required()
            .autocomplete("new-password")
            .help("At least 8 characters.")
            .error_from(error, &["password"]),
    };
    super::render(status, chrome, &page)
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// `GET /signup`.
pub async fn signup_page(visitor: Visitor, uri: Uri) -> Response {
    let query: NextQuery = super::form::query(&uri);
    let form = SignupForm {
        next: query.next,
        ..SignupForm::default()
    };
    signup_page_with(StatusCode::OK, &visitor.chrome, &form, None)
}

/// `POST /signup`: the API's sign-up, then the API's login with the same password.
pub async fn signup(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    visitor: Visitor,
    ConsoleForm(form): ConsoleForm<SignupForm>,
) -> Response {
    let display_name = form.display_name.trim();
    let req = SignupRequest {
        handle: form.handle.clone(),
        email: form.email.clone(),
        password: form.password.clone(),
        display_name: (!display_name.is_empty()).then(|| display_name.to_owned()),
    };
    let refuse = |err: ApiError| signup_page_with(err.status, &visitor.chrome, &form, Some(&err));
    let user = match service::accounts::signup(&state, &meta, req).await {
        Ok(user) => user,
        Err(err) => return refuse(err),
    };
    let login = LoginRequest {
        login: user.handle.to_string(),
        password: form.password.clone(),
    };
    match service::accounts::login_to_console(&state, &meta, login).await {
        Ok(outcome) => {
            let next = local_path(&form.next).unwrap_or("/");
            let mut response = start_session(&state, &meta, &headers, outcome, next).await;
            response.headers_mut().append(
                header::SET_COOKIE,
                super::chrome::flash_cookie(&headers, "Welcome to Plinth! Your account is ready."),
            );
            response
        }
        Err(err) => refuse(err),
    }
}

/// `POST /logout`: the API's logout (the token is revoked), then the cookie goes.
pub async fn logout(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    visitor: Visitor,
) -> Response {
    if let Some(actor) = &visitor.actor
        && let Err(err) = service::accounts::logout(&state, &meta, actor).await
    {
        return super::error::ConsoleError::from_api(&err)
            .with_chrome(&visitor.chrome)
            .into_response();
    }
    let mut response = see_other("/login?reason=signed-out");
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(&headers, cookies::SESSION),
    );
    response
}

/// `GET /logout`: signing out changes something, so it is a form (POST) on every page.
pub async fn logout_page() -> Response {
    see_other("/")
}

pub async fn user_settings_redirect() -> Response {
    see_other("/settings/profile")
}
