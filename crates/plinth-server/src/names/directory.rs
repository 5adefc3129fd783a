//! Every live workspace name, in memory: what the DNS server and the workspace hosts
//! answer from, so neither ever queries the database per request.
//!
//! Loaded whole at start. After that it changes one org at a time: a service that
//! changed an org's names re-reads that org's rows right after its commit, and other
//! replicas do the same for each org named in the invalidation log
//! (`runtime::invalidate`). Re-reading an org goes by its id through indexes, so it costs
//! the same with ten names or a million. A whole reload happens only when a replica may
//! have missed something (the log was pruned past it) or a re-read failed.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use plinth_store::{HandleRedirect, Store, StoreError, WorkspaceName};

use crate::usage::meter::{DNS_QUERIES, Tallied, Tally, WORKSPACE_REQUESTS};

/// An org as its workspaces' names show it: one copy an org, shared by its entries
/// (at 1,000,000 names the copies were a third of the directory's memory).
#[derive(Debug, PartialEq, Eq)]
pub struct OrgFacts {
    pub id: String,
    pub handle: String,
    pub display_name: String,
}

impl OrgFacts {
    fn of(name: &WorkspaceName) -> Arc<Self> {
        Arc::new(Self {
            id: name.org_id.clone(),
            handle: name.org_handle.to_string(),
            display_name: name.org_display_name.clone(),
        })
    }

    fn matches(&self, name: &WorkspaceName) -> bool {
        self.id == name.org_id
            && self.handle == name.org_handle.as_str()
            && self.display_name == name.org_display_name
    }
}

/// A workspace as DNS and workspace hosts see it.
#[derive(Debug)]
pub struct Entry {
    pub org: Arc<OrgFacts>,
    pub workspace_id: String,
    pub workspace_handle: String,
    pub workspace_display_name: String,
    /// Its DNS queries and host requests since the last usage flush (usage/meter.rs).
    dns_queries: Tally,
    host_requests: Tally,
}

impl Tallied for Entry {
    fn org_id(&self) -> &str {
        &self.org.id
    }

    fn workspace_id(&self) -> Option<&str> {
        Some(&self.workspace_id)
    }

    fn tally(&self, metric: &'static str) -> Option<&Tally> {
        match metric {
            DNS_QUERIES => Some(&self.dns_queries),
            WORKSPACE_REQUESTS => Some(&self.host_requests),
            _ => None,
        }
    }
}

impl Entry {
    /// The entry of `name`, sharing `org` when it is the same org (rows come in org
    /// order), else with a new copy of the org's facts, which `org` then holds.
    fn of(name: &WorkspaceName, org: &mut Option<Arc<OrgFacts>>) -> Self {
        let shared = match org {
            Some(facts) if facts.matches(name) => facts.clone(),
            _ => org.insert(OrgFacts::of(name)).clone(),
        };
        Self {
            org: shared,
            workspace_id: name.workspace.id.clone(),
            workspace_handle: name.workspace.handle.to_string(),
            workspace_display_name: name.workspace.display_name.clone(),
            dns_queries: Tally::default(),
            host_requests: Tally::default(),
        }
    }

    /// This entry under `org`'s facts. Its tallies start anew: what the old entry
    /// counted is still taken from the meter's list of tallied entries.
    fn with_org(&self, org: Arc<OrgFacts>) -> Self {
        Self {
            org,
            workspace_id: self.workspace_id.clone(),
            workspace_handle: self.workspace_handle.clone(),
            workspace_display_name: self.workspace_display_name.clone(),
            dns_queries: Tally::default(),
            host_requests: Tally::default(),
        }
    }

    /// `{org}-{workspace}`, the first label of the DNS name.
    pub fn label(&self) -> String {
        format!("{}-{}", self.org.handle, self.workspace_handle)
    }
}

/// Where an old org handle now points, during its grace period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub org_id: String,
    pub new_handle: String,
    /// Unix µs: answered as a redirect until then.
    pub until_us: i64,
}

/// What a workspace label names.
#[derive(Debug, Clone)]
pub enum Lookup {
    Live(Arc<Entry>),
    /// `{old org handle}-{ws}` during the grace period of a rename: the live entry.
    Renamed(Arc<Entry>),
}

/// Org re-reads are serialized per shard of org ids, so that of two re-reads of one org
/// the older can never be applied after the newer.
const ORG_LOCK_SHARDS: usize = 64;

/// The maps, behind one lock so that they always agree.
#[derive(Default)]
struct Names {
    /// label → entry.
    by_label: HashMap<String, Arc<Entry>>,
    /// Old org handle → its org's current handle, while reserved.
    renamed: HashMap<String, Renamed>,
    /// Org id → the keys it holds in the two maps above: patching an org touches only
    /// its own names.
    by_org: HashMap<String, OrgKeys>,
}

#[derive(Default)]
struct OrgKeys {
    labels: Vec<String>,
    old_handles: Vec<String>,
}

impl Names {
    fn insert_entry(&mut self, entry: Arc<Entry>) {
        let label = entry.label();
        self.by_org
            .entry(entry.org.id.clone())
            .or_default()
            .labels
            .push(label.clone());
        self.by_label.insert(label, entry);
    }

    fn insert_redirect(&mut self, old_handle: String, renamed: Renamed) {
        self.by_org
            .entry(renamed.org_id.clone())
            .or_default()
            .old_handles
            .push(old_handle.clone());
        self.renamed.insert(old_handle, renamed);
    }

    /// Removes and answers what `org_id` holds. A key another org has taken over since
    /// (a handle freed and claimed again) is left to that org.
    fn take_org(&mut self, org_id: &str) -> (Vec<Arc<Entry>>, Vec<(String, Renamed)>) {
        let Some(keys) = self.by_org.remove(org_id) else {
            return (Vec::new(), Vec::new());
        };
        let mut entries = Vec::new();
        for label in keys.labels {
            if self
                .by_label
                .get(&label)
                .is_some_and(|e| e.org.id == org_id)
                && let Some(entry) = self.by_label.remove(&label)
            {
                entries.push(entry);
            }
        }
        let mut redirects = Vec::new();
        for old in keys.old_handles {
            if self.renamed.get(&old).is_some_and(|r| r.org_id == org_id)
                && let Some(renamed) = self.renamed.remove(&old)
            {
                redirects.push((old, renamed));
            }
        }
        (entries, redirects)
    }

    fn put_org(&mut self, entries: Vec<Arc<Entry>>, redirects: Vec<(String, Renamed)>) {
        for entry in entries {
            self.insert_entry(entry);
        }
        for (old, renamed) in redirects {
            self.insert_redirect(old, renamed);
        }
    }
}

/// `text` in lower case, copied only when it has an upper-case letter (DNS hands labels
/// over in lower case already).
fn lower(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

fn redirect_of(redirect: &HandleRedirect) -> Renamed {
    Renamed {
        org_id: redirect.org_id.clone(),
        new_handle: redirect.new_handle.clone(),
        until_us: redirect.until_us,
    }
}

pub struct WorkspaceDirectory {
    names: RwLock<Names>,
    /// Bumped by every change: the SOA serial.
    generation: AtomicU64,
    org_locks: Vec<tokio::sync::Mutex<()>>,
    /// One whole reload at a time.
    reload_lock: tokio::sync::Mutex<()>,
    /// While a whole reload reads: the orgs re-read meanwhile, whose fresher rows the
    /// reload keeps instead of its own.
    reloading: Mutex<Option<HashSet<String>>>,
    /// A re-read failed after its change committed: only a whole reload can be sure to
    /// be right again (see [`WorkspaceDirectory::reload_if_stale`]).
    stale: AtomicBool,
    /// Name rows (workspaces and redirects) read from the database so far.
    rows_read: AtomicU64,
}

impl Default for WorkspaceDirectory {
    fn default() -> Self {
        Self {
            names: RwLock::default(),
            generation: AtomicU64::new(0),
            org_locks: (0..ORG_LOCK_SHARDS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            reload_lock: tokio::sync::Mutex::new(()),
            reloading: Mutex::new(None),
            stale: AtomicBool::new(false),
            rows_read: AtomicU64::new(0),
        }
    }
}

impl WorkspaceDirectory {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Names> {
        self.names.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Names> {
        self.names.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The workspace a label (`acme-prod`, any case) names.
    pub fn get(&self, label: &str) -> Option<Arc<Entry>> {
        self.read().by_label.get(lower(label).as_ref()).cloned()
    }

    /// The org handle `old` was renamed to, if its redirect is still on at `now_us`.
    pub fn renamed_to(&self, old: &str, now_us: i64) -> Option<String> {
        self.read()
            .renamed
            .get(lower(old).as_ref())
            .filter(|r| r.until_us > now_us)
            .map(|r| r.new_handle.clone())
    }

    /// A label, live or (during a rename's grace period) under the org's old handle.
    /// Workspace handles have no hyphen, so the last one splits org from workspace.
    pub fn lookup(&self, label: &str, now_us: i64) -> Option<Lookup> {
        if let Some(entry) = self.get(label) {
            return Some(Lookup::Live(entry));
        }
        let (org, ws) = label.rsplit_once('-')?;
        let new_org = self.renamed_to(org, now_us)?;
        self.get(&format!("{new_org}-{ws}")).map(Lookup::Renamed)
    }

    pub fn len(&self) -> usize {
        self.read().by_label.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A counter that changes with every change: the SOA serial.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Name rows read from the database since start: what a change costs.
    pub fn rows_read(&self) -> u64 {
        self.rows_read.load(Ordering::Relaxed)
    }

    fn count_rows(&self, rows: usize) {
        self.rows_read.fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Re-reads one org's names (its live workspaces and old handles still in their
    /// grace period) and puts them in place of what it held: after a rename, a deletion,
    /// a restore, a workspace change. Reads only that org's rows.
    pub async fn refresh_org(&self, store: &Store, org_id: &str) -> Result<(), StoreError> {
        let shard = shard_of(org_id);
        let _serialized = self.org_locks[shard].lock().await;
        let read = async {
            let rows = store.live_workspace_names_of_org(org_id).await?;
            let redirects = store
                .handle_redirects_of_org(org_id, time::OffsetDateTime::now_utc())
                .await?;
            Ok::<_, StoreError>((rows, redirects))
        };
        let (rows, redirects) = match read.await {
            Ok(read) => read,
            Err(err) => {
                self.stale.store(true, Ordering::Release);
                return Err(err);
            }
        };
        self.count_rows(rows.len() + redirects.len());
        let mut org = None;
        let entries = rows
            .iter()
            .map(|row| Arc::new(Entry::of(row, &mut org)))
            .collect();
        let redirects = redirects
            .into_iter()
            .map(|r| {
                let renamed = redirect_of(&r);
                (r.old_handle, renamed)
            })
            .collect();
        let mut names = self.write();
        names.take_org(org_id);
        names.put_org(entries, redirects);
        // Under the names' lock: a reload swaps its read in under it.
        self.touched_while_reloading(org_id);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// A full reload under way keeps what it read for `org_id`'s names out: they are
    /// fresher here.
    fn touched_while_reloading(&self, org_id: &str) {
        if let Some(touched) = self
            .reloading
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            touched.insert(org_id.to_owned());
        }
    }

    /// Gives an org's names its new display name, from memory: after a profile change,
    /// which changes nothing else of them. Serialized with [`Self::refresh_org`] of the
    /// same org, so a re-read that began before the change cannot land after it.
    pub async fn set_org_display_name(&self, org_id: &str, display_name: &str) {
        let _serialized = self.org_locks[shard_of(org_id)].lock().await;
        let mut names = self.write();
        let (entries, redirects) = names.take_org(org_id);
        let entries = match entries.first() {
            None => Vec::new(),
            Some(first) => {
                let org = Arc::new(OrgFacts {
                    id: first.org.id.clone(),
                    handle: first.org.handle.clone(),
                    display_name: display_name.to_owned(),
                });
                entries
                    .iter()
                    .map(|entry| Arc::new(entry.with_org(org.clone())))
                    .collect()
            }
        };
        names.put_org(entries, redirects);
        // Under the names' lock: a reload swaps its read in under it.
        self.touched_while_reloading(org_id);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Replaces everything with what the database holds now (at start, and when a
    /// replica may have missed changes). Orgs re-read while it reads keep their
    /// fresher rows.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let _one = self.reload_lock.lock().await;
        *self.reloading.lock().unwrap_or_else(|e| e.into_inner()) = Some(HashSet::new());
        // Built as the rows stream in: the rows are never all in memory beside the maps.
        let read = async {
            let mut fresh = Names::default();
            let mut org = None;
            let rows = store
                .each_live_workspace_name(|row| {
                    fresh.insert_entry(Arc::new(Entry::of(&row, &mut org)));
                })
                .await?;
            let redirects = store
                .handle_redirects(time::OffsetDateTime::now_utc())
                .await?;
            for redirect in redirects.iter() {
                fresh.insert_redirect(redirect.old_handle.clone(), redirect_of(redirect));
            }
            Ok::<_, StoreError>((fresh, rows + redirects.len()))
        };
        let read = read.await;
        let touched = {
            let mut names = self.write();
            let touched = self
                .reloading
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_default();
            let (mut fresh, rows) = read?;
            self.count_rows(rows);
            for org_id in &touched {
                fresh.take_org(org_id);
                let (entries, redirects) = names.take_org(org_id);
                fresh.put_org(entries, redirects);
            }
            *names = fresh;
            self.stale.store(false, Ordering::Release);
            self.generation.fetch_add(1, Ordering::AcqRel);
            touched
        };
        // Which of the two reads of a touched org was newer is unknown: read it again.
        for org_id in &touched {
            self.refresh_org(store, org_id).await?;
        }
        Ok(())
    }

    pub async fn reload_logged(&self, store: &Store) {
        if let Err(err) = self.reload(store).await {
            tracing::warn!(error = %err, "could not reload the workspace names");
        }
    }

    /// Marks the names as possibly wrong until the next whole reload succeeds.
    pub fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
    }

    /// Reloads everything if an org's re-read failed since the last whole reload.
    pub async fn reload_if_stale(&self, store: &Store) {
        if self.stale.load(Ordering::Acquire) {
            self.reload_logged(store).await;
        }
    }

    /// Forgets redirects whose grace period ended before `now_us` (they no longer
    /// answer anyway): keeps a long-running server's map from growing.
    pub fn drop_expired_redirects(&self, now_us: i64) {
        let mut names = self.write();
        let expired: Vec<(String, String)> = names
            .renamed
            .iter()
            .filter(|(_, r)| r.until_us <= now_us)
            .map(|(old, r)| (old.clone(), r.org_id.clone()))
            .collect();
        for (old, org_id) in expired {
            names.renamed.remove(&old);
            if let Some(keys) = names.by_org.get_mut(&org_id) {
                keys.old_handles.retain(|h| *h != old);
            }
        }
    }
}

fn shard_of(org_id: &str) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(org_id) as usize % ORG_LOCK_SHARDS
}

#[cfg(test)]
mod tests {
    use plinth_core::{Handle, WorkspaceHandle};
    use plinth_store::WorkspaceRecord;

    use super::*;

    fn name(org_id: &str, org: &str, org_name: &str, ws: &str) -> WorkspaceName {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        WorkspaceName {
            org_id: org_id.to_owned(),
            org_handle: Handle::parse(org).unwrap(),
            org_display_name: org_name.to_owned(),
            workspace: WorkspaceRecord {
                id: format!("{org_id}/{ws}"),
                org_id: org_id.to_owned(),
                handle: WorkspaceHandle::parse(ws).unwrap(),
                display_name: ws.to_owned(),
                created_at: now,
                updated_at: now,
            },
        }
    }

    /// Consecutive rows of one org share one copy of its facts; another org, or the
    /// same org with other facts, gets its own.
    #[test]
    fn entries_of_one_org_share_its_facts() {
        let mut org = None;
        let a = Entry::of(&name("o1", "acme", "Acme", "web"), &mut org);
        let b = Entry::of(&name("o1", "acme", "Acme", "api"), &mut org);
        let c = Entry::of(&name("o2", "beta", "Beta", "web"), &mut org);
        let d = Entry::of(&name("o2", "beta", "Beta Inc", "api"), &mut org);
        assert!(Arc::ptr_eq(&a.org, &b.org));
        assert!(!Arc::ptr_eq(&b.org, &c.org));
        assert!(!Arc::ptr_eq(&c.org, &d.org));
        assert_eq!(
            (a.label(), c.label()),
            ("acme-web".into(), "beta-web".into())
        );
        assert_eq!(d.org.display_name, "Beta Inc");
    }

    /// A profile change patches the org's names in place: the same labels and
    /// redirects, the new display name in one shared copy, other orgs untouched.
    #[tokio::test]
    async fn a_display_name_is_patched_into_every_name_of_its_org_alone() {
        let directory = WorkspaceDirectory::default();
        {
            let mut names = directory.write();
            let mut org = None;
            let acme = ["web", "api"]
                .map(|ws| Arc::new(Entry::of(&name("o1", "acme", "Acme", ws), &mut org)));
            let renamed = Renamed {
                org_id: "o1".into(),
                new_handle: "acme".into(),
                until_us: i64::MAX,
            };
            names.put_org(acme.to_vec(), vec![("oldacme".into(), renamed)]);
            let beta = Entry::of(&name("o2", "beta", "Beta", "web"), &mut org);
            names.put_org(vec![Arc::new(beta)], Vec::new());
        }
        let before = directory.generation();

        directory.set_org_display_name("o1", "Acme Two").await;

        let web = directory.get("acme-web").unwrap();
        let api = directory.get("acme-api").unwrap();
        assert_eq!(web.org.display_name, "Acme Two");
        assert!(Arc::ptr_eq(&web.org, &api.org));
        assert_eq!(api.workspace_handle, "api");
        assert_eq!(directory.renamed_to("oldacme", 0).as_deref(), Some("acme"));
        assert_eq!(directory.get("beta-web").unwrap().org.display_name, "Beta");
        assert!(directory.generation() > before);
        // An org with no names: nothing to patch, nothing made up.
        directory.set_org_display_name("o3", "Nobody").await;
        assert_eq!(directory.len(), 3);
    }
}
