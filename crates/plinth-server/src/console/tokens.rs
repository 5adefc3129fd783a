//! The user's own tokens (`/settings/tokens`): the list, Create, and per token
//! Activate, Deactivate and Delete, through `service::tokens` as `/api/v1/user/tokens`.
//! A new token's secret is on the answer to the Create form and nowhere else: the page
//! is rendered directly (no redirect, no flash cookie).

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use plinth_api::{CreateTokenRequest, UpdateTokenRequest};
use plinth_store::{TokenRecord, TokenStatus};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use super::chrome::Chrome;
use super::error::{ConsoleError, PageResult};
use super::form::{ConsoleForm, Field, form_error};
use super::session::SignedIn;
use crate::api::extract::ClientMeta;
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;

/// More than the live-token cap, so every token the user holds is listed.
const LIST_LIMIT: u32 = 100;

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    expires_in_days: String,
}

/// A time as the page shows it: the machine value, the day, and the minute (UTC).
pub struct When {
    pub iso: String,
    pub day: String,
    pub minute: String,
}

impl When {
    pub fn of(at: OffsetDateTime) -> Self {
        Self {
            iso: at.format(&Rfc3339).unwrap_or_default(),
            day: at
                .format(format_description!("[year]-[month]-[day]"))
                .unwrap_or_default(),
            minute: at
                .format(format_description!(
                    "[year]-[month]-[day] [hour]:[minute] UTC"
                ))
                .unwrap_or_default(),
        }
    }
}

/// The expiry choices the Create form offers, in days; empty is no expiry. The API
/// takes any whole number from 1 to 3650, and so does the form when sent otherwise.
const EXPIRY_CHOICES: [(&str, &str); 6] = [
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("180", "180 days"),
    ("365", "1 year"),
    ("", "No expiry"),
];

/// The choice a new form starts on.
const DEFAULT_EXPIRY: &str = "30";

pub struct ExpiryChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn expiry_choices(chosen: &str) -> Vec<ExpiryChoice> {
    EXPIRY_CHOICES
        .iter()
        .map(|&(value, label)| ExpiryChoice {
            value,
            label,
            selected: value == chosen.trim(),
        })
        .collect()
}

pub struct TokenRow {
    pub id: String,
    pub title: String,
    pub description: String,
    pub last4: String,
    pub active: bool,
    pub created: When,
    pub expires: Option<When>,
    pub last_used: Option<When>,
}

impl TokenRow {
    fn of(token: &TokenRecord) -> Self {
        Self {
            id: token.id.clone(),
            title: token.title.clone().unwrap_or_default(),
            description: token.description.clone().unwrap_or_default(),
            last4: token.last4.clone(),
            active: token.status == TokenStatus::Active,
            created: When::of(token.created_at),
            expires: token.expires_at.map(When::of),
            last_used: token.last_used_at.map(When::of),
        }
    }
}

/// The token just created: shown once.
pub struct NewSecret {
    pub title: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "user_tokens.html")]
struct TokensView<'a> {
    chrome: &'a Chrome,
    user_active: &'static str,
    tokens: Vec<TokenRow>,
    created: Option<NewSecret>,
    error: Option<String>,
    /// At the live-token cap: the Create form gives way to an explanation.
    full: bool,
    max_tokens: i64,
    title: Field,
    description: Field,
    /// The expiry select: its error, and the choices with the one kept selected.
    expires_in_days: Field,
    expiry_choices: Vec<ExpiryChoice>,
}

async fn view(
    state: &AppState,
    status: StatusCode,
    signed: &SignedIn,
    form: &CreateForm,
    created: Option<NewSecret>,
    error: Option<&ApiError>,
) -> PageResult {
    let tokens = service::tokens::list(state, &signed.actor, None, LIST_LIMIT)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    let fields = ["title", "description", "expires_in_days"];
    let max_tokens = service::tokens::MAX_USER_TOKENS;
    let full = i64::try_from(tokens.items.len()).unwrap_or(i64::MAX) >= max_tokens;
    let page = TokensView {
        chrome: &signed.chrome,
        user_active: "tokens",
        tokens: tokens.items.iter().map(TokenRow::of).collect(),
        created,
        // At the cap, the explanation that replaces the form says it already.
        error: error
            .filter(|e| !(full && e.problem_type == "conflict"))
            .and_then(|e| form_error(e, &fields)),
        full,
        max_tokens,
        title: Field::new("title", "Title")
            .value(&form.title)
            .required()
            .help("What the token is for, 1–100 characters.")
            .error_from(error, &["title"]),
        description: Field::new("description", "Description")
            .value(&form.description)
            .help("Optional.")
            .error_from(error, &["description"]),
        expires_in_days: Field::new("expires_in_days", "Expiration")
            .value(&form.expires_in_days)
            .help("After this the token stops working; you can create a new one any time.")
            .error_from(error, &["expires_in_days"]),
        expiry_choices: expiry_choices(&form.expires_in_days),
    };
    Ok(super::render(status, &signed.chrome, &page))
}

/// `GET /settings/tokens`.
pub async fn show(State(state): State<AppState>, signed: SignedIn) -> PageResult {
    view(&state, StatusCode::OK, &signed, &new_form(), None, None).await
}

/// An empty Create form, on the default expiry.
fn new_form() -> CreateForm {
    CreateForm {
        expires_in_days: DEFAULT_EXPIRY.to_owned(),
        ..CreateForm::default()
    }
}

/// The form's days as the API's field: empty is none; anything but a whole number is
/// refused as the API refuses a wrong type.
fn days(input: &str) -> Result<Option<u32>, ApiError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    input
        .parse()
        .map(Some)
        .map_err(|_| ApiError::validation("expires_in_days", "must be a whole number of days"))
}

/// `POST /settings/tokens`: Create. The answer shows the secret once.
pub async fn create(
    State(state): State<AppState>,
    meta: ClientMeta,
    signed: SignedIn,
    ConsoleForm(form): ConsoleForm<CreateForm>,
) -> PageResult {
    let description = form.description.trim();
    let req = days(&form.expires_in_days).map(|expires_in_days| CreateTokenRequest {
        title: form.title.clone(),
        description: (!description.is_empty()).then(|| description.to_owned()),
        expires_in_days,
    });
    let result = match req {
        Ok(req) => service::tokens::create(&state, &meta, &signed.actor, req).await,
        Err(err) => Err(err),
    };
    match result {
        Ok((secret, token)) => {
            let created = NewSecret {
                title: token.title.clone().unwrap_or_default(),
                secret: secret.expose().to_owned(),
            };
            view(
                &state,
                StatusCode::OK,
                &signed,
                &new_form(),
                Some(created),
                None,
            )
            .await
        }
        Err(err) if err.status.is_client_error() => {
            view(&state, err.status, &signed, &form, None, Some(&err)).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&signed.chrome)),
    }
}

async fn set_status(
    state: &AppState,
    meta: &ClientMeta,
    headers: &HeaderMap,
    signed: &SignedIn,
    id: &str,
    status: plinth_api::TokenStatus,
) -> PageResult {
    let req = UpdateTokenRequest {
        status: Some(status),
        title: None,
        description: None,
    };
    let token = service::tokens::update(state, meta, &signed.actor, id, req)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    let title = token.title.unwrap_or_default();
    let message = match status {
        plinth_api::TokenStatus::Active => format!("Token \"{title}\" activated."),
        plinth_api::TokenStatus::Inactive => format!("Token \"{title}\" deactivated."),
    };
    Ok(super::redirect_with_flash(
        headers,
        "/settings/tokens",
        &message,
    ))
}

/// The `{id}` of a token route. A segment that is not UTF-8 once decoded (`%FF`) names
/// no token: the 404 page, as for an unknown id, never axum's plain-text rejection.
pub struct TokenId(String);

impl FromRequestParts<AppState> for TokenId {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| TokenId(id))
            .map_err(|_| ConsoleError::not_found())
    }
}

/// `POST /settings/tokens/{id}/activate`.
pub async fn activate(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
    TokenId(id): TokenId,
) -> PageResult {
    set_status(
        &state,
        &meta,
        &headers,
        &signed,
        &id,
        plinth_api::TokenStatus::Active,
    )
    .await
}

/// `POST /settings/tokens/{id}/deactivate`.
pub async fn deactivate(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
    TokenId(id): TokenId,
) -> PageResult {
    set_status(
        &state,
        &meta,
        &headers,
        &signed,
        &id,
        plinth_api::TokenStatus::Inactive,
    )
    .await
}

#[derive(Template)]
#[template(path = "user_token_delete.html")]
struct DeleteView<'a> {
    chrome: &'a Chrome,
    user_active: &'static str,
    token: TokenRow,
}

/// `GET /settings/tokens/{id}/delete`: which token, what deleting does, and the button.
pub async fn delete_page(
    State(state): State<AppState>,
    signed: SignedIn,
    TokenId(id): TokenId,
) -> PageResult {
    let token = service::tokens::show(&state, &signed.actor, &id)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    let view = DeleteView {
        chrome: &signed.chrome,
        user_active: "tokens",
        token: TokenRow::of(&token),
    };
    Ok(super::ok(&signed.chrome, &view))
}

/// `POST /settings/tokens/{id}/delete`: the confirm page's button.
pub async fn delete(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
    TokenId(id): TokenId,
) -> PageResult {
    let token = service::tokens::show(&state, &signed.actor, &id)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    service::tokens::delete(&state, &meta, &signed.actor, &id)
        .await
        .map_err(|err| ConsoleError::from_api(&err).with_chrome(&signed.chrome))?;
    Ok(super::redirect_with_flash(
        &headers,
        "/settings/tokens",
        &format!("Token \"{}\" deleted.", token.title.unwrap_or_default()),
    ))
}

/// A GET of an action's address (a reload, a pasted link) goes back to the list.
pub async fn back_to_list() -> Response {
    super::session::see_other("/settings/tokens")
}
