//! Domain records → API bodies.

use plinth_store::{TokenRecord, TokenStatus, UserRecord};

pub fn user(user: &UserRecord) -> plinth_api::User {
    plinth_api::User {
        id: user.id.clone(),
        handle: user.handle.to_string(),
        email: user.email.to_string(),
        display_name: user.display_name.clone(),
        avatar_url: user.avatar_url.clone(),
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

pub fn token_status(status: TokenStatus) -> plinth_api::TokenStatus {
    match status {
        TokenStatus::Active => plinth_api::TokenStatus::Active,
        TokenStatus::Inactive => plinth_api::TokenStatus::Inactive,
    }
}

pub fn token(token: &TokenRecord) -> plinth_api::Token {
    plinth_api::Token {
        id: token.id.clone(),
        title: token.title.clone().unwrap_or_default(),
        description: token.description.clone(),
        status: token_status(token.status),
        last4: token.last4.clone(),
        expires_at: token.expires_at,
        last_used_at: token.last_used_at,
        created_at: token.created_at,
    }
}
