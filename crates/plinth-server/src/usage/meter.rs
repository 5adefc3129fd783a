//! Usage metering: counted in memory on the request path, written in batches.
//!
//! `count` is a hash-map increment under a mutex: no I/O, no allocation once a key exists
//! (the day is a number until the flush formats it).
//! `flush` swaps the map out and upserts it in one transaction, every
//! [`Settings::flush_every`](crate::runtime::config::Settings::flush_every) (10 s) and at shutdown.
//! If a flush fails, its counts are put back and retried next time. A `kill -9` loses at
//! most what was counted since the last flush.
//!
//! `members` and `workspaces` are not counted here: they are daily snapshots, read from
//! the tables themselves by [`crate::usage::tasks::snapshot_usage`].

use std::collections::HashMap;
use std::sync::Mutex;

use plinth_store::{Store, UsageKey, UsageKind};
use time::OffsetDateTime;
use time::macros::format_description;

/// Metric names, as stored and as answered by the usage API.
pub const API_REQUESTS: &str = "api_requests";
pub const WORKSPACE_REQUESTS: &str = "workspace_requests";
pub const DNS_QUERIES: &str = "dns_queries";
pub const MEMBERS: &str = "members";
pub const WORKSPACES: &str = "workspaces";
pub const AUDIT_EVENTS: &str = "audit_events";

/// Every metric, in the order reports list them.
pub const METRICS: [&str; 6] = [
    API_REQUESTS,
    WORKSPACE_REQUESTS,
    DNS_QUERIES,
    MEMBERS,
    WORKSPACES,
    AUDIT_EVENTS,
];

pub fn day_of(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .date()
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// What one count is filed under, apart from the org and workspace: copied, never
/// allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Slot {
    /// The UTC day, as a Julian day number (formatted only when written).
    day: i32,
    metric: &'static str,
}

/// `{org_id} {workspace_id}`: ids hold no space.
fn owner_key(buf: &mut String, org_id: &str, workspace_id: Option<&str>) {
    buf.clear();
    buf.push_str(org_id);
    buf.push(' ');
    buf.push_str(workspace_id.unwrap_or_default());
}

thread_local! {
    /// The key being looked up, built in place so that a hit allocates nothing.
    static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

#[derive(Default)]
pub struct UsageMeter {
    counts: Mutex<HashMap<Slot, HashMap<String, i64>>>,
}

impl UsageMeter {
    /// Counts `n` events of `metric` for an org (and workspace) on the UTC day of `at`.
    /// On every request path (API, workspace hosts, DNS): no allocation once the key is
    /// there, one short lock.
    pub fn count(
        &self,
        org_id: &str,
        workspace_id: Option<&str>,
        metric: &'static str,
        at: OffsetDateTime,
    ) {
        let slot = Slot {
            day: at.to_offset(time::UtcOffset::UTC).date().to_julian_day(),
            metric,
        };
        KEY.with(|key| {
            let mut key = key.borrow_mut();
            owner_key(&mut key, org_id, workspace_id);
            let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
            let owners = counts.entry(slot).or_default();
            match owners.get_mut(key.as_str()) {
                Some(n) => *n += 1,
                None => {
                    owners.insert(key.clone(), 1);
                }
            }
        });
    }

    /// Writes everything counted so far; on failure keeps it for the next flush.
    pub async fn flush(&self, store: &Store) -> Result<usize, plinth_store::StoreError> {
        let taken = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        if taken.is_empty() {
            return Ok(0);
        }
        let batch: Vec<_> = entries(&taken)
            .map(|(key, n)| (key, UsageKind::Counter, n))
            .collect();
        match store.record_usage(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(err) => {
                let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
                for (slot, owners) in taken {
                    let kept = counts.entry(slot).or_default();
                    for (owner, n) in owners {
                        *kept.entry(owner).or_insert(0) += n;
                    }
                }
                Err(err)
            }
        }
    }

    /// Counts not yet written (for tests and metrics).
    pub fn pending(&self) -> i64 {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .flat_map(HashMap::values)
            .sum()
    }
}

/// The counts as the store files them.
fn entries(
    counts: &HashMap<Slot, HashMap<String, i64>>,
) -> impl Iterator<Item = (UsageKey, i64)> + '_ {
    counts.iter().flat_map(|(slot, owners)| {
        let day = time::Date::from_julian_day(slot.day)
            .map(|d| day_of(d.midnight().assume_utc()))
            .unwrap_or_default();
        owners.iter().map(move |(owner, n)| {
            let (org_id, workspace_id) = owner.split_once(' ').unwrap_or((owner, ""));
            (
                UsageKey {
                    org_id: org_id.to_owned(),
                    workspace_id: workspace_id.to_owned(),
                    day: day.clone(),
                    metric: slot.metric,
                },
                *n,
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_utc_day() {
        let meter = UsageMeter::default();
        let late = time::macros::datetime!(2026-11-28 23:59:59.999 UTC);
        let early = time::macros::datetime!(2026-11-29 00:00:00 UTC);
        meter.count("o", None, API_REQUESTS, late);
        meter.count("o", None, API_REQUESTS, late);
        meter.count("o", None, API_REQUESTS, early);
        meter.count("o", Some("w"), WORKSPACE_REQUESTS, early);
        let counts: HashMap<UsageKey, i64> = entries(&meter.counts.lock().unwrap()).collect();
        assert_eq!(counts.len(), 3);
        assert_eq!(meter.pending(), 4);
        let key = |day: &str| UsageKey {
            org_id: "o".into(),
            workspace_id: String::new(),
            day: day.into(),
            metric: API_REQUESTS,
        };
        assert_eq!(counts[&key("2026-11-28")], 2);
        assert_eq!(counts[&key("2026-11-29")], 1);
        let workspace = UsageKey {
            org_id: "o".into(),
            workspace_id: "w".into(),
            day: "2026-11-29".into(),
            metric: WORKSPACE_REQUESTS,
        };
        assert_eq!(counts[&workspace], 1);
        // A non-UTC instant counts on its UTC day.
        drop(counts);
        let plus2 = time::macros::datetime!(2026-11-30 01:00 +02:00);
        assert_eq!(day_of(plus2), "2026-11-29");
    }
}
