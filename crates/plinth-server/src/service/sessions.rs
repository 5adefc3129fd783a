//! A user's own login sessions (temporary tokens from console, API and CLI logins): the
//! list the Security page shows, and signing one of them out. Signing out all of them
//! at once is `accounts::reset_auth` (O(1), whatever their number).

use plinth_core::AuditAction;
use plinth_store::TokenRecord;
use serde_json::json;

use crate::api::extract::ClientMeta;
use crate::audit::{self, AuditContext, AuditEvent};
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::runtime::invalidate::Invalidation;
use crate::runtime::state::AppState;

/// More than anyone keeps open; the oldest beyond it are not listed (and still work).
pub const LIST_LIMIT: u32 = 100;

/// The caller's sessions that still work, newest first: exactly those the guard accepts
/// (not revoked, not expired, authenticated after the last sign-out-everywhere).
pub async fn list(state: &AppState, actor: &Actor) -> ApiResult<Vec<TokenRecord>> {
    Ok(state
        .store
        .list_live_sessions(
            &actor.user.id,
            state.now(),
            actor.user.token_min_issued_at,
            LIST_LIMIT,
        )
        .await?)
}

/// Ends the caller's session `id` (the caller's own current one included: that is a
/// logout). Another user's session, a user token or an unknown id is 404.
pub async fn sign_out(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    id: &str,
) -> ApiResult<TokenRecord> {
    // A leaked API token must not be a way to cut its owner's sessions.
    actor.require_login_session("signing out a session")?;
    let inv = Invalidation::Token(id.to_owned());
    let mut tx = state.store.begin().await?;
    let session = tx
        .session_for_update(&actor.user.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tx.revoke_token(id, state.now()).await?;
    let event = AuditEvent::user(AuditAction::AuthLogout, &actor.user)
        .target("token", &session.id, None)
        .data(json!({
            "last4": session.last4,
            "client": session.origin.client,
            "by_another_session": session.id != actor.token.id,
        }));
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(session)
}
