//! `last_used_at` of tokens, kept without a database write per request.
//!
//! A use is noted in memory at most once a minute per token; a background task writes
//! the noted uses in one batch (and once more at shutdown).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::runtime::state::AppState;

pub const RECORD_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct LastUsed {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    noted_at: HashMap<String, Instant>,
    pending: HashMap<String, OffsetDateTime>,
}

impl LastUsed {
    pub fn note(&self, token_id: &str, at: OffsetDateTime) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let due = inner
            .noted_at
            .get(token_id)
            .is_none_or(|noted| noted.elapsed() >= RECORD_EVERY);
        if due {
            if inner.noted_at.len() > 200_000 {
                inner.noted_at.retain(|_, t| t.elapsed() < RECORD_EVERY);
            }
            inner.noted_at.insert(token_id.to_owned(), Instant::now());
            inner.pending.insert(token_id.to_owned(), at);
        }
    }

    /// Takes the uses noted since the last call.
    pub fn take(&self) -> Vec<(String, OffsetDateTime)> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.pending.drain().collect()
    }
}

/// Writes the token uses noted since the last flush, in one transaction.
pub async fn flush_token_uses(state: &AppState) {
    let uses = state.last_used.take();
    if uses.is_empty() {
        return;
    }
    if let Err(err) = state.store.touch_tokens(&uses).await {
        tracing::warn!(error = %err, count = uses.len(), "could not record token uses");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_once_a_minute_per_token() {
        let last_used = LastUsed::default();
        let now = OffsetDateTime::now_utc();
        last_used.note("a", now);
        last_used.note("a", now);
        last_used.note("b", now);
        let mut taken = last_used.take();
        taken.sort();
        assert_eq!(taken.len(), 2);
        last_used.note("a", now);
        assert!(last_used.take().is_empty());
    }
}
