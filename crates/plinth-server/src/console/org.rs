//! Pages of one org: the guard (the API's `OrgAccess::resolve` and the same
//! `OrgMember`/`OrgOwner` checks) and `/orgs/{org}`, its workspaces.

use askama::Template;
use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use plinth_core::{Handle, OrgPermission};

use super::chrome::Chrome;
use super::error::{ConsoleError, PageResult};
use super::graphics::Avatar;
use super::session::{Reason, SignedIn, requested_path, to_login};
use super::workspaces::{CreateForm, CreateSection, role_name};
use crate::api::views;
use crate::auth::org::{OrgAccess, OrgMember, OrgOwner, moved_path, moved_to};
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;
use crate::service::workspaces::VisibleWorkspace;

/// A member of the org in the path. Refusals as the API's guard, shown as pages:
/// non-members 404, an org reset sends to the login page, an old handle during its
/// grace period 308 to the same page under the new handle.
pub struct OrgPage {
    pub member: OrgMember,
    pub chrome: Chrome,
}

/// An owner of the org in the path; members get the 403 page.
pub struct OwnerPage {
    pub owner: OrgOwner,
    pub chrome: Chrome,
}

/// The org as the settings layout shows it.
pub struct OrgHeader {
    pub handle: String,
    pub display_name: String,
    pub avatar: Avatar,
    /// Whether the viewer manages the org: members see only the settings they may read.
    pub can_manage: bool,
}

impl OrgHeader {
    pub fn of(access: &OrgAccess) -> Self {
        let org = &access.org;
        Self {
            can_manage: access.role().can(plinth_core::OrgPermission::Manage),
            handle: org.handle.to_string(),
            display_name: org.display_name.clone(),
            avatar: Avatar::new(
                org.handle.as_str(),
                &org.display_name,
                org.avatar_url.as_deref(),
            ),
        }
    }
}

impl FromRequestParts<AppState> for OrgPage {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let signed = SignedIn::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ConsoleError::not_found())?;
        let org = params
            .iter()
            .find(|(key, _)| *key == "org")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(ConsoleError::not_found)?;
        let actor = signed.actor.clone();
        match OrgAccess::resolve(state, signed.actor, &org).await {
            Ok(access) => {
                let member = OrgMember::try_from(access)
                    .map_err(|e| ConsoleError::from_api(&e).with_chrome(&signed.chrome))?;
                let chrome = signed.chrome.for_org(member.org.handle.as_str());
                Ok(Self { member, chrome })
            }
            Err(err) if err.status == StatusCode::NOT_FOUND => {
                // The API guard's rule: an old handle in its grace period moved.
                match moved_to(state, &actor, &org).await {
                    Some(new) => {
                        let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
                        if let Ok(location) = HeaderValue::from_str(&moved_path(&parts.uri, &new)) {
                            response.headers_mut().insert(header::LOCATION, location);
                        }
                        Err(ConsoleError::Response(response))
                    }
                    None => Err(ConsoleError::not_found().with_chrome(&signed.chrome)),
                }
            }
            Err(err) if err.status == StatusCode::UNAUTHORIZED => {
                let org = Handle::parse(&org).ok();
                Err(ConsoleError::Response(to_login(
                    Some(&requested_path(parts)),
                    Reason::OrgReset,
                    org.as_ref().map(Handle::as_str),
                )))
            }
            Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&signed.chrome)),
        }
    }
}

impl FromRequestParts<AppState> for OwnerPage {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let page = OrgPage::from_request_parts(parts, state).await?;
        match OrgOwner::try_from(page.member.0) {
            Ok(owner) => Ok(Self {
                owner,
                chrome: page.chrome,
            }),
            Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
        }
    }
}

/// Every workspace the member may see (the API's listing, page after page).
pub async fn all_workspaces(
    state: &AppState,
    member: &OrgMember,
) -> ApiResult<Vec<VisibleWorkspace>> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = service::workspaces::list(state, member, after.as_deref(), 100).await?;
        all.extend(page.items);
        match page.next_after {
            Some(next) if all.len() < 10_000 => after = Some(next),
            _ => return Ok(all),
        }
    }
}

pub struct WorkspaceRow {
    pub handle: String,
    pub display_name: String,
    pub dns_name: String,
    pub url: String,
    pub role: &'static str,
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    role: &'static str,
    is_owner: bool,
    workspaces: Vec<WorkspaceRow>,
    /// The Create form, for owners.
    create: Option<CreateSection>,
}

/// `GET /orgs/{org}`: the workspaces with their DNS names, as `GET …/workspaces`, and
/// for owners the form that creates one.
pub async fn show(State(state): State<AppState>, page: OrgPage) -> PageResult {
    let is_owner = page.member.role().can(OrgPermission::Manage);
    let create = is_owner.then(|| {
        CreateSection::new(
            &state,
            page.member.org.handle.as_str(),
            &CreateForm::default(),
            None,
        )
    });
    render(&state, &page.member, &page.chrome, StatusCode::OK, create).await
}

/// The org page with `create` as its Create form (kept input and refusal included).
pub async fn render(
    state: &AppState,
    member: &OrgMember,
    chrome: &Chrome,
    status: StatusCode,
    create: Option<CreateSection>,
) -> PageResult {
    let workspaces = all_workspaces(state, member)
        .await
        .map_err(|e| ConsoleError::from_api(&e).with_chrome(chrome))?;
    let rows = workspaces
        .iter()
        .map(|ws| {
            let api = views::workspace(&state.settings, &member.org.handle, ws);
            WorkspaceRow {
                handle: api.handle,
                display_name: api.display_name,
                dns_name: api.dns_name,
                url: api.url,
                role: role_name(ws.role),
            }
        })
        .collect();
    let view = OrgView {
        chrome,
        org: OrgHeader::of(member),
        role: super::home::role_name(member.role()),
        is_owner: member.role().can(OrgPermission::Manage),
        workspaces: rows,
        create,
    };
    Ok(super::render(status, chrome, &view))
}
