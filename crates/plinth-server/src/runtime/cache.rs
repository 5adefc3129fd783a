//! The caches that let a warm authenticated request answer without the database:
//! tokens, users, orgs by handle and memberships (the org guard's two look-ups).
//!
//! Entries live at most [`CACHE_TTL`]; every change that could make one wrong (logout,
//! token update or delete, profile change, sign out everywhere) drops it at once, on
//! this replica directly and on the others through [`crate::runtime::invalidate`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use plinth_core::{Handle, TokenHash};
use plinth_store::{MembershipRecord, OrgRecord, TokenRecord, UserRecord};

/// The backstop for a missed invalidation (a replica's listener reconnecting).
pub const CACHE_TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 200_000;

/// A snapshot of each cache's invalidation count, taken before a database read: a fill
/// made with it is dropped if its cache saw any invalidation since, so a record read
/// before a change committed can never be put back after that change's invalidation.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    tokens: u64,
    users: u64,
    orgs: u64,
    memberships: u64,
}

struct Inner<K, V> {
    entries: HashMap<K, (Instant, Arc<V>)>,
    /// Secondary key → primary key (tokens are dropped by id, cached by hash). Kept
    /// under the same lock as `entries`, so the two can never disagree.
    by_id: HashMap<String, K>,
    /// The epoch each id was last dropped at, for [`TtlMap::replace_by_id`]; ids dropped
    /// before `dropped_floor` are no longer listed, and count as dropped then.
    dropped_at: HashMap<String, u64>,
    dropped_floor: u64,
}

/// How many dropped ids a map remembers before it forgets them all (`dropped_floor`).
const MAX_DROPPED: usize = 10_000;

struct TtlMap<K, V> {
    inner: RwLock<Inner<K, V>>,
    /// Bumped by every invalidation of this map, under its lock.
    epoch: AtomicU64,
}

impl<K: Eq + Hash + Clone, V> TtlMap<K, V> {
    fn new() -> Self {
        Self {
            inner: RwLock::new(Inner {
                entries: HashMap::new(),
                by_id: HashMap::new(),
                dropped_at: HashMap::new(),
                dropped_floor: 0,
            }),
            epoch: AtomicU64::new(0),
        }
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn get(&self, key: &K) -> Option<Arc<V>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner
            .entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, v)| v.clone())
    }

    /// Inserts unless an invalidation happened since `ticket` (checked under this map's
    /// lock, which every invalidation of it also holds while it bumps the epoch).
    fn insert(&self, ticket: u64, key: K, id: Option<String>, value: Arc<V>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if self.epoch.load(Ordering::Acquire) != ticket {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
            let Inner { entries, by_id, .. } = &mut *inner;
            by_id.retain(|_, key| entries.contains_key(key));
        }
        if let Some(id) = id {
            inner.by_id.insert(id, key.clone());
        }
        inner.entries.insert(key, (Instant::now(), value));
    }

    fn remove(&self, key: &K) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        inner.entries.remove(key);
    }

    /// Drops the entry of `id` as [`TtlMap::remove_by_id`] does and, when `id` was not
    /// dropped since `ticket` (nor the whole map cleared), puts `value` in its place, in
    /// one step under the lock.
    fn replace_by_id(&self, ticket: u64, id: String, key: K, value: Arc<V>) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let dropped_since = inner
            .dropped_at
            .get(&id)
            .map_or(ticket < inner.dropped_floor, |&at| at > ticket);
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        note_dropped(&mut inner, &id, epoch);
        if let Some(old) = inner.by_id.remove(&id) {
            inner.entries.remove(&old);
        }
        if !dropped_since && inner.entries.len() < MAX_ENTRIES {
            inner.by_id.insert(id, key.clone());
            inner.entries.insert(key, (Instant::now(), value));
        }
    }

    fn remove_by_id(&self, id: &str) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        note_dropped(&mut inner, id, epoch);
        if let Some(key) = inner.by_id.remove(id) {
            inner.entries.remove(&key);
        }
    }

    fn clear(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        inner.entries.clear();
        inner.by_id.clear();
        inner.dropped_at.clear();
        inner.dropped_floor = epoch;
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }
}

/// Records that `id` was dropped at `epoch`; past [`MAX_DROPPED`] ids the list starts
/// again, and everything before counts as dropped at `epoch`.
fn note_dropped<K, V>(inner: &mut Inner<K, V>, id: &str, epoch: u64) {
    if inner.dropped_at.len() >= MAX_DROPPED && !inner.dropped_at.contains_key(id) {
        inner.dropped_at.clear();
        inner.dropped_floor = epoch;
    }
    inner.dropped_at.insert(id.to_owned(), epoch);
}

/// Tokens by hash, users by id, live orgs by handle, and memberships by (org, user).
pub struct AuthCache {
    /// By hash, droppable by id (that is what revocations name).
    tokens: TtlMap<TokenHash, TokenRecord>,
    users: TtlMap<String, UserRecord>,
    orgs: TtlMap<Handle, OrgRecord>,
    /// `None` is cached too: a non-member's repeated requests must not reach the database
    /// either. Creating a membership drops the entry, like any other change of it.
    memberships: TtlMap<(String, String), Option<Arc<MembershipRecord>>>,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self {
            tokens: TtlMap::new(),
            users: TtlMap::new(),
            orgs: TtlMap::new(),
            memberships: TtlMap::new(),
        }
    }
}

impl AuthCache {
    /// Take one before reading what a miss will fill, and pass it to the `put_*`.
    pub fn ticket(&self) -> Ticket {
        Ticket {
            tokens: self.tokens.epoch(),
            users: self.users.epoch(),
            orgs: self.orgs.epoch(),
            memberships: self.memberships.epoch(),
        }
    }

    pub fn token(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        self.tokens.get(hash)
    }

    /// Caches `token` unless something was invalidated since `ticket`; answers it either way.
    pub fn put_token(
        &self,
        ticket: Ticket,
        hash: TokenHash,
        token: TokenRecord,
    ) -> Arc<TokenRecord> {
        let token = Arc::new(token);
        self.tokens
            .insert(ticket.tokens, hash, Some(token.id.clone()), token.clone());
        token
    }

    pub fn drop_token(&self, id: &str) {
        self.tokens.remove_by_id(id);
    }

    pub fn user(&self, id: &str) -> Option<Arc<UserRecord>> {
        self.users.get(&id.to_owned())
    }

    pub fn put_user(&self, ticket: Ticket, user: UserRecord) -> Arc<UserRecord> {
        let user = Arc::new(user);
        self.users
            .insert(ticket.users, user.id.clone(), None, user.clone());
        user
    }

    pub fn drop_user(&self, id: &str) {
        self.users.remove(&id.to_owned());
    }

    pub fn org(&self, handle: &Handle) -> Option<Arc<OrgRecord>> {
        self.orgs.get(handle)
    }

    pub fn put_org(&self, ticket: Ticket, org: OrgRecord) -> Arc<OrgRecord> {
        let org = Arc::new(org);
        self.orgs.insert(
            ticket.orgs,
            org.handle.clone(),
            Some(org.id.clone()),
            org.clone(),
        );
        org
    }

    /// Drops an org, by id: whatever handle it is cached under (a rename changes it), in
    /// one look-up however many orgs are cached.
    ///
    /// Its cached memberships stay. They change only with an
    /// [`Invalidation::Membership`](crate::runtime::invalidate::Invalidation::Membership)
    /// of their own, and an org that is deleted or purged is refused by the org look-up
    /// before any membership of it is read; a profile write must not cost every member
    /// a database read.
    pub fn drop_org(&self, id: &str) {
        self.orgs.remove_by_id(id);
    }

    /// After the commit of a change to `org`, which the write read back under the row's
    /// lock: drops the org as [`AuthCache::drop_org`] does and caches `org` in its place,
    /// so the next request of the org needs no read. `ticket` is taken before that commit.
    /// If this org was dropped since (or the cache cleared), the entry is only dropped:
    /// that may be a later change's invalidation (an authentication reset's new token
    /// cut-off, say), and `org` would bring back what it replaced. Other orgs' drops do
    /// not matter: concurrent writes to different orgs each keep their own.
    pub fn replace_org(&self, ticket: Ticket, org: OrgRecord) {
        let (id, handle) = (org.id.clone(), org.handle.clone());
        self.orgs
            .replace_by_id(ticket.orgs, id, handle, Arc::new(org));
    }

    /// `Some(None)`: known not to be a member (or not yet invited).
    pub fn membership(&self, org_id: &str, user_id: &str) -> Option<Option<Arc<MembershipRecord>>> {
        // The key is built in a buffer of the thread's: a warm look-up allocates nothing.
        thread_local! {
            static KEY: std::cell::RefCell<(String, String)> = const {
                std::cell::RefCell::new((String::new(), String::new()))
            };
        }
        KEY.with(|key| {
            let mut key = key.borrow_mut();
            key.0.clear();
            key.0.push_str(org_id);
            key.1.clear();
            key.1.push_str(user_id);
            self.memberships.get(&key).map(|m| (*m).clone())
        })
    }

    pub fn put_membership(
        &self,
        ticket: Ticket,
        org_id: &str,
        user_id: &str,
        membership: Option<MembershipRecord>,
    ) -> Option<Arc<MembershipRecord>> {
        let membership = membership.map(Arc::new);
        self.memberships.insert(
            ticket.memberships,
            (org_id.to_owned(), user_id.to_owned()),
            None,
            Arc::new(membership.clone()),
        );
        membership
    }

    pub fn drop_membership(&self, org_id: &str, user_id: &str) {
        self.memberships
            .remove(&(org_id.to_owned(), user_id.to_owned()));
    }

    /// Drops everything: after a replica may have missed invalidations.
    pub fn clear(&self) {
        self.tokens.clear();
        self.users.clear();
        self.orgs.clear();
        self.memberships.clear();
    }
}

#[cfg(test)]
mod tests {
    use plinth_core::{TokenKind, TokenSecret};
    use plinth_store::TokenStatus;

    use super::*;

    fn token(id: &str) -> (TokenHash, TokenRecord) {
        let secret = TokenSecret::generate(TokenKind::Temporary);
        let record = TokenRecord {
            id: id.to_owned(),
            user_id: "u".to_owned(),
            kind: TokenKind::Temporary,
            title: None,
            description: None,
            status: TokenStatus::Active,
            last4: secret.last4(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            authenticated_at: 0,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            origin: plinth_store::TokenOrigin::default(),
        };
        (secret.hash(), record)
    }

    #[test]
    fn a_fill_read_before_an_invalidation_is_not_kept() {
        let cache = AuthCache::default();
        let (hash, record) = token("t1");
        // A miss reads the database...
        let ticket = cache.ticket();
        // ...meanwhile a revocation commits and drops the (absent) entry...
        cache.drop_token("t1");
        // ...and the stale fill arrives: answered once, never cached.
        cache.put_token(ticket, hash, record.clone());
        assert!(cache.token(&hash).is_none());
        // A fill that saw no invalidation is kept.
        cache.put_token(cache.ticket(), hash, record);
        assert!(cache.token(&hash).is_some());
        cache.drop_token("t1");
        assert!(cache.token(&hash).is_none());
    }

    #[test]
    fn a_full_token_map_never_loses_the_way_to_drop_an_entry() {
        let cache = AuthCache::default();
        let mut kept = None;
        for i in 0..MAX_ENTRIES + 10 {
            let (hash, record) = token(&format!("t{i}"));
            cache.put_token(cache.ticket(), hash, record);
            kept = Some((i, hash));
        }
        let (i, hash) = kept.unwrap();
        assert!(cache.token(&hash).is_some());
        assert!(cache.tokens.len() <= MAX_ENTRIES);
        cache.drop_token(&format!("t{i}"));
        assert!(cache.token(&hash).is_none());
    }

    fn org(id: &str, handle: &str) -> OrgRecord {
        OrgRecord {
            id: id.to_owned(),
            handle: Handle::parse(handle).unwrap(),
            display_name: handle.to_owned(),
            avatar_url: None,
            token_min_issued_at: 0,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn an_org_written_back_after_its_commit_is_kept_only_if_nothing_came_between() {
        let acme = || Handle::parse("acme").unwrap();
        let cache = AuthCache::default();
        cache.put_org(cache.ticket(), org("o1", "acme"));
        // A profile write: the ticket before its commit, the row it read back after.
        let ticket = cache.ticket();
        let mut after = org("o1", "acme");
        after.display_name = "Acme Inc".to_owned();
        cache.replace_org(ticket, after.clone());
        assert_eq!(cache.org(&acme()).unwrap().display_name, "Acme Inc");

        // Another write's invalidation between the ticket and the write-back (an
        // authentication reset): the entry is dropped, not replaced by the older row.
        let ticket = cache.ticket();
        cache.drop_org("o1");
        cache.put_org(cache.ticket(), {
            let mut reset = after.clone();
            reset.token_min_issued_at = 42;
            reset
        });
        cache.replace_org(ticket, after);
        assert!(
            cache.org(&acme()).is_none(),
            "the stale row is not put back"
        );

        // Another org's drop in between does not matter.
        let ticket = cache.ticket();
        cache.drop_org("o2");
        cache.replace_org(ticket, org("o1", "acme"));
        assert!(cache.org(&acme()).is_some());
        // A clear in between (a replica that may have missed invalidations) does.
        let ticket = cache.ticket();
        cache.clear();
        cache.replace_org(ticket, org("o1", "acme"));
        assert!(cache.org(&acme()).is_none());

        // The write-back finds the org under whatever handle it was cached by.
        cache.put_org(cache.ticket(), org("o1", "old"));
        cache.replace_org(cache.ticket(), org("o1", "acme"));
        assert!(cache.org(&Handle::parse("old").unwrap()).is_none());
        assert!(cache.org(&acme()).is_some());
    }

    #[test]
    fn dropping_an_org_drops_it_under_its_handle_alone() {
        let cache = AuthCache::default();
        cache.put_org(cache.ticket(), org("o1", "acme"));
        cache.put_org(cache.ticket(), org("o2", "beta"));
        cache.put_membership(cache.ticket(), "o1", "u", None);
        cache.drop_org("o1");
        assert!(cache.org(&Handle::parse("acme").unwrap()).is_none());
        assert!(cache.org(&Handle::parse("beta").unwrap()).is_some());
        assert!(
            cache.membership("o1", "u").is_some(),
            "memberships change on their own"
        );
        // Cached again under a new handle (after a rename), it is dropped there.
        cache.put_org(cache.ticket(), org("o1", "acme2"));
        cache.drop_org("o1");
        assert!(cache.org(&Handle::parse("acme2").unwrap()).is_none());
    }
}
