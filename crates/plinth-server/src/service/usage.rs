//! The usage report: every day of a range, totals, and each workspace's share.

use std::collections::BTreeMap;

use plinth_api::{UsageDay, UsageFigures, UsageReport, WorkspaceUsage};
use time::macros::format_description;
use time::{Date, Duration};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usage::{
    API_REQUESTS, AUDIT_EVENTS, DNS_QUERIES, MEMBERS, WORKSPACE_REQUESTS, WORKSPACES, day_of,
};

pub const DEFAULT_DAYS: i64 = 30;
pub const MAX_DAYS: i64 = 366;

fn parse_day(field: &str, value: &str) -> ApiResult<Date> {
    Date::parse(value, format_description!("[year]-[month]-[day]"))
        .map_err(|_| ApiError::validation(field, "must be a date as YYYY-MM-DD"))
}

/// Resolves `?from=&to=` against today (UTC).
pub fn range(today: Date, from: Option<&str>, to: Option<&str>) -> ApiResult<(Date, Date)> {
    let to = match to {
        Some(to) => parse_day("to", to)?,
        None => today,
    };
    let from = match from {
        Some(from) => parse_day("from", from)?,
        None => to - Duration::days(DEFAULT_DAYS - 1),
    };
    if from > to {
        return Err(ApiError::validation("from", "must not be after `to`"));
    }
    if (to - from).whole_days() + 1 > MAX_DAYS {
        return Err(ApiError::validation(
            "from",
            format!("the range may span at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

fn add(figures: &mut UsageFigures, metric: &str, value: i64) {
    match metric {
        API_REQUESTS => figures.api_requests += value,
        WORKSPACE_REQUESTS => figures.workspace_requests += value,
        DNS_QUERIES => figures.dns_queries += value,
        AUDIT_EVENTS => figures.audit_events += value,
        MEMBERS => figures.members = value,
        WORKSPACES => figures.workspaces = value,
        _ => {}
    }
}

/// Builds the report of `org_id`; `workspace_handles` names the live workspaces.
pub async fn report(
    state: &AppState,
    org_id: &str,
    from: Date,
    to: Date,
    workspace_handles: &BTreeMap<String, String>,
) -> ApiResult<UsageReport> {
    let day = |d: Date| day_of(d.midnight().assume_utc());
    let rows = state.store.usage(org_id, &day(from), &day(to)).await?;
    let mut daily: BTreeMap<String, UsageFigures> = BTreeMap::new();
    let mut d = from;
    while d <= to {
        daily.insert(day(d), UsageFigures::default());
        d = d.next_day().unwrap_or(d + Duration::days(1));
    }
    let mut workspaces: BTreeMap<String, WorkspaceUsage> = BTreeMap::new();
    for row in &rows {
        if let Some(figures) = daily.get_mut(&row.day) {
            // Org-wide figures live under workspace ""; per-workspace rows add up to them
            // only for the counters a workspace has (requests, DNS).
            if row.workspace_id.is_empty() {
                add(figures, &row.metric, row.value);
            }
        }
        if !row.workspace_id.is_empty() {
            let entry = workspaces
                .entry(row.workspace_id.clone())
                .or_insert_with(|| WorkspaceUsage {
                    workspace_id: row.workspace_id.clone(),
                    handle: workspace_handles.get(&row.workspace_id).cloned(),
                    workspace_requests: 0,
                    dns_queries: 0,
                });
            match row.metric.as_str() {
                WORKSPACE_REQUESTS => entry.workspace_requests += row.value,
                DNS_QUERIES => entry.dns_queries += row.value,
                _ => {}
            }
        }
    }
    let mut totals = UsageFigures::default();
    for figures in daily.values() {
        totals.api_requests += figures.api_requests;
        totals.workspace_requests += figures.workspace_requests;
        totals.dns_queries += figures.dns_queries;
        totals.audit_events += figures.audit_events;
    }
    if let Some(latest) = daily
        .values()
        .rev()
        .find(|f| f.members > 0 || f.workspaces > 0)
    {
        totals.members = latest.members;
        totals.workspaces = latest.workspaces;
    }
    Ok(UsageReport {
        from: day(from),
        to: day(to),
        totals,
        daily: daily
            .into_iter()
            .map(|(date, figures)| UsageDay { date, figures })
            .collect(),
        workspaces: workspaces.into_values().collect(),
    })
}

/// The daily rows as CSV, one line a day.
pub fn to_csv(report: &UsageReport) -> String {
    let mut out = String::from(
        "date,api_requests,workspace_requests,dns_queries,members,workspaces,audit_events\n",
    );
    for day in &report.daily {
        let f = &day.figures;
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            day.date,
            f.api_requests,
            f.workspace_requests,
            f.dns_queries,
            f.members,
            f.workspaces,
            f.audit_events
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ranges() {
        let today = date!(2026 - 11 - 28);
        assert_eq!(
            range(today, None, None).unwrap(),
            (date!(2026 - 10 - 30), today)
        );
        assert_eq!(
            range(today, Some("2026-01-01"), Some("2026-01-01")).unwrap(),
            (date!(2026 - 01 - 01), date!(2026 - 01 - 01))
        );
        assert!(range(today, Some("2026-01-02"), Some("2026-01-01")).is_err());
        assert!(range(today, Some("2025-01-01"), Some("2026-01-02")).is_err());
        assert!(range(today, Some("2025-01-02"), Some("2026-01-02")).is_ok());
        for bad in ["2026-13-01", "2026-02-30", "yesterday", "2026-1-1", ""] {
            assert!(range(today, Some(bad), None).is_err(), "{bad:?}");
        }
    }
}
