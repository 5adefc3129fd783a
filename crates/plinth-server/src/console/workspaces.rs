//! Workspaces: Create on the org page, and a workspace's own page
//! `/orgs/{org}/workspaces/{ws}` with its DNS name and URL, its members and their roles
//! (add, change, remove), Rename (after a review of the DNS name that changes) and
//! Delete (the handle typed). Each action is the `service::workspaces` function the
//! API's handler calls, which decides who may do it; a page only shows or hides the
//! forms by the caller's role.

use askama::Template;
use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use plinth_api::{
    AddWorkspaceMemberRequest, CreateWorkspaceRequest, UpdateWorkspaceMemberRequest,
    UpdateWorkspaceRequest,
};
use plinth_core::{DnsName, OrgPermission, WorkspaceHandle, WorkspaceRole};
use plinth_store::WorkspaceMemberRecord;
use serde::Deserialize;

use super::chrome::Chrome;
use super::error::{ConsoleError, PageResult, sentence};
use super::form::{ConsoleForm, Field, field_error, form_error};
use super::graphics::Avatar;
use super::org::{OrgHeader, OrgPage, OwnerPage};
use super::session::see_other;
use crate::api::extract::ClientMeta;
use crate::api::views;
use crate::auth::org::OrgMember;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;
use crate::service;
use crate::service::workspaces::VisibleWorkspace;

/// What a workspace handle may be, beside every handle field.
pub const HANDLE_RULES: &str =
    "1–23 lowercase letters and digits; no hyphens, spaces or other characters.";

/// The `{ws}` (and, on member routes, `{user}`) of a workspace route. A segment that
/// does not decode names nothing: the 404 page, never axum's plain-text rejection.
pub struct WsPath {
    ws: String,
    user: Option<String>,
}

impl FromRequestParts<AppState> for WsPath {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ConsoleError::not_found())?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_owned())
        };
        Ok(Self {
            ws: get("ws").ok_or_else(ConsoleError::not_found)?,
            user: get("user"),
        })
    }
}

/// The DNS name of `{org}-{ws}` around the handle being typed, for the preview script
/// (`static/workspace-name.js`) and for the text shown without it.
pub struct NamePreview {
    pub input: &'static str,
    pub prefix: String,
    pub suffix: String,
}

impl NamePreview {
    pub fn new(state: &AppState, org: &str, input: &'static str) -> Self {
        Self {
            input,
            prefix: format!("{org}-"),
            suffix: format!(".{}", state.settings.base_domain),
        }
    }
}

/// The Create form on the org page (org owners).
pub struct CreateSection {
    pub handle: Field,
    pub display_name: Field,
    pub error: Option<String>,
    pub preview: NamePreview,
}

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    display_name: String,
}

impl CreateSection {
    pub fn new(state: &AppState, org: &str, form: &CreateForm, error: Option<&ApiError>) -> Self {
        let fields = ["handle", "display_name"];
        Self {
            handle: Field::new("handle", "Workspace handle")
                .value(&form.handle)
                .required()
                .autocomplete("off")
                .placeholder("prod")
                .pattern("[A-Za-z0-9]{1,23}".to_owned())
                .help(HANDLE_RULES)
                .error_from(error, &["handle"]),
            display_name: Field::new("display_name", "Display name")
                .value(&form.display_name)
                .help("Optional, 1–100 characters; the handle if empty.")
                .error_from(error, &["display_name"]),
            error: error.and_then(|e| form_error(e, &fields)),
            preview: NamePreview::new(state, org, "handle"),
        }
    }
}

/// `POST /orgs/{org}/workspaces`: Create, as `POST /api/v1/orgs/{org}/workspaces`; then
/// the workspace's page, which shows its DNS name.
pub async fn create(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OwnerPage,
    ConsoleForm(form): ConsoleForm<CreateForm>,
) -> PageResult {
    let display_name = form.display_name.trim();
    let req = CreateWorkspaceRequest {
        handle: form.handle.clone(),
        display_name: (!display_name.is_empty()).then(|| display_name.to_owned()),
    };
    match service::workspaces::create(&state, &meta, &page.owner, req).await {
        Ok(ws) => {
            let org = &page.owner.org.handle;
            let name = DnsName::new(org, &ws.workspace.handle, &state.settings.base_domain);
            Ok(super::redirect_with_flash(
                &headers,
                &format!("/orgs/{org}/workspaces/{}", ws.workspace.handle),
                &format!(
                    "Workspace \"{}\" created. Its DNS name is {name}.",
                    ws.workspace.handle
                ),
            ))
        }
        Err(err) if err.status.is_client_error() => {
            let member = OrgMember::try_from(page.owner.0.clone())
                .map_err(|e| ConsoleError::from_api(&e).with_chrome(&page.chrome))?;
            let section = CreateSection::new(&state, member.org.handle.as_str(), &form, Some(&err));
            super::org::render(&state, &member, &page.chrome, err.status, Some(section)).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}

/// A GET of an action's address (a reload, a pasted link) goes to the page it belongs to.
pub async fn back_to_org(page: OrgPage) -> Response {
    see_other(&format!("/orgs/{}", page.member.org.handle))
}

/// A GET of a workspace action's address goes back to the workspace.
pub async fn back_to_workspace(page: OrgPage, path: WsPath) -> Response {
    see_other(&format!(
        "/orgs/{}/workspaces/{}",
        page.member.org.handle, path.ws
    ))
}

pub fn role_name(role: WorkspaceRole) -> &'static str {
    match role {
        WorkspaceRole::Reader => "reader",
        WorkspaceRole::Operator => "operator",
        WorkspaceRole::Owner => "owner",
    }
}

const ROLES: [WorkspaceRole; 3] = [
    WorkspaceRole::Reader,
    WorkspaceRole::Operator,
    WorkspaceRole::Owner,
];

/// A role from a form; anything else is refused as the API refuses an unknown value.
fn parse_role(input: &str) -> Result<plinth_api::WorkspaceRole, ApiError> {
    match input.trim() {
        "reader" => Ok(plinth_api::WorkspaceRole::Reader),
        "operator" => Ok(plinth_api::WorkspaceRole::Operator),
        "owner" => Ok(plinth_api::WorkspaceRole::Owner),
        _ => Err(ApiError::validation(
            "role",
            "must be reader, operator or owner",
        )),
    }
}

pub struct RoleOption {
    pub value: &'static str,
    pub selected: bool,
}

fn role_options(selected: &str) -> Vec<RoleOption> {
    ROLES
        .iter()
        .map(|role| RoleOption {
            value: role_name(*role),
            selected: role_name(*role) == selected,
        })
        .collect()
}

pub struct WorkspaceFacts {
    pub handle: String,
    pub display_name: String,
    pub dns_name: String,
    pub url: String,
    pub role: &'static str,
}

impl WorkspaceFacts {
    fn of(state: &AppState, member: &OrgMember, ws: &VisibleWorkspace) -> Self {
        let api = views::workspace(&state.settings, &member.org.handle, ws);
        Self {
            handle: api.handle,
            display_name: api.display_name,
            dns_name: api.dns_name,
            url: api.url,
            role: role_name(ws.role),
        }
    }
}

pub struct MemberRow {
    pub handle: String,
    pub display_name: String,
    pub avatar: Avatar,
    pub role: &'static str,
    pub options: Vec<RoleOption>,
    pub is_you: bool,
}

/// Which form on the workspace page a refusal belongs to.
enum Form {
    AddMember,
    /// A role change or removal: shown above the member list.
    Member,
    Rename,
    DisplayName,
}

/// What the person typed, kept when a form is refused.
#[derive(Default)]
struct Kept {
    add_user: String,
    add_role: String,
    handle: String,
    display_name: Option<String>,
}

#[derive(Template)]
#[template(path = "workspace/show.html")]
struct WorkspaceView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    ws: WorkspaceFacts,
    can_manage: bool,
    is_org_owner: bool,
    members: Vec<MemberRow>,
    members_error: Option<String>,
    add_error: Option<String>,
    add_user: Field,
    add_roles: Vec<RoleOption>,
    add_role_error: Option<String>,
    rename_error: Option<String>,
    handle: Field,
    preview: NamePreview,
    display_name: Field,
    name_error: Option<String>,
}

/// Every explicit member of the workspace (the API's listing, page after page).
async fn all_members(
    state: &AppState,
    member: &OrgMember,
    ws: &str,
) -> ApiResult<Vec<WorkspaceMemberRecord>> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page =
            service::workspaces::list_members(state, member, ws, after.as_deref(), 100).await?;
        all.extend(page.items);
        match page.next_after {
            Some(next) if all.len() < 10_000 => after = Some(next),
            _ => return Ok(all),
        }
    }
}

/// Turns a service refusal into the page for it.
fn page_error(chrome: &Chrome) -> impl Fn(ApiError) -> ConsoleError + '_ {
    move |e| ConsoleError::from_api(&e).with_chrome(chrome)
}

async fn view(
    state: &AppState,
    page: &OrgPage,
    ws: &str,
    kept: Kept,
    failure: Option<(Form, &ApiError)>,
) -> PageResult {
    let fail = page_error(&page.chrome);
    let member = &page.member;
    let visible = service::workspaces::show(state, member, ws)
        .await
        .map_err(&fail)?;
    let records = all_members(state, member, ws).await.map_err(&fail)?;
    let err_for = |form: fn(&Form) -> bool| {
        failure
            .as_ref()
            .filter(|(f, _)| form(f))
            .map(|(_, err)| *err)
    };
    let add_err = err_for(|f| matches!(f, Form::AddMember));
    let rename_err = err_for(|f| matches!(f, Form::Rename));
    let name_err = err_for(|f| matches!(f, Form::DisplayName));
    let members_error = match &failure {
        Some((Form::Member, err)) => {
            Some(field_error(err, &["role", "user"]).unwrap_or_else(|| sentence(err)))
        }
        _ => None,
    };
    let members = records
        .iter()
        .map(|m| {
            let handle = m.handle.to_string();
            MemberRow {
                avatar: Avatar::new(m.handle.as_str(), &m.display_name, m.avatar_url.as_deref()),
                display_name: m.display_name.clone(),
                role: role_name(m.role),
                options: role_options(role_name(m.role)),
                is_you: m.user_id == member.actor.user.id,
                handle,
            }
        })
        .collect();
    let facts = WorkspaceFacts::of(state, member, &visible);
    let add_role = if kept.add_role.is_empty() {
        "reader"
    } else {
        kept.add_role.as_str()
    };
    let view = WorkspaceView {
        chrome: &page.chrome,
        org: OrgHeader::of(member),
        can_manage: visible.role == WorkspaceRole::Owner,
        is_org_owner: member.role().can(OrgPermission::Manage),
        members,
        members_error,
        add_error: add_err.and_then(|e| form_error(e, &["user", "role"])),
        add_role_error: add_err.and_then(|e| field_error(e, &["role"])),
        add_user: Field::new("user", "Handle or email")
            .value(&kept.add_user)
            .required()
            .autocomplete("off")
            .help("An active member of the organization.")
            .error_from(add_err, &["user"]),
        add_roles: role_options(add_role),
        rename_error: rename_err.and_then(|e| form_error(e, &["handle"])),
        handle: Field::new("handle", "New handle")
            .value(&kept.handle)
            .required()
            .autocomplete("off")
            .placeholder(HANDLE_PLACEHOLDER)
            .pattern("[A-Za-z0-9]{1,23}".to_owned())
            .help(HANDLE_RULES)
            .error_from(rename_err, &["handle"]),
        preview: NamePreview::new(state, member.org.handle.as_str(), "handle"),
        display_name: Field::new("display_name", "Display name")
            .value(kept.display_name.as_deref().unwrap_or(&facts.display_name))
            .required()
            .help("1–100 characters.")
            .error_from(name_err, &["display_name"]),
        name_error: name_err.and_then(|e| form_error(e, &["display_name"])),
        ws: facts,
    };
    let status = failure.map_or(StatusCode::OK, |(_, e)| e.status);
    Ok(super::render(status, &page.chrome, &view))
}

const HANDLE_PLACEHOLDER: &str = "newname";

/// `GET /orgs/{org}/workspaces/{ws}`, as `GET /api/v1/orgs/{org}/workspaces/{ws}` and
/// its members: 404 for a member without a role on it.
pub async fn show(State(state): State<AppState>, page: OrgPage, path: WsPath) -> PageResult {
    view(&state, &page, &path.ws, Kept::default(), None).await
}

/// After a refusal: 403 is the page saying so (the forms are not shown to people who
/// may not use them); anything else a client sent is shown beside its form.
async fn refused(
    state: &AppState,
    page: &OrgPage,
    ws: &str,
    kept: Kept,
    form: Form,
    err: ApiError,
) -> PageResult {
    if err.status == StatusCode::FORBIDDEN || !err.status.is_client_error() {
        return Err(ConsoleError::from_api(&err).with_chrome(&page.chrome));
    }
    view(state, page, ws, kept, Some((form, &err))).await
}

fn workspace_path(org: &str, ws: &str) -> String {
    format!("/orgs/{org}/workspaces/{ws}")
}

#[derive(Deserialize, Default)]
pub struct RenameForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    confirmed: String,
}

#[derive(Template)]
#[template(path = "workspace/rename.html")]
struct RenameReview<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    ws: WorkspaceFacts,
    new_handle: String,
    new_dns_name: String,
}

/// `POST …/workspaces/{ws}/rename`: first the review of the DNS name that changes, then
/// (`confirmed=yes`) the change, as `PATCH /api/v1/orgs/{org}/workspaces/{ws}`
/// `{handle}`.
pub async fn rename(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    path: WsPath,
    ConsoleForm(form): ConsoleForm<RenameForm>,
) -> PageResult {
    let kept = || Kept {
        handle: form.handle.clone(),
        ..Kept::default()
    };
    let org = page.member.org.handle.clone();
    if form.confirmed != "yes" {
        let current = match service::workspaces::owned(&state, &page.member, &path.ws).await {
            Ok(current) => current,
            Err(err) => return refused(&state, &page, &path.ws, kept(), Form::Rename, err).await,
        };
        // The review needs the handle as the domain type; the service parses it again
        // (and decides everything else) on Save.
        let new = match WorkspaceHandle::parse(&form.handle) {
            Ok(new) if new == current.workspace.handle => {
                let err = ApiError::validation("handle", "must differ from the current handle");
                return refused(&state, &page, &path.ws, kept(), Form::Rename, err).await;
            }
            Ok(new) => new,
            Err(e) => {
                let err = ApiError::validation("handle", e.0);
                return refused(&state, &page, &path.ws, kept(), Form::Rename, err).await;
            }
        };
        let review = RenameReview {
            chrome: &page.chrome,
            org: OrgHeader::of(&page.member),
            ws: WorkspaceFacts::of(&state, &page.member, &current),
            new_dns_name: DnsName::new(&org, &new, &state.settings.base_domain).to_string(),
            new_handle: new.to_string(),
        };
        return Ok(super::ok(&page.chrome, &review));
    }
    let req = UpdateWorkspaceRequest {
        handle: Some(form.handle.clone()),
        display_name: None,
    };
    match service::workspaces::update(&state, &meta, &page.member, &path.ws, req).await {
        Ok(ws) => {
            let name = DnsName::new(&org, &ws.workspace.handle, &state.settings.base_domain);
            Ok(super::redirect_with_flash(
                &headers,
                &workspace_path(org.as_str(), ws.workspace.handle.as_str()),
                &format!(
                    "The workspace is now \"{}\". Its DNS name is {name}; the old name no longer answers.",
                    ws.workspace.handle
                ),
            ))
        }
        Err(err) => refused(&state, &page, &path.ws, kept(), Form::Rename, err).await,
    }
}

#[derive(Deserialize, Default)]
pub struct DisplayNameForm {
    #[serde(default)]
    display_name: String,
}

/// `POST …/workspaces/{ws}/display-name`, as `PATCH …/workspaces/{ws}` `{display_name}`.
pub async fn display_name(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    path: WsPath,
    ConsoleForm(form): ConsoleForm<DisplayNameForm>,
) -> PageResult {
    let req = UpdateWorkspaceRequest {
        handle: None,
        display_name: Some(form.display_name.clone()),
    };
    match service::workspaces::update(&state, &meta, &page.member, &path.ws, req).await {
        Ok(ws) => Ok(super::redirect_with_flash(
            &headers,
            &workspace_path(
                page.member.org.handle.as_str(),
                ws.workspace.handle.as_str(),
            ),
            "Display name saved.",
        )),
        Err(err) => {
            let kept = Kept {
                display_name: Some(form.display_name),
                ..Kept::default()
            };
            refused(&state, &page, &path.ws, kept, Form::DisplayName, err).await
        }
    }
}

/// A member as a flash message names them: "Bob Baker (bob)", or "bob" alone.
fn who(member: &WorkspaceMemberRecord) -> String {
    if member.display_name == member.handle.as_str() {
        member.handle.to_string()
    } else {
        format!("{} ({})", member.display_name, member.handle)
    }
}

#[derive(Deserialize, Default)]
pub struct AddMemberForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: String,
}

/// `POST …/workspaces/{ws}/members`, as `POST …/workspaces/{ws}/members` `{user, role}`.
pub async fn add_member(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    path: WsPath,
    ConsoleForm(form): ConsoleForm<AddMemberForm>,
) -> PageResult {
    let result = match parse_role(&form.role) {
        Ok(role) => {
            let req = AddWorkspaceMemberRequest {
                user: form.user.clone(),
                role,
            };
            service::workspaces::add_member(&state, &meta, &page.member, &path.ws, req).await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(added) => Ok(super::redirect_with_flash(
            &headers,
            &workspace_path(page.member.org.handle.as_str(), &path.ws),
            &format!(
                "{} is now {} of this workspace.",
                who(&added),
                role_name(added.role)
            ),
        )),
        Err(err) => {
            let kept = Kept {
                add_user: form.user,
                add_role: form.role,
                ..Kept::default()
            };
            refused(&state, &page, &path.ws, kept, Form::AddMember, err).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST …/workspaces/{ws}/members/{user}/role`, as `PATCH …/members/{user}` `{role}`.
pub async fn change_role(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    path: WsPath,
    ConsoleForm(form): ConsoleForm<RoleForm>,
) -> PageResult {
    let user = path
        .user
        .as_deref()
        .ok_or_else(ConsoleError::not_found)?
        .to_owned();
    let result = match parse_role(&form.role) {
        Ok(role) => {
            let req = UpdateWorkspaceMemberRequest { role };
            service::workspaces::update_member(&state, &meta, &page.member, &path.ws, &user, req)
                .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(changed) => Ok(super::redirect_with_flash(
            &headers,
            &workspace_path(page.member.org.handle.as_str(), &path.ws),
            &format!(
                "{} is now {} of this workspace.",
                who(&changed),
                role_name(changed.role)
            ),
        )),
        Err(err) => refused(&state, &page, &path.ws, Kept::default(), Form::Member, err).await,
    }
}

#[derive(Template)]
#[template(path = "workspace/member_remove.html")]
struct RemoveView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    ws: WorkspaceFacts,
    user_handle: String,
    user_display_name: String,
    role: &'static str,
    is_you: bool,
}

/// `GET …/workspaces/{ws}/members/{user}/remove`: what removing does, and the button.
pub async fn remove_member_page(
    State(state): State<AppState>,
    page: OrgPage,
    path: WsPath,
) -> PageResult {
    let fail = page_error(&page.chrome);
    let user = path.user.as_deref().ok_or_else(ConsoleError::not_found)?;
    let visible = service::workspaces::show(&state, &page.member, &path.ws)
        .await
        .map_err(&fail)?;
    let records = all_members(&state, &page.member, &path.ws)
        .await
        .map_err(&fail)?;
    let record = records
        .iter()
        .find(|m| m.handle.as_str() == user.to_ascii_lowercase())
        .ok_or_else(|| ConsoleError::not_found().with_chrome(&page.chrome))?;
    let view = RemoveView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.member),
        ws: WorkspaceFacts::of(&state, &page.member, &visible),
        user_handle: record.handle.to_string(),
        user_display_name: record.display_name.clone(),
        role: role_name(record.role),
        is_you: record.user_id == page.member.actor.user.id,
    };
    Ok(super::ok(&page.chrome, &view))
}

/// `POST …/workspaces/{ws}/members/{user}/remove`, as `DELETE …/members/{user}`.
pub async fn remove_member(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    path: WsPath,
) -> PageResult {
    let user = path
        .user
        .as_deref()
        .ok_or_else(ConsoleError::not_found)?
        .to_owned();
    let org = page.member.org.handle.to_string();
    match service::workspaces::remove_member(&state, &meta, &page.member, &path.ws, &user).await {
        Ok(()) => {
            let you = user.eq_ignore_ascii_case(page.member.actor.user.handle.as_str());
            // Someone who gave up their own role may no longer see the workspace.
            let (to, message) = if you && !page.member.role().can(OrgPermission::Manage) {
                (
                    format!("/orgs/{org}"),
                    format!(
                        "You no longer have a role on the workspace \"{}\".",
                        path.ws
                    ),
                )
            } else {
                (
                    workspace_path(&org, &path.ws),
                    format!("{user} no longer has a role on this workspace."),
                )
            };
            Ok(super::redirect_with_flash(&headers, &to, &message))
        }
        Err(err) => refused(&state, &page, &path.ws, Kept::default(), Form::Member, err).await,
    }
}

#[derive(Deserialize, Default)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

#[derive(Template)]
#[template(path = "workspace/delete.html")]
struct DeleteView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    ws: WorkspaceFacts,
    error: Option<String>,
    confirm: Field,
}

async fn delete_view(
    state: &AppState,
    page: &OwnerPage,
    ws: &str,
    typed: &str,
    error: Option<&ApiError>,
) -> PageResult {
    let fail = page_error(&page.chrome);
    let member = OrgMember::try_from(page.owner.0.clone()).map_err(&fail)?;
    let visible = service::workspaces::show(state, &member, ws)
        .await
        .map_err(&fail)?;
    let handle = visible.workspace.handle.to_string();
    let view = DeleteView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.owner),
        ws: WorkspaceFacts::of(state, &member, &visible),
        error: error.and_then(|e| form_error(e, &["confirm"])),
        confirm: Field::new("confirm", "Workspace handle")
            .value(typed)
            .help(format!("Enter {handle} exactly to confirm."))
            .required()
            .autocomplete("off")
            // Workspace handles are [a-z0-9], nothing to escape in a pattern; the
            // handler compares anyway.
            .pattern(handle)
            .error_from(error, &["confirm"]),
    };
    let status = error.map_or(StatusCode::OK, |e| e.status);
    Ok(super::render(status, &page.chrome, &view))
}

/// `GET …/workspaces/{ws}/delete`: the typed confirmation (org owners).
pub async fn delete_page(
    State(state): State<AppState>,
    page: OwnerPage,
    path: WsPath,
) -> PageResult {
    delete_view(&state, &page, &path.ws, "", None).await
}

/// `POST …/workspaces/{ws}/delete`, as `DELETE /api/v1/orgs/{org}/workspaces/{ws}`
/// once the handle typed matches exactly (the API's caller confirms on its side, as
/// `plinth workspace delete` does).
pub async fn delete(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OwnerPage,
    path: WsPath,
    ConsoleForm(form): ConsoleForm<DeleteForm>,
) -> PageResult {
    if form.confirm != path.ws.to_ascii_lowercase() {
        let err = ApiError::confirmation_mismatch(format!(
            "type the workspace's handle, {}, exactly to delete it",
            path.ws
        ));
        return delete_view(&state, &page, &path.ws, &form.confirm, Some(&err)).await;
    }
    let org = page.owner.org.handle.clone();
    match service::workspaces::delete(&state, &meta, &page.owner, &path.ws).await {
        Ok(()) => {
            let name = WorkspaceHandle::parse(&path.ws)
                .map(|ws| DnsName::new(&org, &ws, &state.settings.base_domain).to_string())
                .unwrap_or_default();
            Ok(super::redirect_with_flash(
                &headers,
                &format!("/orgs/{org}"),
                &format!(
                    "The workspace \"{}\" was deleted; {name} no longer answers.",
                    path.ws
                ),
            ))
        }
        Err(err) if err.status.is_client_error() && err.status != StatusCode::FORBIDDEN => {
            delete_view(&state, &page, &path.ws, &form.confirm, Some(&err)).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}
