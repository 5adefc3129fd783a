//! Your Settings: Profile (`/settings/profile`, through `service::accounts::update_profile`
//! as `PATCH /api/v1/user`) and Security (`/settings/security`: the user's live console,
//! CLI and API sessions with "Sign out" for each, through `service::sessions`, and "Sign
//! out everywhere", `service::accounts::reset_auth` as `POST /api/v1/user/reset-auth`).
//! The Tokens page is `tokens.rs`.

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use plinth_api::UpdateUserRequest;
use plinth_store::TokenRecord;
use serde::Deserialize;

use super::chrome::Chrome;
use super::cookies;
use super::error::{ConsoleError, PageResult};
use super::form::{ConsoleForm, Field, form_error};
use super::graphics::Avatar;
use super::session::{Reason, SignedIn, see_other, to_login};
use super::tokens::When;
use crate::api::extract::ClientMeta;
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;

#[derive(Deserialize, Default)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    avatar_url: String,
    #[serde(default)]
    email: String,
}

#[derive(Template)]
#[template(path = "user_settings.html")]
struct ProfileView<'a> {
    chrome: &'a Chrome,
    user_active: &'static str,
    handle: String,
    /// The saved profile's avatar (not the refused input's).
    avatar: Avatar,
    error: Option<String>,
    display_name: Field,
    avatar_url: Field,
    email: Field,
}

const PROFILE_FIELDS: [&str; 3] = ["display_name", "avatar_url", "email"];

fn profile_view(
    status: StatusCode,
    signed: &SignedIn,
    form: &ProfileForm,
    error: Option<&ApiError>,
) -> Response {
    let user = &signed.actor.user;
    let view = ProfileView {
        chrome: &signed.chrome,
        user_active: "profile",
        handle: user.handle.to_string(),
        avatar: Avatar::new(
            user.handle.as_str(),
            &user.display_name,
            user.avatar_url.as_deref(),
        ),
        error: error.and_then(|e| form_error(e, &PROFILE_FIELDS)),
        display_name: Field::new("display_name", "Display Name")
            .value(&form.display_name)
            .required()
            .autocomplete("name")
            .help("How people see you: 1–100 characters.")
            .error_from(error, &["display_name"]),
        avatar_url: Field::new("avatar_url", "Avatar URL")
            .kind("url")
            .value(&form.avatar_url)
            .placeholder("https://example.com/me.png")
            .help(
                "An http or https address of a picture. Leave it empty for the generated default.",
            )
            .error_from(error, &["avatar_url"]),
        email: Field::new("email", "Email")
            .kind("email")
            .value(&form.email)
            .required()
            .autocomplete("email")
            .help("You can sign in with it, and invitations find you by it.")
            .error_from(error, &["email"]),
    };
    super::render(status, &signed.chrome, &view)
}

/// `GET /settings/profile`.
pub async fn profile(signed: SignedIn) -> Response {
    let user = &signed.actor.user;
    let form = ProfileForm {
        display_name: user.display_name.clone(),
        avatar_url: user.avatar_url.clone().unwrap_or_default(),
        email: user.email.to_string(),
    };
    profile_view(StatusCode::OK, &signed, &form, None)
}

/// `POST /settings/profile`: Save, as `PATCH /api/v1/user` with every field.
pub async fn save_profile(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
    ConsoleForm(form): ConsoleForm<ProfileForm>,
) -> PageResult {
    let req = UpdateUserRequest {
        display_name: Some(form.display_name.clone()),
        // Empty clears it, as in the API.
        avatar_url: Some(form.avatar_url.trim().to_owned()),
        email: Some(form.email.trim().to_owned()),
    };
    match service::accounts::update_profile(&state, &meta, &signed.actor, req).await {
        Ok(_) => Ok(super::redirect_with_flash(
            &headers,
            "/settings/profile",
            "Profile saved.",
        )),
        Err(err) if err.status.is_client_error() => {
            // The one unique field of the form: a conflict is about the email.
            let err = if err.problem_type == "conflict" {
                let message = err.detail.clone().unwrap_or_default();
                err.with_field("email", message)
            } else {
                err
            };
            Ok(profile_view(err.status, &signed, &form, Some(&err)))
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&signed.chrome)),
    }
}

/// One login session as the Security page lists it.
pub struct SessionRow {
    pub id: String,
    /// The session this page was loaded with.
    pub current: bool,
    pub client: &'static str,
    pub user_agent: String,
    pub ip: String,
    pub created: When,
    pub last_used: Option<When>,
    pub expires: Option<When>,
}

fn client_label(client: Option<&str>) -> &'static str {
    match client {
        Some("console") => "Console",
        Some("cli") => "CLI",
        Some("api") => "API login",
        _ => "Unknown",
    }
}

impl SessionRow {
    fn of(token: &TokenRecord, current_id: &str) -> Self {
        Self {
            id: token.id.clone(),
            current: token.id == current_id,
            client: client_label(token.origin.client.as_deref()),
            user_agent: token.origin.user_agent.clone().unwrap_or_default(),
            ip: token
                .origin
                .ip
                .clone()
                .unwrap_or_else(|| "unknown".to_owned()),
            created: When::of(token.created_at),
            last_used: token.last_used_at.map(When::of),
            expires: token.expires_at.map(When::of),
        }
    }
}

#[derive(Template)]
#[template(path = "user_security.html")]
struct SecurityView<'a> {
    chrome: &'a Chrome,
    user_active: &'static str,
    sessions: Vec<SessionRow>,
    token_days: u32,
}

/// `GET /settings/security`.
pub async fn security(State(state): State<AppState>, signed: SignedIn) -> PageResult {
    let sessions = service::sessions::list(&state, &signed.actor)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    let current = signed.actor.token.id.as_str();
    let view = SecurityView {
        chrome: &signed.chrome,
        user_active: "security",
        sessions: sessions
            .iter()
            .map(|token| SessionRow::of(token, current))
            .collect(),
        token_days: state.settings.temporary_token_days,
    };
    Ok(super::ok(&signed.chrome, &view))
}

/// The `{id}` of a session route; an undecodable segment is the 404 page.
pub struct SessionId(String);

impl FromRequestParts<AppState> for SessionId {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| SessionId(id))
            .map_err(|_| ConsoleError::not_found())
    }
}

/// The answer that ends this browser's session: the cookie goes, the login page says why.
fn signed_out(headers: &HeaderMap, reason: Reason) -> Response {
    let mut response = to_login(None, reason, None);
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(headers, cookies::SESSION),
    );
    response
}

/// `POST /settings/security/sessions/{id}/sign-out`: that session stops working at once.
pub async fn sign_out_session(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
    SessionId(id): SessionId,
) -> PageResult {
    let session = service::sessions::sign_out(&state, &meta, &signed.actor, &id)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    if session.id == signed.actor.token.id {
        return Ok(signed_out(&headers, Reason::SignedOut));
    }
    let row = SessionRow::of(&session, "");
    Ok(super::redirect_with_flash(
        &headers,
        "/settings/security",
        &format!(
            "Signed out the {} session from {}, started {}.",
            row.client, row.ip, row.created.minute
        ),
    ))
}

#[derive(Template)]
#[template(path = "user_sign_out_everywhere.html")]
struct SignOutEverywhereView<'a> {
    chrome: &'a Chrome,
    user_active: &'static str,
    sessions: usize,
}

/// `GET /settings/security/sign-out-everywhere`: what will happen, and the button.
pub async fn sign_out_everywhere_page(
    State(state): State<AppState>,
    signed: SignedIn,
) -> PageResult {
    let sessions = service::sessions::list(&state, &signed.actor)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    let view = SignOutEverywhereView {
        chrome: &signed.chrome,
        user_active: "security",
        sessions: sessions.len(),
    };
    Ok(super::ok(&signed.chrome, &view))
}

/// `POST /settings/security/sign-out-everywhere`, as `POST /api/v1/user/reset-auth`:
/// this session ends too, so on to the login page, which says why.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
) -> PageResult {
    service::accounts::reset_auth(&state, &meta, &signed.actor)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    Ok(signed_out(&headers, Reason::AccountReset))
}

/// A GET of an action's address (a reload, a pasted link) goes back to the page.
pub async fn back_to_security() -> Response {
    see_other("/settings/security")
}
