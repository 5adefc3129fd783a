use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use plinth_api::{AuditExportParams, AuditQuery, Problem};
use plinth_core::OrgPermission;
use plinth_store::org_chain;

use crate::api::extract::ApiQuery;
use crate::auth::org::OrgOwner;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;
use crate::service::audit::{ExportFormat, export_body, store_query};

/// Download the org's audit log (with the same filters as the list, newest first) as
/// CSV or JSON Lines. Streamed: any size, constant server memory. Without filters the
/// answer says how many entries are coming (`X-Total-Count`), so a client can draw a
/// progress bar with an end.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/audit-log/export", tag = "audit",
    operation_id = "export_org_audit_log",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle"), AuditExportParams),
    responses(
        (status = 200, description = "The entries, as a file: CSV (`format=csv`, the \
            default) with a header line, or JSON Lines (`format=jsonl`), one `AuditEntry` \
            object a line",
            content(
                (String = "text/csv"),
                (String = "application/jsonl"),
            ),
            headers(
                ("X-Total-Count" = u64, description = "Entries in the file (unfiltered exports only)"),
                ("Content-Disposition" = String, description = "`attachment; filename=\"{org}-audit-log-{date}.{csv|jsonl}\"`"),
            )),
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
    let chain = org_chain(&owner.org.id);
    let unfiltered = [
        &filters.action,
        &filters.actor,
        &filters.target,
        &filters.since,
        &filters.until,
    ]
    .iter()
    .all(|f| f.is_none());
    let total = if unfiltered {
        Some(state.store.audit_kept_entries(&chain).await?)
    } else {
        None
    };
    let query = store_query(chain, &filters)?;
    let today = state.now().date();
    let file_name = format!(
        "{}-audit-log-{today}.{}",
        owner.org.handle,
        format.extension()
    );
    let mut response = (
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
        .into_response();
    if let Some(total) = total {
        response
            .headers_mut()
            .insert("x-total-count", header::HeaderValue::from(total));
    }
    Ok(response)
}
