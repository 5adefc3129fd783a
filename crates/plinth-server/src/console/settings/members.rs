//! Members: the list, read-only in part 1, from `service::members::list` as
//! `GET /api/v1/orgs/{org}/members`.

use askama::Template;
use axum::extract::State;
use plinth_store::MembershipStatus;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

use crate::auth::org::OrgMember;
use crate::console::chrome::Chrome;
use crate::console::error::{ConsoleError, PageResult};
use crate::console::graphics::Avatar;
use crate::console::home::role_name;
use crate::console::org::{OrgHeader, OwnerPage};
use crate::runtime::state::AppState;
use crate::service;

pub struct MemberRow {
    pub handle: String,
    pub display_name: String,
    pub avatar: Avatar,
    pub role: &'static str,
    pub status: &'static str,
    pub since: String,
    pub since_short: String,
}

#[derive(Template)]
#[template(path = "settings/members.html")]
struct MembersView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    members: Vec<MemberRow>,
}

/// `GET /orgs/{org}/settings/members`.
pub async fn show(State(state): State<AppState>, page: OwnerPage) -> PageResult {
    let fail = |e: crate::error::ApiError| ConsoleError::from_api(&e).with_chrome(&page.chrome);
    let member = OrgMember::try_from(page.owner.0.clone()).map_err(fail)?;
    let mut members = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let found = service::members::list(&state, &member, after.as_deref(), 100)
            .await
            .map_err(fail)?;
        members.extend(found.items.into_iter().map(|m| {
            MemberRow {
                avatar: Avatar::new(m.handle.as_str(), &m.display_name, m.avatar_url.as_deref()),
                handle: m.handle.to_string(),
                display_name: m.display_name,
                role: role_name(m.membership.role),
                status: match m.membership.status {
                    MembershipStatus::Active => "active",
                    MembershipStatus::Invited => "invited",
                },
                since: m.membership.created_at.format(&Rfc3339).unwrap_or_default(),
                since_short: m
                    .membership
                    .created_at
                    .format(format_description!("[year]-[month]-[day]"))
                    .unwrap_or_default(),
            }
        }));
        match found.next_after {
            Some(next) if members.len() < 10_000 => after = Some(next),
            _ => break,
        }
    }
    let view = MembersView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.owner),
        active: "members",
        members,
    };
    Ok(crate::console::ok(&page.chrome, &view))
}
