//! Usage metering: counted in memory on the request path, written in batches.
//!
//! `count` is a hash-map increment under a mutex: no I/O, no allocation once a key exists
//! (the day is a number until the flush formats it). What is counted per workspace on the
//! DNS and workspace-host paths skips the map: [`UsageMeter::count_in`] adds to a
//! [`Tally`] inside the directory entry the request already found, an atomic add, and
//! the entry joins a list of tallies to flush when its count leaves zero. At 1,000,000
//! names nearly every random DNS query was a new map key (docs/BENCHMARKS.md).
//! `flush` swaps the map out and upserts it in one transaction, every
//! [`Settings::flush_every`](crate::runtime::config::Settings::flush_every) (10 s) and at shutdown.
//! If a flush fails, its counts are put back and retried next time. A `kill -9` loses at
//! most what was counted since the last flush.
//!
//! `members` and `workspaces` are not counted here: they are daily snapshots, read from
//! the tables themselves by [`crate::usage::tasks::snapshot_usage`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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

/// Counts by slot, then by [`owner_key`].
type Counts = HashMap<Slot, HashMap<String, i64>>;

/// A count of one metric kept inside what it counts, for one UTC day at a time: the day's
/// Julian number in the high bits, the count in the low [`TALLY_COUNT_BITS`]. Zero means
/// nothing counted since the last flush.
#[derive(Debug, Default)]
pub struct Tally(AtomicU64);

const TALLY_COUNT_BITS: u32 = 40;
const TALLY_COUNT_MASK: u64 = (1 << TALLY_COUNT_BITS) - 1;

/// What [`Tally::add`] did.
#[derive(Debug, PartialEq, Eq)]
enum Added {
    /// The first count since the last flush: the tally must be listed for the next one.
    First,
    More,
    /// It holds another day's counts (the flush has not run since midnight, or the clock
    /// moved back): this count goes to the map instead.
    OtherDay,
}

impl Tally {
    fn add(&self, day: i32) -> Added {
        let day_bits = (day as u32 as u64) << TALLY_COUNT_BITS;
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let (next, added) = if current == 0 {
                (day_bits | 1, Added::First)
            } else if current & !TALLY_COUNT_MASK == day_bits
                && current & TALLY_COUNT_MASK < TALLY_COUNT_MASK
            {
                (current + 1, Added::More)
            } else {
                return Added::OtherDay;
            };
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return added,
                Err(now) => current = now,
            }
        }
    }

    /// The day and count so far, leaving zero.
    fn take(&self) -> Option<(i32, i64)> {
        match self.0.swap(0, Ordering::Relaxed) {
            0 => None,
            v => Some((
                (v >> TALLY_COUNT_BITS) as u32 as i32,
                (v & TALLY_COUNT_MASK) as i64,
            )),
        }
    }

    fn peek(&self) -> i64 {
        (self.0.load(Ordering::Relaxed) & TALLY_COUNT_MASK) as i64
    }
}

/// Something that carries [`Tally`]s for its org (and workspace).
pub trait Tallied: Send + Sync + 'static {
    fn org_id(&self) -> &str;
    fn workspace_id(&self) -> Option<&str>;
    /// Its tally of `metric`, if it keeps one.
    fn tally(&self, metric: &'static str) -> Option<&Tally>;
}

#[derive(Default)]
pub struct UsageMeter {
    counts: Mutex<Counts>,
    /// Tallies counted since the last flush, each listed once.
    tallied: Mutex<Vec<(Arc<dyn Tallied>, &'static str)>>,
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

    /// [`UsageMeter::count`] for `owner`'s own tally of `metric`: an atomic add.
    pub fn count_in<T: Tallied>(&self, owner: &Arc<T>, metric: &'static str, at: OffsetDateTime) {
        let day = at.to_offset(time::UtcOffset::UTC).date().to_julian_day();
        let Some(tally) = owner.tally(metric) else {
            return self.count(owner.org_id(), owner.workspace_id(), metric, at);
        };
        match tally.add(day) {
            Added::More => {}
            Added::First => {
                let owner: Arc<dyn Tallied> = owner.clone();
                self.tallied
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((owner, metric));
            }
            Added::OtherDay => self.count(owner.org_id(), owner.workspace_id(), metric, at),
        }
    }

    /// Everything counted so far, in the map's shape, leaving nothing.
    fn take(&self) -> Counts {
        // The list first: a tally that leaves zero after its take below is listed anew.
        let tallied = std::mem::take(&mut *self.tallied.lock().unwrap_or_else(|e| e.into_inner()));
        let mut taken = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        let mut key = String::new();
        for (owner, metric) in tallied {
            let Some((day, n)) = owner.tally(metric).and_then(Tally::take) else {
                continue;
            };
            owner_key(&mut key, owner.org_id(), owner.workspace_id());
            let owners = taken.entry(Slot { day, metric }).or_default();
            match owners.get_mut(key.as_str()) {
                Some(count) => *count += n,
                None => {
                    owners.insert(key.clone(), n);
                }
            }
        }
        taken
    }

    /// Writes everything counted so far; on failure keeps it for the next flush.
    pub async fn flush(&self, store: &Store) -> Result<usize, plinth_store::StoreError> {
        let taken = self.take();
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
        let tallied: i64 = self
            .tallied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(owner, metric)| owner.tally(metric).map(Tally::peek))
            .sum();
        let counted: i64 = self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .flat_map(HashMap::values)
            .sum();
        tallied + counted
    }
}

/// The counts as the store files them.
fn entries(counts: &Counts) -> impl Iterator<Item = (UsageKey, i64)> + '_ {
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

    /// A workspace with its own tally of DNS queries.
    #[derive(Default)]
    struct Workspace {
        dns: Tally,
    }

    impl Tallied for Workspace {
        fn org_id(&self) -> &str {
            "o"
        }
        fn workspace_id(&self) -> Option<&str> {
            Some("w")
        }
        fn tally(&self, metric: &'static str) -> Option<&Tally> {
            (metric == DNS_QUERIES).then_some(&self.dns)
        }
    }

    #[test]
    fn tallies_count_in_place_by_day_and_are_taken_once() {
        let meter = UsageMeter::default();
        let ws = Arc::new(Workspace::default());
        let late = time::macros::datetime!(2026-11-28 23:59:59 UTC);
        let early = time::macros::datetime!(2026-11-29 00:00:01 UTC);
        meter.count_in(&ws, DNS_QUERIES, late);
        meter.count_in(&ws, DNS_QUERIES, late);
        // Listed once, however often it counts.
        assert_eq!(meter.tallied.lock().unwrap().len(), 1);
        // After midnight, before a flush: the next day's count goes to the map.
        meter.count_in(&ws, DNS_QUERIES, early);
        // A metric the owner keeps no tally of goes to the map as well.
        meter.count_in(&ws, WORKSPACE_REQUESTS, early);
        assert_eq!(meter.pending(), 4);

        let counts: HashMap<UsageKey, i64> = entries(&meter.take()).collect();
        let key = |day: &str, metric| UsageKey {
            org_id: "o".into(),
            workspace_id: "w".into(),
            day: day.into(),
            metric,
        };
        assert_eq!(counts.len(), 3, "{counts:?}");
        assert_eq!(counts[&key("2026-11-28", DNS_QUERIES)], 2);
        assert_eq!(counts[&key("2026-11-29", DNS_QUERIES)], 1);
        assert_eq!(counts[&key("2026-11-29", WORKSPACE_REQUESTS)], 1);
        assert_eq!(meter.pending(), 0);
        assert!(meter.take().is_empty(), "taken once");

        // Emptied by the take, the tally starts the new day and is listed again.
        meter.count_in(&ws, DNS_QUERIES, early);
        assert_eq!(meter.tallied.lock().unwrap().len(), 1);
        let counts: HashMap<UsageKey, i64> = entries(&meter.take()).collect();
        assert_eq!(counts[&key("2026-11-29", DNS_QUERIES)], 1);
    }
}
