//! Usage: the report of `service::usage::show` (as `GET /api/v1/orgs/{org}/usage`)
//! drawn as one chart per metric, with totals and the per-workspace table; its CSV
//! download is the API's CSV (`service::usage::to_csv`).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::IntoResponse;
use plinth_api::{UsageQuery, UsageReport};
use serde::Deserialize;

use crate::console::chrome::Chrome;
use crate::console::error::{ConsoleError, PageResult};
use crate::console::form::{Field, form_error};
use crate::console::graphics::{CHART_HEIGHT, CHART_WIDTH, Chart, count};
use crate::console::org::{OrgHeader, OwnerPage};
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;

#[derive(Deserialize, Default)]
pub struct RangeQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl RangeQuery {
    fn usage_query(&self) -> UsageQuery {
        let given = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        UsageQuery {
            from: given(&self.from),
            to: given(&self.to),
            format: None,
        }
    }
}

pub struct WorkspaceRow {
    pub name: String,
    pub workspace_requests: String,
    pub dns_queries: String,
}

#[derive(Template)]
#[template(path = "settings/usage.html")]
struct UsageView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    from: String,
    to: String,
    from_field: Field,
    to_field: Field,
    error: Option<String>,
    csv_link: String,
    charts: Vec<Chart>,
    workspaces: Vec<WorkspaceRow>,
    width: f64,
    height: f64,
}

fn charts(report: &UsageReport) -> Vec<Chart> {
    type Pick = fn(&plinth_api::UsageFigures) -> i64;
    let metrics: [(&'static str, &'static str, Pick); 6] = [
        ("API requests", "total", |f| f.api_requests),
        ("Workspace requests", "total", |f| f.workspace_requests),
        ("DNS queries", "total", |f| f.dns_queries),
        ("Members", "latest", |f| f.members),
        ("Workspaces", "latest", |f| f.workspaces),
        ("Audit events", "total", |f| f.audit_events),
    ];
    metrics
        .iter()
        .map(|(title, total_label, pick)| {
            let days: Vec<(String, i64)> = report
                .daily
                .iter()
                .map(|d| (d.date.clone(), pick(&d.figures)))
                .collect();
            Chart::new(title, pick(&report.totals), total_label, &days)
        })
        .collect()
}

/// `GET /orgs/{org}/settings/usage?from=&to=`.
pub async fn show(State(state): State<AppState>, page: OwnerPage, uri: Uri) -> PageResult {
    let range: RangeQuery = crate::console::form::query(&uri);
    let (report, error) =
        match service::usage::show(&state, &page.owner, &range.usage_query()).await {
            Ok(report) => (report, None),
            Err(err) if err.status.is_client_error() => {
                // Show the default range under the refused one's error.
                let report = service::usage::show(&state, &page.owner, &UsageQuery::default())
                    .await
                    .map_err(|e| ConsoleError::from_api(&e).with_chrome(&page.chrome))?;
                (report, Some(err))
            }
            Err(err) => return Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
        };
    let fields = ["from", "to"];
    let error_ref: Option<&ApiError> = error.as_ref();
    let kept = |given: &str, shown: &str| {
        if error_ref.is_some() {
            given.to_owned()
        } else {
            shown.to_owned()
        }
    };
    let csv_query = form_urlencoded::Serializer::new(String::new())
        .append_pair("from", &report.from)
        .append_pair("to", &report.to)
        .finish();
    let view = UsageView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.owner),
        active: "usage",
        from_field: Field::new("from", "From")
            .kind("date")
            .value(kept(&range.from, &report.from))
            .error_from(error_ref, &["from"]),
        to_field: Field::new("to", "To")
            .kind("date")
            .value(kept(&range.to, &report.to))
            .error_from(error_ref, &["to"]),
        error: error_ref.and_then(|e| form_error(e, &fields)),
        csv_link: format!(
            "/orgs/{}/settings/usage/download?{csv_query}",
            page.owner.org.handle
        ),
        charts: charts(&report),
        workspaces: report
            .workspaces
            .iter()
            .map(|w| WorkspaceRow {
                name: w
                    .handle
                    .clone()
                    .unwrap_or_else(|| format!("(deleted workspace {})", w.workspace_id)),
                workspace_requests: count(w.workspace_requests),
                dns_queries: count(w.dns_queries),
            })
            .collect(),
        from: report.from.clone(),
        to: report.to.clone(),
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
    };
    let status = error_ref.map_or(StatusCode::OK, |e| e.status);
    Ok(crate::console::render(status, &page.chrome, &view))
}

/// `GET /orgs/{org}/settings/usage/download?from=&to=`: the API's CSV file.
pub async fn download(State(state): State<AppState>, page: OwnerPage, uri: Uri) -> PageResult {
    let range: RangeQuery = crate::console::form::query(&uri);
    let report = service::usage::show(&state, &page.owner, &range.usage_query())
        .await
        .map_err(|e| ConsoleError::from_api(&e).with_chrome(&page.chrome))?;
    let disposition = format!(
        "attachment; filename=\"{}-usage-{}-{}.csv\"",
        page.owner.org.handle, report.from, report.to
    );
    let mut response = service::usage::to_csv(&report).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
