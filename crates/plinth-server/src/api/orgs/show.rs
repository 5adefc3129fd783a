use axum::Json;
use plinth_api::{Org, Problem};

use crate::api::views;
use crate::auth::org::OrgMember;

/// An org's profile, with the caller's role. Answered from memory on a warm request.
#[utoipa::path(get, path = "/api/v1/orgs/{org}", tag = "orgs",
    operation_id = "orgs_show",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle")),
    responses(
        (status = 200, description = "The org", body = Org),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
    ))]
pub async fn show(member: OrgMember) -> Json<Org> {
    Json(views::org(&member.org, member.role()))
}
