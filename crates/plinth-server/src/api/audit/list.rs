use axum::Json;
use axum::extract::State;
use plinth_api::{AuditEntry, AuditQuery, Page, Problem};
use plinth_core::OrgPermission;
use plinth_store::{org_chain, user_chain};

use crate::api::extract::ApiQuery;
use crate::api::views;
use crate::auth::Actor;
use crate::auth::org::OrgOwner;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;
use crate::service::audit::{encode_cursor, page, store_query};

/// The list pages; `format` is the export's (`…/audit-log/export`).
fn refuse_format(filters: &AuditQuery) -> ApiResult<()> {
    match filters.format {
        Some(_) => Err(ApiError::validation(
            "format",
            "only the export (`/orgs/{org}/audit-log/export`) takes a format",
        )),
        None => Ok(()),
    }
}

fn answer(found: plinth_store::AuditPage) -> Json<Page<AuditEntry>> {
    Json(Page {
        items: found.items.iter().map(views::audit_entry).collect(),
        next_cursor: found.next_before.map(encode_cursor),
    })
}

/// The org's audit log, newest first, filtered. Owners only.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/audit-log", tag = "audit",
    operation_id = "org_audit_log",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle"), AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<AuditEntry>),
        (status = 400, description = "Bad filter, limit or cursor", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org", body = Problem),
    ))]
pub async fn org_audit_log(
    State(state): State<AppState>,
    owner: OrgOwner,
    ApiQuery(filters): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    owner.require(OrgPermission::Inspect)?;
    refuse_format(&filters)?;
    let query = store_query(org_chain(&owner.org.id), &filters)?;
    Ok(answer(page(&state, &query).await?))
}

/// The caller's own activity: logins, tokens, profile changes. Newest first, filtered.
#[utoipa::path(get, path = "/api/v1/user/audit-log", tag = "audit",
    operation_id = "user_audit_log",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = Page<AuditEntry>),
        (status = 400, description = "Bad filter, limit or cursor", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
    ))]
pub async fn user_audit_log(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(filters): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    refuse_format(&filters)?;
    let query = store_query(user_chain(&actor.user.id), &filters)?;
    Ok(answer(page(&state, &query).await?))
}
