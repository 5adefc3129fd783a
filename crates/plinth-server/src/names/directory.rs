//! Every live workspace name, in memory: what the DNS server and the workspace hosts
//! answer from, so neither ever queries the database per request.
//!
//! Services update it in place right after their commit; other replicas reload it on
//! an [`crate::runtime::invalidate::Invalidation::Workspaces`] notification, and every replica
//! reloads it periodically as the backstop for a missed one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use plinth_store::{Store, StoreError, WorkspaceName};

/// A workspace as DNS and workspace hosts see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub org_id: String,
    pub org_handle: String,
    pub org_display_name: String,
    pub workspace_id: String,
    pub workspace_handle: String,
    pub workspace_display_name: String,
}

impl From<&WorkspaceName> for Entry {
    fn from(name: &WorkspaceName) -> Self {
        Self {
            org_id: name.org_id.clone(),
            org_handle: name.org_handle.to_string(),
            org_display_name: name.org_display_name.clone(),
            workspace_id: name.workspace.id.clone(),
            workspace_handle: name.workspace.handle.to_string(),
            workspace_display_name: name.workspace.display_name.clone(),
        }
    }
}

impl Entry {
    /// `{org}-{workspace}`, the first label of the DNS name.
    pub fn label(&self) -> String {
        format!("{}-{}", self.org_handle, self.workspace_handle)
    }
}

/// Where an old org handle now points, during its grace period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
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

#[derive(Default)]
pub struct WorkspaceDirectory {
    /// label → entry.
    names: RwLock<HashMap<String, Arc<Entry>>>,
    /// Old org handle → its org's current handle, while reserved.
    renamed: RwLock<HashMap<String, Renamed>>,
    /// Bumped by every change in place, so a reload that read the database before a
    /// change committed cannot overwrite it with its older snapshot.
    generation: AtomicU64,
}

impl WorkspaceDirectory {
    /// The workspace a label (`acme-prod`, any case) names.
    pub fn get(&self, label: &str) -> Option<Arc<Entry>> {
        let names = self.names.read().unwrap_or_else(|e| e.into_inner());
        names.get(&label.to_ascii_lowercase()).cloned()
    }

    /// The org handle `old` was renamed to, if its redirect is still on at `now_us`.
    pub fn renamed_to(&self, old: &str, now_us: i64) -> Option<String> {
        let renamed = self.renamed.read().unwrap_or_else(|e| e.into_inner());
        renamed
            .get(&old.to_ascii_lowercase())
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
        self.names.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A counter that changes with every change: the SOA serial.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn insert(&self, entry: Entry) {
        let mut names = self.names.write().unwrap_or_else(|e| e.into_inner());
        names.insert(entry.label(), Arc::new(entry));
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// A workspace under a new name: the old name stops answering in the same step.
    pub fn replace_workspace(&self, entry: Entry) {
        let mut names = self.names.write().unwrap_or_else(|e| e.into_inner());
        names.retain(|_, e| e.workspace_id != entry.workspace_id);
        names.insert(entry.label(), Arc::new(entry));
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn remove_workspace(&self, workspace_id: &str) {
        let mut names = self.names.write().unwrap_or_else(|e| e.into_inner());
        names.retain(|_, e| e.workspace_id != workspace_id);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Replaces everything with what the database holds now.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        loop {
            let seen = self.generation();
            let rows = store.live_workspace_names().await?;
            let redirects = store
                .handle_redirects(time::OffsetDateTime::now_utc())
                .await?;
            let fresh_renamed: HashMap<String, Renamed> = redirects
                .into_iter()
                .map(|r| {
                    (
                        r.old_handle,
                        Renamed {
                            new_handle: r.new_handle,
                            until_us: r.until_us,
                        },
                    )
                })
                .collect();
            let fresh: HashMap<String, Arc<Entry>> = rows
                .iter()
                .map(|row| {
                    let entry = Entry::from(row);
                    (entry.label(), Arc::new(entry))
                })
                .collect();
            let mut names = self.names.write().unwrap_or_else(|e| e.into_inner());
            // A change landed while we read: our snapshot may predate it. Read again.
            if self.generation() != seen {
                continue;
            }
            *names = fresh;
            *self.renamed.write().unwrap_or_else(|e| e.into_inner()) = fresh_renamed;
            self.generation.fetch_add(1, Ordering::AcqRel);
            return Ok(());
        }
    }

    pub async fn reload_logged(&self, store: &Store) {
        if let Err(err) = self.reload(store).await {
            tracing::warn!(error = %err, "could not reload the workspace names");
        }
    }
}
