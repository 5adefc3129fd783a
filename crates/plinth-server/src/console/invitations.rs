//! The signed-in user's invitations (`/invitations`): the pending ones with Accept and
//! Decline, through `service::members::{invitations, accept, decline}` as
//! `/api/v1/user/invitations`. The user menu's badge counts them (`Chrome::load`).

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use plinth_store::InvitationRecord;

use super::chrome::Chrome;
use super::error::{ConsoleError, PageResult, sentence};
use super::graphics::Avatar;
use super::home::role_name;
use super::session::{Reason, SignedIn, see_other, to_login};
use crate::api::extract::ClientMeta;
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;

/// More than anyone is invited to at once; the rest wait for the next page load.
const LIST_LIMIT: u32 = 100;

pub struct InvitationRow {
    pub org_handle: String,
    pub org_name: String,
    pub avatar: Avatar,
    pub role: &'static str,
    pub invited_by: Option<String>,
    pub day: String,
}

impl InvitationRow {
    fn of(inv: &InvitationRecord) -> Self {
        let org = &inv.org;
        Self {
            org_handle: org.handle.to_string(),
            org_name: org.display_name.clone(),
            avatar: Avatar::new(
                org.handle.as_str(),
                &org.display_name,
                org.avatar_url.as_deref(),
            ),
            role: role_name(inv.membership.role),
            invited_by: inv.invited_by_handle.as_ref().map(ToString::to_string),
            day: inv
                .membership
                .created_at
                .format(time::macros::format_description!("[year]-[month]-[day]"))
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsView<'a> {
    chrome: &'a Chrome,
    invitations: Vec<InvitationRow>,
    error: Option<String>,
}

async fn view(signed: &SignedIn, state: &AppState, error: Option<&ApiError>) -> PageResult {
    let found = service::members::invitations(state, &signed.actor, None, LIST_LIMIT)
        .await
        .map_err(|e| ConsoleError::from_api(&e).with_chrome(&signed.chrome))?;
    let page = InvitationsView {
        chrome: &signed.chrome,
        invitations: found.items.iter().map(InvitationRow::of).collect(),
        error: error.map(sentence),
    };
    let status = error.map_or(StatusCode::OK, |e| e.status);
    Ok(super::render(status, &signed.chrome, &page))
}

/// `GET /invitations`.
pub async fn show(State(state): State<AppState>, signed: SignedIn) -> PageResult {
    view(&signed, &state, None).await
}

/// A GET of an action's address (a reload, a pasted link) goes back to the list.
pub async fn back_to_list() -> Response {
    see_other("/invitations")
}

/// The `{org}` of an invitation route; an undecodable segment is the 404 page.
pub struct InvitingOrg(String);

impl FromRequestParts<AppState> for InvitingOrg {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(org)| InvitingOrg(org))
            .map_err(|_| ConsoleError::not_found())
    }
}

/// A refusal: an org whose reset refuses this session sends to the login page (as the
/// org's own pages do); anything else is shown on the list, nothing changed.
async fn refused(state: &AppState, signed: &SignedIn, org: &str, err: &ApiError) -> PageResult {
    if err.status == StatusCode::UNAUTHORIZED {
        let org = plinth_core::Handle::parse(org).ok();
        return Ok(to_login(
            Some("/invitations"),
            Reason::OrgReset,
            org.as_ref().map(plinth_core::Handle::as_str),
        ));
    }
    if err.status.is_client_error() {
        return view(signed, state, Some(err)).await;
    }
    Err(ConsoleError::from_api(err).with_chrome(&signed.chrome))
}

/// `POST /invitations/{org}/accept`, as `POST /api/v1/user/invitations/{org}/accept`:
/// on to the org just joined.
pub async fn accept(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
    InvitingOrg(org): InvitingOrg,
) -> PageResult {
    match service::members::accept(&state, &meta, &signed.actor, &org).await {
        Ok((org, role)) => Ok(super::redirect_with_flash(
            &headers,
            &format!("/orgs/{}", org.handle),
            &format!(
                "You joined \"{}\" as {}.",
                org.display_name,
                role_name(role)
            ),
        )),
        Err(err) => refused(&state, &signed, &org, &err).await,
    }
}

/// `POST /invitations/{org}/decline`, as `POST /api/v1/user/invitations/{org}/decline`.
pub async fn decline(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
    InvitingOrg(org): InvitingOrg,
) -> PageResult {
    match service::members::decline(&state, &meta, &signed.actor, &org).await {
        Ok(()) => Ok(super::redirect_with_flash(
            &headers,
            "/invitations",
            &format!("You declined the invitation from \"{org}\"."),
        )),
        Err(err) => refused(&state, &signed, &org, &err).await,
    }
}
