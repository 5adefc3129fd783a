use plinth_api::{CreateTokenRequest, UpdateTokenRequest};
use plinth_core::{AuditAction, TokenKind, TokenSecret};
use plinth_store::{NewToken, TokenOrigin, TokenPage, TokenRecord, TokenStatus, TokenUpdate};
use serde_json::json;

use crate::api::extract::ClientMeta;
use crate::audit::{self, AuditContext, AuditEvent, Changes, time_value};
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::runtime::invalidate::Invalidation;
use crate::runtime::state::AppState;
use crate::service::accounts::issue_time;

/// Live user tokens a user may hold at once.
pub const MAX_USER_TOKENS: i64 = 10;
const MAX_TITLE_CHARS: usize = 100;
const MAX_DESCRIPTION_CHARS: usize = 1000;
const MAX_EXPIRY_DAYS: u32 = 3650;

fn parse_title(title: &str) -> ApiResult<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(ApiError::validation("title", "must not be empty"));
    }
    if title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters, without control characters"),
        ));
    }
    Ok(title.to_owned())
}

fn parse_description(description: &str) -> ApiResult<Option<String>> {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::validation(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok((!description.is_empty()).then(|| description.to_owned()))
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    after: Option<&str>,
    limit: u32,
) -> ApiResult<TokenPage> {
    Ok(state
        .store
        .list_user_tokens(&actor.user.id, after, limit)
        .await?)
}

/// One of the caller's live user tokens (404 for anyone else's, or a deleted one).
pub async fn show(state: &AppState, actor: &Actor, id: &str) -> ApiResult<TokenRecord> {
    state
        .store
        .user_token(&actor.user.id, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

pub async fn create(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    req: CreateTokenRequest,
) -> ApiResult<(TokenSecret, TokenRecord)> {
    actor.require_login_session("creating a user token")?;
    let title = parse_title(&req.title)?;
    let description = match &req.description {
        Some(d) => parse_description(d)?,
        None => None,
    };
    let now = issue_time(state, &actor.user);
    let expires_at = match req.expires_in_days {
        None => None,
        Some(days @ 1..=MAX_EXPIRY_DAYS) => Some(now + time::Duration::days(i64::from(days))),
        Some(_) => {
            return Err(ApiError::validation(
                "expires_in_days",
                format!("must be between 1 and {MAX_EXPIRY_DAYS}"),
            ));
        }
    };
    let secret = TokenSecret::generate(TokenKind::User);
    let mut tx = state.store.begin().await?;
    // Locks the user's row on PostgreSQL, so two concurrent creates can't both pass the cap.
    tx.user_for_update(&actor.user.id).await?;
    if tx.count_live_user_tokens(&actor.user.id).await? >= MAX_USER_TOKENS {
        return Err(ApiError::conflict(format!(
            "you already have {MAX_USER_TOKENS} user tokens; delete one first"
        )));
    }
    let token = tx
        .insert_token(
            NewToken {
                user_id: actor.user.id.clone(),
                kind: TokenKind::User,
                hash: secret.hash(),
                last4: secret.last4(),
                title: Some(title),
                description,
                expires_at,
                // A user token is only as fresh as the login that made it: a session a
                // reset refused cannot mint a token that the reset accepts.
                authenticated_at: actor.authenticated_at_us(),
                origin: TokenOrigin {
                    ip: meta.ip.map(|ip| ip.to_string()),
                    client: None,
                    user_agent: meta.user_agent.clone(),
                },
            },
            now,
        )
        .await?;
    let event = AuditEvent::user(AuditAction::TokenCreate, &actor.user)
        .target("token", &token.id, token.title.as_deref())
        .data(json!({
            "title": token.title,
            "description": token.description,
            "last4": token.last4,
            "expires_at": token.expires_at.map(time_value),
        }));
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    tx.commit().await?;
    Ok((secret, token))
}

pub async fn update(
    state: &AppState,
    meta: &ClientMeta,
    actor: &Actor,
    id: &str,
    req: UpdateTokenRequest,
) -> ApiResult<TokenRecord> {
    actor.require_login_session("changing a user token")?;
    let update = TokenUpdate {
        status: req.status.map(|s| match s {
            plinth_api::TokenStatus::Active => TokenStatus::Active,
            plinth_api::TokenStatus::Inactive => TokenStatus::Inactive,
        }),
        title: req.title.as_deref().map(parse_title).transpose()?,
        description: req
            .description
            .as_deref()
            .map(parse_description)
            .transpose()?,
    };
    let inv = Invalidation::Token(id.to_owned());
    let mut tx = state.store.begin().await?;
    let before = tx
        .user_token_for_update(&actor.user.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let token = tx
        .update_user_token(&actor.user.id, id, update)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let changes = Changes::new()
        .field("title", before.title.clone(), token.title.clone())
        .field("description", before.description, token.description.clone())
        .field("status", before.status.as_str(), token.status.as_str());
    let event = AuditEvent::user(AuditAction::TokenUpdate, &actor.user)
        .target("token", &token.id, token.title.as_deref())
        .changes(changes);
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(token)
}

pub async fn delete(state: &AppState, meta: &ClientMeta, actor: &Actor, id: &str) -> ApiResult<()> {
    actor.require_login_session("deleting a user token")?;
    let inv = Invalidation::Token(id.to_owned());
    let mut tx = state.store.begin().await?;
    let token = tx
        .user_token_for_update(&actor.user.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tx.revoke_token(id, state.now()).await?;
    let event = AuditEvent::user(AuditAction::TokenDelete, &actor.user)
        .target("token", &token.id, token.title.as_deref())
        .data(json!({ "title": token.title, "last4": token.last4 }));
    audit::record(state, &mut tx, &AuditContext::new(actor, meta), event).await?;
    state.commit_invalidating(tx, &inv).await?;
    Ok(())
}
