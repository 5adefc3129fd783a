//! The caches that let a warm authenticated request answer without the database:
//! tokens, users, orgs by handle and memberships (the org guard's two look-ups).
//!
//! Entries live at most [`CACHE_TTL`]; every change that could make one wrong (logout,
//! token update or delete, profile change, sign out everywhere) drops it at once, on
//! this replica directly and on the others through [`crate::runtime::invalidate`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use plinth_core::{Handle, TokenHash};
use plinth_store::{MembershipRecord, OrgRecord, TokenRecord, UserRecord};

/// The backstop for a missed invalidation (a replica's listener reconnecting).
pub const CACHE_TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 200_000;

struct TtlMap<K, V> {
    entries: RwLock<HashMap<K, (Instant, Arc<V>)>>,
}

impl<K: Eq + Hash + Clone, V> TtlMap<K, V> {
    fn new() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K) -> Option<Arc<V>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, v)| v.clone())
    }

    fn insert(&self, key: K, value: Arc<V>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    fn remove(&self, key: &K) -> Option<Arc<V>> {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.remove(key).map(|(_, v)| v)
    }

    fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn retain(&self, keep: impl Fn(&K, &V) -> bool) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k, (_, v)| keep(k, v));
    }
}

/// Tokens by hash, users by id, live orgs by handle, and memberships by (org, user).
pub struct AuthCache {
    tokens: TtlMap<TokenHash, TokenRecord>,
    /// token id → hash, so a token can be dropped by id (that is what revocations name).
    token_hashes: RwLock<HashMap<String, TokenHash>>,
    users: TtlMap<String, UserRecord>,
    orgs: TtlMap<Handle, OrgRecord>,
    /// `None` is cached too: a non-member's repeated requests must not reach the database
    /// either. Creating a membership drops the entry, like any other change of it.
    memberships: TtlMap<(String, String), Option<MembershipRecord>>,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self {
            tokens: TtlMap::new(),
            token_hashes: RwLock::new(HashMap::new()),
            users: TtlMap::new(),
            orgs: TtlMap::new(),
            memberships: TtlMap::new(),
        }
    }
}

impl AuthCache {
    pub fn token(&self, hash: &TokenHash) -> Option<Arc<TokenRecord>> {
        self.tokens.get(hash)
    }

    pub fn put_token(&self, hash: TokenHash, token: TokenRecord) -> Arc<TokenRecord> {
        let token = Arc::new(token);
        {
            let mut ids = self.token_hashes.write().unwrap_or_else(|e| e.into_inner());
            if ids.len() >= MAX_ENTRIES {
                ids.clear();
            }
            ids.insert(token.id.clone(), hash);
        }
        self.tokens.insert(hash, token.clone());
        token
    }

    pub fn drop_token(&self, id: &str) {
        let hash = self
            .token_hashes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if let Some(hash) = hash {
            self.tokens.remove(&hash);
        }
    }

    pub fn user(&self, id: &str) -> Option<Arc<UserRecord>> {
        self.users.get(&id.to_owned())
    }

    pub fn put_user(&self, user: UserRecord) -> Arc<UserRecord> {
        let user = Arc::new(user);
        self.users.insert(user.id.clone(), user.clone());
        user
    }

    pub fn drop_user(&self, id: &str) {
        self.users.remove(&id.to_owned());
    }

    pub fn org(&self, handle: &Handle) -> Option<Arc<OrgRecord>> {
        self.orgs.get(handle)
    }

    pub fn put_org(&self, org: OrgRecord) -> Arc<OrgRecord> {
        let org = Arc::new(org);
        self.orgs.insert(org.handle.clone(), org.clone());
        org
    }

    /// Drops an org (whatever handle it is cached under: a rename changes it) and every
    /// membership cached for it.
    pub fn drop_org(&self, id: &str) {
        self.orgs.retain(|_, org| org.id != id);
        self.memberships.retain(|(org_id, _), _| org_id != id);
    }

    pub fn membership(&self, org_id: &str, user_id: &str) -> Option<Arc<Option<MembershipRecord>>> {
        self.memberships
            .get(&(org_id.to_owned(), user_id.to_owned()))
    }

    pub fn put_membership(
        &self,
        org_id: &str,
        user_id: &str,
        membership: Option<MembershipRecord>,
    ) -> Arc<Option<MembershipRecord>> {
        let membership = Arc::new(membership);
        self.memberships
            .insert((org_id.to_owned(), user_id.to_owned()), membership.clone());
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
        self.token_hashes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
