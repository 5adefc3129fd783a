use axum::extract::State;
use axum::http::StatusCode;
use plinth_api::{DeleteOrgQuery, Problem};

use crate::api::extract::{ApiQuery, ClientMeta};
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service;

/// Delete the org (owners only): `confirm` must be its handle. It disappears at once,
/// with its workspaces' DNS names; an administrator can restore it during the grace
/// period. Its audit log is kept, ending with `org.delete`.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}", tag = "orgs",
    operation_id = "orgs_delete",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle"), DeleteOrgQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`confirm` missing or not the handle", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    meta: ClientMeta,
    owner: OrgOwner,
    ApiQuery(query): ApiQuery<DeleteOrgQuery>,
) -> ApiResult<StatusCode> {
    service::orgs::delete(&state, &meta, &owner, query.confirm.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
