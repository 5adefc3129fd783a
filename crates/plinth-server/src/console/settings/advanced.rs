//! Advanced: the seed's three sections, each through the API's own service function:
//! change the handle (`service::orgs::change_handle`, after a page that lists every DNS
//! name old → new), reset authentication (`service::orgs::reset_auth`) and delete
//! (`service::orgs::delete`, with the handle typed).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use plinth_api::ChangeHandleRequest;
use plinth_core::{DnsName, Handle};
use serde::Deserialize;

use crate::api::extract::ClientMeta;
use crate::auth::org::OrgMember;
use crate::console::chrome::Chrome;
use crate::console::error::{ConsoleError, PageResult};
use crate::console::form::{ConsoleForm, Field, form_error};
use crate::console::org::{OrgHeader, OwnerPage, all_workspaces};
use crate::console::session::{Reason, see_other, to_login};
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;
use crate::service::workspaces::VisibleWorkspace;

async fn workspaces(
    state: &AppState,
    page: &OwnerPage,
) -> Result<Vec<VisibleWorkspace>, ConsoleError> {
    let fail = |e: ApiError| ConsoleError::from_api(&e).with_chrome(&page.chrome);
    let member = OrgMember::try_from(page.owner.0.clone()).map_err(fail)?;
    all_workspaces(state, &member).await.map_err(fail)
}

#[derive(Template)]
#[template(path = "settings/advanced.html")]
struct AdvancedView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    handle: Field,
    workspace_count: usize,
    grace_days: u32,
}

async fn advanced(
    state: &AppState,
    page: &OwnerPage,
    typed: &str,
    error: Option<&ApiError>,
) -> PageResult {
    let count = workspaces(state, page).await?.len();
    let mut handle = Field::new("handle", "New handle")
        .value(typed)
        .required()
        .autocomplete("off")
        .placeholder("new-handle")
        .help("Lowercase letters, digits and single hyphens, 1–39 characters.")
        .error_from(error, &["handle"]);
    if handle.error.is_none() {
        // A refusal about no field (say, a conflict) still shows beside the handle.
        handle.error = error.and_then(|e| form_error(e, &["handle"]));
    }
    let view = AdvancedView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.owner),
        active: "advanced",
        handle,
        workspace_count: count,
        grace_days: state.settings.handle_grace_days,
    };
    let status = error.map_or(StatusCode::OK, |e| e.status);
    Ok(crate::console::render(status, &page.chrome, &view))
}

/// `GET /orgs/{org}/settings/advanced`.
pub async fn show(State(state): State<AppState>, page: OwnerPage) -> PageResult {
    advanced(&state, &page, "", None).await
}

/// `GET …/advanced/handle`: the form lives on the Advanced page.
pub async fn back_to_advanced(page: OwnerPage) -> Response {
    see_other(&format!(
        "/orgs/{}/settings/advanced",
        page.owner.org.handle
    ))
}

#[derive(Deserialize, Default)]
pub struct HandleForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    confirmed: String,
}

pub struct NameChange {
    pub old: String,
    pub new: String,
}

#[derive(Template)]
#[template(path = "settings/handle_review.html")]
struct HandleReview<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    new_handle: String,
    names: Vec<NameChange>,
    grace_days: u32,
}

/// `POST …/advanced/handle`: first the review of every DNS name that changes, then
/// (`confirmed=yes`) the change itself, as `POST /api/v1/orgs/{org}/handle`.
pub async fn change_handle(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OwnerPage,
    ConsoleForm(form): ConsoleForm<HandleForm>,
) -> PageResult {
    if form.confirmed != "yes" {
        // The names to show need the handle as the domain type; the service parses it
        // again (and decides everything else) on Save.
        let new = match Handle::parse(&form.handle) {
            Ok(new) => new,
            Err(e) => {
                let err = ApiError::validation("handle", e.0);
                return advanced(&state, &page, &form.handle, Some(&err)).await;
            }
        };
        let base = &state.settings.base_domain;
        let names = workspaces(&state, &page)
            .await?
            .iter()
            .map(|ws| NameChange {
                old: DnsName::new(&page.owner.org.handle, &ws.workspace.handle, base).to_string(),
                new: DnsName::new(&new, &ws.workspace.handle, base).to_string(),
            })
            .collect();
        let view = HandleReview {
            chrome: &page.chrome,
            org: OrgHeader::of(&page.owner),
            active: "advanced",
            new_handle: new.to_string(),
            names,
            grace_days: state.settings.handle_grace_days,
        };
        return Ok(crate::console::ok(&page.chrome, &view));
    }
    let req = ChangeHandleRequest {
        handle: form.handle.clone(),
    };
    match service::orgs::change_handle(&state, &meta, &page.owner, req).await {
        Ok(org) => Ok(crate::console::redirect_with_flash(
            &headers,
            &format!("/orgs/{}", org.handle),
            &format!(
                "The handle is now \"{}\": every workspace has its new DNS name. The old names redirect for {} days.",
                org.handle, state.settings.handle_grace_days
            ),
        )),
        Err(err) if err.status.is_client_error() => {
            advanced(&state, &page, &form.handle, Some(&err)).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}

#[derive(Template)]
#[template(path = "settings/reset_auth.html")]
struct ResetAuthView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
}

/// `GET …/advanced/reset-auth`: what will happen, and the button.
pub async fn reset_auth_page(page: OwnerPage) -> Response {
    let view = ResetAuthView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.owner),
        active: "advanced",
    };
    crate::console::ok(&page.chrome, &view)
}

/// `POST …/advanced/reset-auth`, as `POST /api/v1/orgs/{org}/reset-auth`. The session
/// itself stops working for the org: on to the login page, which says why.
pub async fn reset_auth(
    State(state): State<AppState>,
    meta: ClientMeta,
    page: OwnerPage,
) -> PageResult {
    service::orgs::reset_auth(&state, &meta, &page.owner)
        .await
        .map_err(|e| ConsoleError::from_api(&e).with_chrome(&page.chrome))?;
    let handle = page.owner.org.handle.as_str();
    Ok(to_login(
        Some(&format!("/orgs/{handle}")),
        Reason::OrgReset,
        Some(handle),
    ))
}

#[derive(Deserialize, Default)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

#[derive(Template)]
#[template(path = "settings/delete.html")]
struct DeleteView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    error: Option<String>,
    confirm: Field,
    workspaces_phrase: String,
    grace_days: u32,
}

/// What deleting does to the workspaces, in words a person would write.
fn workspaces_phrase(count: usize) -> String {
    match count {
        0 => "It has no workspaces.".to_owned(),
        1 => "Its workspace goes with it, and its DNS name stops answering.".to_owned(),
        n => format!("Its {n} workspaces go with it, and their DNS names stop answering."),
    }
}

async fn delete_view(
    state: &AppState,
    page: &OwnerPage,
    typed: &str,
    error: Option<&ApiError>,
) -> PageResult {
    let count = workspaces(state, page).await?.len();
    let handle = page.owner.org.handle.to_string();
    let view = DeleteView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.owner),
        active: "advanced",
        error: error.and_then(|e| form_error(e, &["confirm"])),
        confirm: Field::new("confirm", "Organization handle")
            .value(typed)
            .help(format!("Enter {handle} exactly to confirm."))
            .required()
            .autocomplete("off")
            // The browser keeps Delete from sending anything until the handle matches
            // (handles are [a-z0-9-], nothing to escape); the service checks anyway.
            .pattern(handle)
            .error_from(error, &["confirm"]),
        workspaces_phrase: workspaces_phrase(count),
        grace_days: state.settings.handle_grace_days,
    };
    let status = error.map_or(StatusCode::OK, |e| e.status);
    Ok(crate::console::render(status, &page.chrome, &view))
}

/// `GET …/advanced/delete`: the typed confirmation.
pub async fn delete_page(State(state): State<AppState>, page: OwnerPage) -> PageResult {
    delete_view(&state, &page, "", None).await
}

/// `POST …/advanced/delete`, as `DELETE /api/v1/orgs/{org}?confirm=…`.
pub async fn delete(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OwnerPage,
    ConsoleForm(form): ConsoleForm<DeleteForm>,
) -> PageResult {
    match service::orgs::delete(&state, &meta, &page.owner, Some(form.confirm.as_str())).await {
        Ok(()) => Ok(crate::console::redirect_with_flash(
            &headers,
            "/",
            &format!(
                "The organization \"{}\" was deleted. An instance administrator can restore it within {} days.",
                page.owner.org.handle, state.settings.handle_grace_days
            ),
        )),
        Err(err) if err.status.is_client_error() => {
            delete_view(&state, &page, &form.confirm, Some(&err)).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}
