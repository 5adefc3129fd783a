//! CSRF protection for every console form, checked in one place: [`require_csrf`] runs
//! before any console handler that is not a GET or HEAD.
//!
//! A form's token is `HMAC-SHA256(key, purpose)`, base64url, where the key is a secret the
//! browser holds in an HttpOnly cookie that no other site can read or set:
//! - signed in: the session's own temporary token (`plinth_session`), so the token is
//!   bound to that session, changes with every login and dies with it;
//! - signed out (login, sign-up, `/device`): a random pre-session value
//!   (`plinth_presession`, SameSite=Strict).
//!
//! Nothing is stored and no server key exists, so any replica checks any form, and a
//! restart invalidates nothing. The token reveals nothing about the session token
//! (HMAC is one-way in its key). A cross-site POST carries neither cookie (SameSite),
//! and even with one it could not compute the token.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sha2::Sha256;

use super::cookies;
use super::error::ConsoleError;
use crate::api::extract::BODY_LIMIT;

/// The form field every console form carries.
pub const FIELD: &str = "csrf";

const SESSION_PURPOSE: &[u8] = b"plinth console csrf v1: session";
const PRESESSION_PURPOSE: &[u8] = b"plinth console csrf v1: pre-session";

fn mac(key: &str, purpose: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(purpose);
    mac
}

/// The token of forms shown to the holder of session token `session`.
pub fn for_session(session: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(session, SESSION_PURPOSE).finalize().into_bytes())
}

/// The token of signed-out forms shown to the holder of pre-session value `value`.
pub fn for_presession(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(value, PRESESSION_PURPOSE).finalize().into_bytes())
}

/// A fresh pre-session value: 32 base62 characters.
pub fn new_presession() -> String {
    const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// Whether `given` is the token of one of the secrets this request's cookies hold.
/// Compared in constant time (`verify_slice`).
pub fn valid(headers: &HeaderMap, given: &str) -> bool {
    let Ok(given) = URL_SAFE_NO_PAD.decode(given.trim()) else {
        return false;
    };
    let check = |cookie: &str, purpose: &[u8]| {
        cookies::get(headers, cookie)
            .is_some_and(|key| mac(key, purpose).verify_slice(&given).is_ok())
    };
    check(cookies::SESSION, SESSION_PURPOSE) || check(cookies::PRESESSION, PRESESSION_PURPOSE)
}

/// The `csrf` field of a form-encoded body.
fn form_token(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(key, _)| key == FIELD)
        .map(|(_, value)| value.into_owned())
}

/// Refuses (403, nothing runs) any console request that may change something and lacks
/// a valid token; passes the body on untouched otherwise.
pub async fn require_csrf(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return ConsoleError::too_large().into_response(),
    };
    let ok = form_token(&bytes).is_some_and(|token| valid(&parts.headers, &token));
    if !ok {
        return ConsoleError::csrf().into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, header};

    use super::*;

    fn with_cookie(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn a_token_is_bound_to_its_secret_and_purpose() {
        let session = with_cookie("plinth_session=plt_one");
        assert!(valid(&session, &for_session("plt_one")));
        assert!(!valid(&session, &for_session("plt_two")));
        // A pre-session token under the same secret is another purpose.
        assert!(!valid(&session, &for_presession("plt_one")));
        assert!(!valid(&session, ""));
        assert!(!valid(&session, "plt_one"));
        assert!(!valid(&HeaderMap::new(), &for_session("plt_one")));

        let pre = new_presession();
        let signed_out = with_cookie(&format!("plinth_presession={pre}"));
        assert!(valid(&signed_out, &for_presession(&pre)));
        assert!(!valid(&signed_out, &for_presession(&new_presession())));
    }

    #[test]
    fn the_token_does_not_show_the_secret() {
        let token = for_session("plt_secretsecret");
        assert!(!token.contains("secret"));
        assert_eq!(token.len(), 43);
    }
}
