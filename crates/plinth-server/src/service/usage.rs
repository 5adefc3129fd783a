//! The usage report: every day of a range, totals, and each workspace's share.

use std::collections::BTreeMap;

use plinth_api::{UsageDay, UsageFigures, UsageQuery, UsageReport, WorkspaceUsage};
use plinth_core::OrgPermission;
use time::macros::format_description;
use time::{Date, Duration};

use crate::auth::org::OrgOwner;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;
use crate::usage::meter::{
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
        None => to
            .checked_sub(Duration::days(DEFAULT_DAYS - 1))
            .ok_or_else(|| ApiError::validation("to", "is too early a date"))?,
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

/// Adds one stored figure to a day: counters add up (the org-wide row and every
/// workspace's rows alike, as each event is counted once, under one of them); snapshots
/// are org-wide and replace.
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

fn is_snapshot(metric: &str) -> bool {
    metric == MEMBERS || metric == WORKSPACES
}

/// The usage of the owner's org over `?from=&to=` (default: the last 30 days, today
/// included, by the server's UTC clock).
pub async fn show(
    state: &AppState,
    owner: &OrgOwner,
    query: &UsageQuery,
) -> ApiResult<UsageReport> {
    owner.require(OrgPermission::Inspect)?;
    let (from, to) = range(
        state.now().date(),
        query.from.as_deref(),
        query.to.as_deref(),
    )?;
    let handles: BTreeMap<String, String> = state
        .store
        .workspace_handles(&owner.org.id)
        .await?
        .into_iter()
        .collect();
    report(state, &owner.org.id, from, to, &handles).await
}

/// Builds the report of `org_id`; `workspace_handles` names the live workspaces (id →
/// handle), which are all listed, zeros included.
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
    let mut d = Some(from);
    while let Some(date) = d.filter(|date| *date <= to) {
        daily.insert(day(date), UsageFigures::default());
        d = date.next_day();
    }
    let mut workspaces: BTreeMap<String, WorkspaceUsage> = workspace_handles
        .iter()
        .map(|(id, handle)| {
            let usage = WorkspaceUsage {
                workspace_id: id.clone(),
                handle: Some(handle.clone()),
                workspace_requests: 0,
                dns_queries: 0,
            };
            (id.clone(), usage)
        })
        .collect();
    // Members and workspaces are levels, stored on the days they change (the store
    // adds the last change before `from`): each day up to today has the latest change on
    // or before it. Days after today are not known yet and read 0.
    let mut changes = Vec::new();
    for row in &rows {
        if is_snapshot(&row.metric) {
            if row.workspace_id.is_empty() {
                changes.push(row);
            }
            continue;
        }
        let Some(figures) = daily.get_mut(&row.day) else {
            continue;
        };
        add(figures, &row.metric, row.value);
        if !row.workspace_id.is_empty() {
            let entry = workspaces
                .entry(row.workspace_id.clone())
                .or_insert_with(|| WorkspaceUsage {
                    workspace_id: row.workspace_id.clone(),
                    handle: None,
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
    changes.sort_by(|a, b| a.day.cmp(&b.day));
    let today = day(state.now().date());
    let mut level = UsageFigures::default();
    let mut next = changes.iter().peekable();
    let mut last_known: Option<&UsageFigures> = None;
    for (date, figures) in daily.iter_mut().take_while(|(date, _)| **date <= today) {
        while let Some(change) = next.next_if(|change| change.day <= *date) {
            add(&mut level, &change.metric, change.value);
        }
        figures.members = level.members;
        figures.workspaces = level.workspaces;
        last_known = Some(figures);
    }
    let (members, workspace_count) = last_known.map_or((0, 0), |f| (f.members, f.workspaces));
    let mut totals = UsageFigures::default();
    for figures in daily.values() {
        totals.api_requests += figures.api_requests;
        totals.workspace_requests += figures.workspace_requests;
        totals.dns_queries += figures.dns_queries;
        totals.audit_events += figures.audit_events;
    }
    // Levels do not add up over days: the totals carry the last known day's.
    totals.members = members;
    totals.workspaces = workspace_count;
    // Live workspaces by handle, then deleted ones (no handle) by id.
    let mut workspaces: Vec<WorkspaceUsage> = workspaces.into_values().collect();
    workspaces.sort_by(|a, b| {
        (a.handle.is_none(), &a.handle, &a.workspace_id).cmp(&(
            b.handle.is_none(),
            &b.handle,
            &b.workspace_id,
        ))
    });
    Ok(UsageReport {
        from: day(from),
        to: day(to),
        totals,
        daily: daily
            .into_iter()
            .map(|(date, figures)| UsageDay { date, figures })
            .collect(),
        workspaces,
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
            assert!(range(today, None, Some(bad)).is_err(), "{bad:?}");
        }
        // The calendar's edges answer 400, never a panic.
        assert!(
            range(
                today,
                None,
                Some(&day_of(Date::MIN.midnight().assume_utc()))
            )
            .is_err()
        );
        let last = day_of(Date::MAX.midnight().assume_utc());
        assert!(range(today, Some(&last), Some(&last)).is_ok());
    }
}
