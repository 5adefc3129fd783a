//! The org's settings, one module per item of the seed's left-hand menu: Profile,
//! Members, Usage, Audit Log, Advanced. Owners only (the API's `OrgOwner`).

pub mod advanced;
pub mod audit_log;
pub mod members;
pub mod profile;
pub mod usage;

use axum::response::Response;

use super::org::OwnerPage;
use super::session::see_other;

/// `GET /orgs/{org}/settings`: the first item, Profile.
pub async fn index(page: OwnerPage) -> Response {
    see_other(&format!("/orgs/{}/settings/profile", page.owner.org.handle))
}
