//! Console sessions: the `plinth_session` cookie holds a temporary token from a login,
//! and every page authenticates it with the API's own [`crate::auth::authenticate`], so
//! expiry, revocation, sign-out-everywhere and org resets apply unchanged.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::chrome::Chrome;
use super::cookies;
use super::error::ConsoleError;
use crate::auth::{self, Actor};
use crate::error::ApiError;
use crate::runtime::state::AppState;

/// Anyone: signed in or not. The layout is ready for either.
pub struct Visitor {
    pub actor: Option<Actor>,
    pub chrome: Chrome,
}

/// A signed-in user. Without a valid session the page answers 303 to `/login?next=…`.
pub struct SignedIn {
    pub actor: Actor,
    pub chrome: Chrome,
}

/// Why the login page is shown: a fixed set, so the page never echoes free text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    SignedOut,
    Expired,
    Revoked,
    AccountReset,
    OrgReset,
    Required,
}

impl Reason {
    pub fn slug(self) -> &'static str {
        match self {
            Self::SignedOut => "signed-out",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::AccountReset => "account-reset",
            Self::OrgReset => "auth-reset",
            Self::Required => "required",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        [
            Self::SignedOut,
            Self::Expired,
            Self::Revoked,
            Self::AccountReset,
            Self::OrgReset,
            Self::Required,
        ]
        .into_iter()
        .find(|r| r.slug() == slug)
    }

    /// Why a token was refused, from the guard's problem type.
    pub fn of(err: &ApiError) -> Self {
        match err.problem_type {
            "token-expired" => Self::Expired,
            "token-revoked" => Self::Revoked,
            // The account-wide reset; an org's reset comes from the org guard.
            "auth-reset" => Self::AccountReset,
            _ => Self::Required,
        }
    }
}

/// The session cookie's token, authenticated. `None` without a cookie; the guard's
/// refusal for a cookie it does not accept.
async fn session_actor(state: &AppState, headers: &HeaderMap) -> Option<Result<Actor, ApiError>> {
    let secret = auth::session_token(headers, cookies::SESSION)?;
    Some(match secret {
        Ok(secret) => auth::authenticate(state, &secret).await,
        Err(err) => Err(err),
    })
}

/// `next` if it is a path on this site, else `None`: `/x`, never `//x`, `/\x` or
/// `https://…`, so a login link cannot send anyone elsewhere.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(next)
}

/// The path and query the browser asked for (outside any nesting).
pub fn requested_path(parts: &Parts) -> String {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned())
}

/// 303 to the login page, coming back to `next` after it. `org` names the org whose
/// reset sent the user here.
pub fn to_login(next: Option<&str>, reason: Reason, org: Option<&str>) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(next) = next.and_then(local_path).filter(|n| *n != "/") {
        query.append_pair("next", next);
    }
    if reason != Reason::Required {
        query.append_pair("reason", reason.slug());
    }
    if let Some(org) = org {
        query.append_pair("org", org);
    }
    let query = query.finish();
    let location = if query.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?{query}")
    };
    see_other(&location)
}

/// 303 See Other to a local `location`.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = match session_actor(state, &parts.headers).await {
            Some(Ok(actor)) => Some(actor),
            _ => None,
        };
        let chrome = Chrome::load(state, &parts.headers, actor.as_ref()).await;
        Ok(Self { actor, chrome })
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ConsoleError> {
        let next = requested_path(parts);
        match session_actor(state, &parts.headers).await {
            Some(Ok(actor)) => {
                let chrome = Chrome::load(state, &parts.headers, Some(&actor)).await;
                Ok(Self { actor, chrome })
            }
            Some(Err(err)) if err.status == StatusCode::UNAUTHORIZED => {
                let mut response = to_login(Some(&next), Reason::of(&err), None);
                response.headers_mut().append(
                    header::SET_COOKIE,
                    cookies::clear(&parts.headers, cookies::SESSION),
                );
                Err(ConsoleError::Response(response))
            }
            Some(Err(err)) => Err(ConsoleError::from_api(&err)),
            None => Err(ConsoleError::Response(to_login(
                Some(&next),
                Reason::Required,
                None,
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_come_back() {
        for ok in [
            "/",
            "/orgs/acme",
            "/orgs/acme/settings/usage?from=2026-01-01",
        ] {
            assert_eq!(local_path(ok), Some(ok));
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "evil",
            "",
            "/a b",
            "/\nx",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reasons_round_trip() {
        for r in [Reason::SignedOut, Reason::Expired, Reason::OrgReset] {
            assert_eq!(Reason::parse(r.slug()), Some(r));
        }
        assert_eq!(Reason::parse("<script>"), None);
    }

    #[test]
    fn the_login_redirect_keeps_next() {
        let r = to_login(Some("/orgs/acme?x=1"), Reason::OrgReset, Some("acme"));
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/login?next=%2Forgs%2Facme%3Fx%3D1&reason=auth-reset&org=acme"
        );
        let r = to_login(Some("//evil"), Reason::Required, None);
        assert_eq!(r.headers()[header::LOCATION], "/login");
    }
}
