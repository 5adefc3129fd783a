use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|csv`; default the last 30 days (UTC),
/// today included; at most 366 days.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// The first day, `YYYY-MM-DD`.
    #[param(schema_with = crate::limits::day)]
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD`.
    #[param(schema_with = crate::limits::day)]
    pub to: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` also gives CSV.
    #[param(schema_with = usage_format)]
    pub format: Option<String>,
}

fn usage_format() -> utoipa::openapi::Object {
    crate::limits::one_of(&["json", "csv"], "`json` (default) or `csv`")
}

/// The six figures. Counters (`api_requests`, `workspace_requests`, `dns_queries`,
/// `audit_events`) count events; `members` and `workspaces` are daily snapshots, and
/// their total is the latest day's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UsageFigures {
    pub api_requests: i64,
    pub workspace_requests: i64,
    pub dns_queries: i64,
    pub members: i64,
    pub workspaces: i64,
    pub audit_events: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageDay {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    #[serde(flatten)]
    pub figures: UsageFigures,
}

/// One workspace's share over the range. A deleted workspace keeps its past usage, with
/// `handle` null.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceUsage {
    pub workspace_id: String,
    pub handle: Option<String>,
    pub workspace_requests: i64,
    pub dns_queries: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UsageReport {
    pub from: String,
    pub to: String,
    pub totals: UsageFigures,
    /// Every day of the range, zeros included, oldest first.
    pub daily: Vec<UsageDay>,
    pub workspaces: Vec<WorkspaceUsage>,
}
