use axum::Json;
use axum::extract::State;
use plinth_api::{AuditVerification, Problem, VerifyQuery};
use plinth_core::OrgPermission;
use plinth_store::org_chain;

use crate::api::extract::ApiQuery;
use crate::api::views;
use crate::auth::org::OrgOwner;
use crate::error::ApiResult;
use crate::runtime::state::AppState;
use crate::service::audit::verify;

/// Check the org's log: every entry must link to the one before it and match its hash.
/// Reports the first broken entry, the head hash and the count. With `?head=` (a head
/// saved earlier), also proves that head is still in the chain, which detects removed
/// newest entries. Owners only.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/audit-log/verify", tag = "audit",
    operation_id = "verify_org_audit_log",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle"), VerifyQuery),
    responses(
        (status = 200, description = "The verdict", body = AuditVerification),
        (status = 400, description = "Not a head hash", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org", body = Problem),
    ))]
pub async fn verify_org_audit_log(
    State(state): State<AppState>,
    owner: OrgOwner,
    ApiQuery(query): ApiQuery<VerifyQuery>,
) -> ApiResult<Json<AuditVerification>> {
    owner.require(OrgPermission::Inspect)?;
    let verdict = verify(&state, &org_chain(&owner.org.id), query.head.as_deref()).await?;
    Ok(Json(views::audit_verification(&verdict)))
}
