//! The caches that let a warm authenticated request answer without the database.
//!
//! Entries live at most [`CACHE_TTL`]; every change that could make one wrong (logout,
//! token update or delete, profile change, sign out everywhere) drops it at once, on
//! this replica directly and on the others through [`crate::invalidate`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use plinth_core::TokenHash;
use plinth_store::{TokenRecord, UserRecord};

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
}

/// Tokens by hash, and users by id.
pub struct AuthCache {
    tokens: TtlMap<TokenHash, TokenRecord>,
    /// token id → hash, so a token can be dropped by id (that is what revocations name).
    token_hashes: RwLock<HashMap<String, TokenHash>>,
    users: TtlMap<String, UserRecord>,
}

impl Default for AuthCache {
    fn default() -> Self {
        Self {
            tokens: TtlMap::new(),
            token_hashes: RwLock::new(HashMap::new()),
            users: TtlMap::new(),
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

    /// Drops everything: after a replica may have missed invalidations.
    pub fn clear(&self) {
        self.tokens.clear();
        self.users.clear();
        self.token_hashes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
