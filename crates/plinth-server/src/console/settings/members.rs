//! Members (`/orgs/{org}/settings/members`): every member reads the list; owners invite
//! by handle or email, change roles, remove members (after a confirm page) and cancel
//! pending invitations; a member may leave. Each action is the service function the
//! API's handler calls (`service::members::{list, invite, update, remove, withdraw}`),
//! so the rules (owners only, the last owner stays) are decided there, and a refusal is
//! shown on the page it came from with nothing changed.

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use plinth_api::{InviteMemberRequest, UpdateMemberRequest};
use plinth_core::OrgPermission;
use plinth_store::{MemberRecord, MembershipStatus};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::api::extract::ClientMeta;
use crate::auth::org::{OrgMember, OrgOwner};
use crate::console::chrome::Chrome;
use crate::console::error::{ConsoleError, PageResult, sentence};
use crate::console::form::{ConsoleForm, Field, field_error};
use crate::console::graphics::Avatar;
use crate::console::home::role_name;
use crate::console::org::{OrgHeader, OrgPage};
use crate::console::session::see_other;
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;

/// A member list longer than this is cut (the API pages it; the console lists it whole).
const LIST_AT_MOST: usize = 10_000;

pub struct MemberRow {
    pub handle: String,
    pub display_name: String,
    pub avatar: Avatar,
    pub role: &'static str,
    pub since: String,
    pub since_short: String,
    /// The signed-in user's own row.
    pub is_you: bool,
}

impl MemberRow {
    fn of(m: &MemberRecord, you: &str) -> Self {
        Self {
            avatar: Avatar::new(m.handle.as_str(), &m.display_name, m.avatar_url.as_deref()),
            handle: m.handle.to_string(),
            display_name: m.display_name.clone(),
            role: role_name(m.membership.role),
            since: m.membership.created_at.format(&Rfc3339).unwrap_or_default(),
            since_short: m
                .membership
                .created_at
                .format(format_description!("[year]-[month]-[day]"))
                .unwrap_or_default(),
            is_you: m.handle.as_str() == you,
        }
    }
}

/// The role chooser of the Invite Member form, with what was chosen kept.
pub struct RoleChoice {
    pub value: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings/members.html")]
struct MembersView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    members: Vec<MemberRow>,
    invitations: Vec<MemberRow>,
    /// A refusal of the invite form that is about neither field (an owner-only action).
    invite_error: Option<String>,
    user: Field,
    role: RoleChoice,
    /// A refusal of a role change or a cancel, shown above the lists.
    list_error: Option<String>,
}

/// What the page shows besides the lists: the invite form's input, and a refusal.
#[derive(Default)]
struct Shown<'a> {
    invite: Option<&'a InviteForm>,
    invite_refusal: Option<&'a ApiError>,
    /// A refused action on one row: the sentence above the lists, and its status.
    list_refusal: Option<(String, StatusCode)>,
}

async fn all_members(state: &AppState, member: &OrgMember) -> Result<Vec<MemberRecord>, ApiError> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let found = service::members::list(state, member, after.as_deref(), 100).await?;
        all.extend(found.items);
        match found.next_after {
            Some(next) if all.len() < LIST_AT_MOST => after = Some(next),
            _ => return Ok(all),
        }
    }
}

async fn members_page(state: &AppState, page: &OrgPage, shown: Shown<'_>) -> PageResult {
    let fail = |e: ApiError| ConsoleError::from_api(&e).with_chrome(&page.chrome);
    let all = all_members(state, &page.member).await.map_err(fail)?;
    let you = page.member.actor.user.handle.as_str();
    let (members, invitations): (Vec<_>, Vec<_>) = all
        .iter()
        .partition(|m| m.membership.status == MembershipStatus::Active);
    let err = shown.invite_refusal;
    let mut user = Field::new("user", "Handle or email")
        .value(shown.invite.map_or("", |f| f.user.as_str()))
        .required()
        .autocomplete("off")
        .placeholder("max or max@example.com")
        .help("Someone with an account on this server. They join when they accept the invitation on their Invitations page.")
        .error_from(err, &["user"]);
    let role_error = err.and_then(|e| field_error(e, &["role"]));
    // A refusal about the person (unknown, already a member) shows beside their field;
    // one about neither field (owners only) above the form.
    let mut invite_error = None;
    if let Some(err) = err
        && user.error.is_none()
        && role_error.is_none()
    {
        if err.status == StatusCode::FORBIDDEN {
            invite_error = Some(sentence(err));
        } else {
            user.error = Some(sentence(err));
        }
    }
    let view = MembersView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.member),
        active: "members",
        members: members.into_iter().map(|m| MemberRow::of(m, you)).collect(),
        invitations: invitations
            .into_iter()
            .map(|m| MemberRow::of(m, you))
            .collect(),
        invite_error,
        user,
        role: RoleChoice {
            value: shown
                .invite
                .map_or("member", |f| f.role.as_str())
                .to_owned(),
            error: role_error,
        },
        list_error: shown.list_refusal.as_ref().map(|(text, _)| text.clone()),
    };
    let status = match (err, &shown.list_refusal) {
        (Some(err), _) => err.status,
        (None, Some((_, status))) => *status,
        (None, None) => StatusCode::OK,
    };
    Ok(crate::console::render(status, &page.chrome, &view))
}

fn members_path(page: &OrgPage) -> String {
    format!("/orgs/{}/settings/members", page.member.org.handle)
}

/// `GET /orgs/{org}/settings/members`.
pub async fn show(State(state): State<AppState>, page: OrgPage) -> PageResult {
    members_page(&state, &page, Shown::default()).await
}

/// A GET of an action's address (a reload, a pasted link) goes back to the list.
pub async fn back_to_members(page: OrgPage) -> Response {
    see_other(&members_path(&page))
}

/// The form's role as the API's field; anything else is refused as the API refuses it.
fn parse_role(input: &str) -> Result<plinth_api::OrgRole, ApiError> {
    match input.trim() {
        "member" => Ok(plinth_api::OrgRole::Member),
        "owner" => Ok(plinth_api::OrgRole::Owner),
        _ => Err(ApiError::validation("role", "must be member or owner")),
    }
}

/// The owner proof the service asks for: a member who is not one gets the guard's 403,
/// shown on the page like any other refusal.
fn owner(page: &OrgPage) -> Result<OrgOwner, ApiError> {
    OrgOwner::try_from(page.member.0.clone())
}

#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: String,
}

/// `POST /orgs/{org}/settings/members/invite`, as `POST /api/v1/orgs/{org}/members`.
pub async fn invite(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    ConsoleForm(form): ConsoleForm<InviteForm>,
) -> PageResult {
    let result = async {
        let owner = owner(&page)?;
        let req = InviteMemberRequest {
            user: form.user.clone(),
            role: parse_role(&form.role)?,
        };
        service::members::invite(&state, &meta, &owner, req).await
    }
    .await;
    match result {
        Ok(invited) => Ok(crate::console::redirect_with_flash(
            &headers,
            &members_path(&page),
            &format!(
                "Invited \"{}\" as {}. They join when they accept the invitation on their Invitations page.",
                invited.handle,
                role_name(invited.membership.role)
            ),
        )),
        Err(err) if err.status.is_client_error() => {
            let shown = Shown {
                invite: Some(&form),
                invite_refusal: Some(&err),
                list_refusal: None,
            };
            members_page(&state, &page, shown).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}

/// The `{user}` of a member route. A segment that is not UTF-8 once decoded names
/// nobody: the 404 page, never axum's plain-text rejection.
pub struct MemberHandle(String);

impl FromRequestParts<AppState> for MemberHandle {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map(|Path((_org, user))| MemberHandle(user))
            .map_err(|_| ConsoleError::not_found())
    }
}

/// A refusal of an action on one row, for the alert above the lists.
fn row_refusal(what: &str, err: &ApiError) -> (String, StatusCode) {
    let why = field_error(err, &["role", "user"]).unwrap_or_else(|| sentence(err));
    (format!("{what}: {why}"), err.status)
}

#[derive(Deserialize, Default)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST …/members/{user}/role`, as `PATCH /api/v1/orgs/{org}/members/{user}`.
pub async fn change_role(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    MemberHandle(user): MemberHandle,
    ConsoleForm(form): ConsoleForm<RoleForm>,
) -> PageResult {
    let result = async {
        let owner = owner(&page)?;
        let req = UpdateMemberRequest {
            role: parse_role(&form.role)?,
        };
        service::members::update(&state, &meta, &owner, &user, req).await
    }
    .await;
    match result {
        Ok(changed) => Ok(crate::console::redirect_with_flash(
            &headers,
            &members_path(&page),
            &format!(
                "\"{}\" is now {}.",
                changed.handle,
                role_name(changed.membership.role)
            ),
        )),
        Err(err) if err.status.is_client_error() => {
            let shown = Shown {
                list_refusal: Some(row_refusal(
                    &format!("The role of \"{user}\" was not changed"),
                    &err,
                )),
                ..Shown::default()
            };
            members_page(&state, &page, shown).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}

/// `POST …/members/{user}/cancel`: withdraws a pending invitation
/// (`service::members::withdraw`, the API's `DELETE …/members/{user}` for invitations).
pub async fn cancel(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    MemberHandle(user): MemberHandle,
) -> PageResult {
    match service::members::withdraw(&state, &meta, &page.member, &user).await {
        Ok(()) => Ok(crate::console::redirect_with_flash(
            &headers,
            &members_path(&page),
            &format!("The invitation of \"{user}\" was cancelled."),
        )),
        Err(err) if err.status.is_client_error() => {
            let shown = Shown {
                list_refusal: Some(row_refusal(
                    &format!("The invitation of \"{user}\" was not cancelled"),
                    &err,
                )),
                ..Shown::default()
            };
            members_page(&state, &page, shown).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}

#[derive(Template)]
#[template(path = "settings/member_remove.html")]
struct RemoveView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    member: MemberRow,
    invited: bool,
    error: Option<String>,
}

async fn remove_page(
    state: &AppState,
    page: &OrgPage,
    user: &str,
    error: Option<&ApiError>,
) -> PageResult {
    let fail = |e: ApiError| ConsoleError::from_api(&e).with_chrome(&page.chrome);
    let found = service::members::show(state, &page.member, user)
        .await
        .map_err(fail)?;
    let row = MemberRow::of(&found, page.member.actor.user.handle.as_str());
    // Owners may remove anyone, a member only themself (the service decides; this
    // only keeps the page from offering a button that can only be refused).
    if error.is_none() && !row.is_you && !page.member.role().can(OrgPermission::Manage) {
        return Err(fail(ApiError::forbidden(format!(
            "only owners of \"{}\" may remove members",
            page.member.org.handle
        ))));
    }
    let view = RemoveView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.member),
        active: "members",
        invited: found.membership.status == MembershipStatus::Invited,
        member: row,
        error: error.map(sentence),
    };
    let status = error.map_or(StatusCode::OK, |e| e.status);
    Ok(crate::console::render(status, &page.chrome, &view))
}

/// `GET …/members/{user}/remove`: what removing (or leaving) does, and the button.
pub async fn remove_confirm(
    State(state): State<AppState>,
    page: OrgPage,
    MemberHandle(user): MemberHandle,
) -> PageResult {
    remove_page(&state, &page, &user, None).await
}

/// `POST …/members/{user}/remove`, as `DELETE /api/v1/orgs/{org}/members/{user}`.
pub async fn remove(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OrgPage,
    MemberHandle(user): MemberHandle,
) -> PageResult {
    let leaving = service::members::show(&state, &page.member, &user)
        .await
        .is_ok_and(|m| m.membership.user_id == page.member.actor.user.id);
    match service::members::remove(&state, &meta, &page.member, &user).await {
        Ok(()) if leaving => Ok(crate::console::redirect_with_flash(
            &headers,
            "/",
            &format!(
                "You left \"{}\". To come back, an owner must invite you again.",
                page.member.org.handle
            ),
        )),
        Ok(()) => Ok(crate::console::redirect_with_flash(
            &headers,
            &members_path(&page),
            &format!(
                "\"{user}\" was removed from \"{}\".",
                page.member.org.handle
            ),
        )),
        Err(err) if err.status.is_client_error() => {
            remove_page(&state, &page, &user, Some(&err)).await
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}
