//! Who is calling: the guard every authenticated route declares by taking an [`Actor`].

pub mod org;
pub mod password;
pub mod rate_limit;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use plinth_core::{TokenKind, TokenSecret};
use plinth_store::{OrgRecord, TokenRecord, TokenStatus, UserRecord};

use crate::error::ApiError;
use crate::runtime::state::AppState;

/// An authenticated caller: the user and the token they presented.
///
/// Taking an `Actor` is how a handler says it needs authentication; it cannot forget.
/// A warm request (token and user in the caches) reads nothing from the database.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: Arc<UserRecord>,
    pub token: Arc<TokenRecord>,
}

impl Actor {
    /// Refuses callers holding a user (API) token: some actions need a login session.
    pub fn require_login_session(&self, what: &str) -> Result<(), ApiError> {
        match self.token.kind {
            TokenKind::Temporary => Ok(()),
            TokenKind::User => Err(ApiError::forbidden(format!(
                "{what} needs a login session (console or `plinth login`), not a user token"
            ))),
        }
    }

    /// When the caller last proved who they are (unix µs): what resets compare with
    /// (DESIGN.md §1). A user token or an approved CLI login inherits it from the login
    /// session that made it, so a session a reset refuses cannot mint a fresh credential.
    pub fn authenticated_at_us(&self) -> i64 {
        self.token.authenticated_at
    }

    /// Refuses the caller (401 `auth-reset`) if `org` was reset since they last proved
    /// who they are (DESIGN.md §3, "Reset authentication"). Every path to an org's
    /// resources asks this: the org guard, invitations, workspace hosts, the org list.
    pub fn check_org_reset(&self, org: &OrgRecord) -> Result<(), ApiError> {
        if self.refused_by(org) {
            return Err(ApiError::auth_reset(&format!(
                "the organization \"{}\"",
                org.handle
            )));
        }
        Ok(())
    }

    /// Whether `org`'s reset refuses the presented token.
    pub fn refused_by(&self, org: &OrgRecord) -> bool {
        self.authenticated_at_us() <= org.token_min_issued_at
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer_token(parts)?;
        authenticate(state, &secret).await
    }
}

fn bearer_token(parts: &Parts) -> Result<TokenSecret, ApiError> {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthenticated("send an Authorization: Bearer <token> header"))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthenticated("the Authorization header is not valid"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthenticated("expected Authorization: Bearer <token>"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthenticated(
            "expected Authorization: Bearer <token>",
        ));
    }
    // The checksum rejects garbage here, before any look-up.
    TokenSecret::parse(token.trim())
        .map_err(|e| ApiError::unauthenticated(format!("not a valid Plinth token: {e}")))
}

/// The console's session: a temporary token in cookie `cookie` (`None` without one).
/// The caller then goes through [`authenticate`] like a bearer token.
pub fn session_token(
    headers: &axum::http::HeaderMap,
    cookie: &str,
) -> Option<Result<TokenSecret, ApiError>> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == cookie && !value.is_empty())
        .map(|(_, value)| value)?;
    Some(match TokenSecret::parse(value.trim()) {
        Ok(secret) if secret.kind() == TokenKind::Temporary => Ok(secret),
        _ => Err(ApiError::unauthenticated("the session cookie is not valid")),
    })
}

/// Resolves a token to an actor: caches first, the database on a miss.
pub async fn authenticate(state: &AppState, secret: &TokenSecret) -> Result<Actor, ApiError> {
    let hash = secret.hash();
    let token = match state.cache.token(&hash) {
        Some(token) => token,
        None => {
            state.metrics.auth_cache_misses.inc();
            let ticket = state.cache.ticket();
            let token = state
                .store
                .token_by_hash(&hash)
                .await?
                .ok_or_else(|| ApiError::unauthenticated("this token is not known"))?;
            state.cache.put_token(ticket, hash, token)
        }
    };
    if token.kind != secret.kind() {
        return Err(ApiError::unauthenticated("this token is not known"));
    }
    if token.revoked_at.is_some() || token.status == TokenStatus::Inactive {
        return Err(ApiError::token_revoked());
    }
    let now = state.now();
    if token.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiError::token_expired());
    }
    let user = match state.cache.user(&token.user_id) {
        Some(user) => {
            state.metrics.auth_cache_hits.inc();
            user
        }
        None => {
            state.metrics.auth_cache_misses.inc();
            let ticket = state.cache.ticket();
            let user = state
                .store
                .user_by_id(&token.user_id)
                .await?
                .ok_or_else(|| ApiError::unauthenticated("this token's user no longer exists"))?;
            state.cache.put_user(ticket, user)
        }
    };
    // From the cached user: a disabled account costs a warm request no read. Disabling
    // invalidates the user's entry (`service::admin::set_user_disabled`).
    if user.disabled_at.is_some() {
        return Err(ApiError::account_disabled());
    }
    if token.authenticated_at <= user.token_min_issued_at {
        return Err(ApiError::auth_reset("your account"));
    }
    state.last_used.note(&token.id, now);
    Ok(Actor { user, token })
}
