use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use plinth_api::{AuditQuery, Problem};
use plinth_core::OrgPermission;
use plinth_store::org_chain;

use crate::api::extract::ApiQuery;
use crate::auth::org::OrgOwner;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;
use crate::service::audit::{ExportFormat, export_body, store_query};

/// Download the org's audit log (with the same filters as the list, newest first) as
/// CSV or JSON Lines. Streamed: any size, constant server memory.
#[utoipa::path(get, path = "/orgs/{org}/audit-log/export", tag = "audit",
    operation_id = "export_org_audit_log",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle"), AuditQuery),
    responses(
        (status = 200, description = "The entries, as a file", content_type = "text/csv"),
        (status = 400, description = "Bad filter or format", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org", body = Problem),
    ))]
pub async fn export_org_audit_log(
    State(state): State<AppState>,
    owner: OrgOwner,
    ApiQuery(filters): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    owner.require(OrgPermission::Inspect)?;
    if filters.cursor.is_some() || filters.limit.is_some() {
        return Err(ApiError::validation(
            if filters.cursor.is_some() {
                "cursor"
            } else {
                "limit"
            },
            "the export has no pages: it sends every matching entry",
        ));
    }
    let format = ExportFormat::parse(filters.format.as_deref())?;
    let query = store_query(org_chain(&owner.org.id), &filters)?;
    let today = state.now().date();
    let file_name = format!(
        "{}-audit-log-{today}.{}",
        owner.org.handle,
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        export_body(&state, query, format),
    )
        .into_response())
}
