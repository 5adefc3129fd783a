use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use plinth_api::{Problem, UsageQuery, UsageReport};

use crate::api::extract::ApiQuery;
use crate::auth::org::OrgOwner;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;
use crate::service;

enum Format {
    Json,
    Csv,
}

/// `?format=` wins over `Accept`; without either, JSON.
fn format(query: &UsageQuery, headers: &HeaderMap) -> ApiResult<Format> {
    match query.format.as_deref() {
        Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(_) => Err(ApiError::validation("format", "must be `json` or `csv`")),
        None => {
            let wants_csv = headers
                .get_all(header::ACCEPT)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|range| {
                    let mut parts = range.split(';').map(str::trim);
                    let mime = parts.next().unwrap_or_default();
                    // `q=0` means "not this one".
                    let refused = parts.any(|p| {
                        p.strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                            .is_some_and(|q| q <= 0.0)
                    });
                    mime.eq_ignore_ascii_case("text/csv") && !refused
                });
            Ok(if wants_csv { Format::Csv } else { Format::Json })
        }
    }
}

/// The org's usage per day and per workspace (owners only). Default range: the last 30
/// days, today (UTC) included; at most 366 days. `?format=csv` (or `Accept: text/csv`)
/// downloads the daily rows as CSV.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/usage", tag = "usage",
    operation_id = "get_org_usage",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "Org handle"), UsageQuery),
    responses(
        (status = 200, description = "The usage report; with `format=csv` (or `Accept: \
            text/csv`) its daily rows as CSV, with the header line \
            `date,api_requests,workspace_requests,dns_queries,members,workspaces,audit_events`",
            content(
                (UsageReport = "application/json"),
                (String = "text/csv"),
            )),
        (status = 400, description = "Invalid date, range or format", body = Problem),
        (status = 401, description = "Not authenticated", body = Problem),
        (status = 403, description = "Not an owner", body = Problem),
        (status = 404, description = "No such org, or not a member", body = Problem),
    ))]
pub async fn show(
    State(state): State<AppState>,
    owner: OrgOwner,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<UsageQuery>,
) -> ApiResult<Response> {
    let format = format(&query, &headers)?;
    let report = service::usage::show(&state, &owner, &query).await?;
    Ok(match format {
        Format::Json => Json(report).into_response(),
        Format::Csv => {
            let disposition = format!(
                "attachment; filename=\"{}-usage-{}-{}.csv\"",
                owner.org.handle, report.from, report.to
            );
            let mut response = service::usage::to_csv(&report).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
    })
}
