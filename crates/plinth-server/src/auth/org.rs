//! The org guard: every route under `/orgs/{org}` declares one of [`OrgMember`] or
//! [`OrgOwner`] (or takes an [`OrgAccess`] and calls [`OrgAccess::require`]).
//!
//! It answers DESIGN.md §2 in one place: anonymous 401, non-member (an invitee too) 404
//! so an org's existence does not leak, member 403 where owners only, and 401
//! `auth-reset` for a token issued at or before the org's `token_min_issued_at`.
//! Both look-ups (org by handle, membership) come from [`crate::runtime::cache::AuthCache`], so a
//! warm request reads nothing from the database.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use plinth_core::{Handle, OrgPermission, OrgRole};
use plinth_store::{MembershipRecord, MembershipStatus, OrgRecord};

use super::Actor;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;

/// An authenticated caller who is an active member of the org the path names.
#[derive(Clone, Debug)]
pub struct OrgAccess {
    pub actor: Actor,
    pub org: Arc<OrgRecord>,
    pub membership: Arc<MembershipRecord>,
}

impl OrgAccess {
    /// Resolves `org_handle` for `actor`: the guard's whole logic, shared with any other
    /// interface (the console) that needs it.
    pub async fn resolve(state: &AppState, actor: Actor, org_handle: &str) -> ApiResult<Self> {
        let (org, membership) = active_membership(state, &actor, org_handle).await?;
        // After the membership check, so a non-member learns nothing from it either.
        actor.check_org_reset(&org)?;
        // Metered in memory, flushed in batches: no write on the request path.
        state.usage.count(
            &org.id,
            None,
            crate::usage::meter::API_REQUESTS,
            state.now(),
        );
        Ok(Self {
            actor,
            org,
            membership,
        })
    }

    pub fn role(&self) -> OrgRole {
        self.membership.role
    }

    /// 403 unless the caller's role allows `permission`.
    pub fn require(&self, permission: OrgPermission) -> ApiResult<()> {
        if self.role().can(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "only owners of \"{}\" may do this",
                self.org.handle
            )))
        }
    }
}

/// The org named `org_handle` and `actor`'s active membership of it, from the caches:
/// 404 for an unknown org, a non-member and an invitee alike.
async fn active_membership(
    state: &AppState,
    actor: &Actor,
    org_handle: &str,
) -> ApiResult<(Arc<OrgRecord>, Arc<MembershipRecord>)> {
    // An invalid handle cannot name an org: the same answer as an unknown one.
    let handle = Handle::parse(org_handle).map_err(|_| no_such_org())?;
    let org = match state.cache.org(&handle) {
        Some(org) => org,
        None => {
            state.metrics.auth_cache_misses.inc();
            let ticket = state.cache.ticket();
            let org = state
                .store
                .org_by_handle(&handle)
                .await?
                .ok_or_else(no_such_org)?;
            state.cache.put_org(ticket, org)
        }
    };
    let membership = match state.cache.membership(&org.id, &actor.user.id) {
        Some(m) => m,
        None => {
            state.metrics.auth_cache_misses.inc();
            let ticket = state.cache.ticket();
            let m = state.store.membership(&org.id, &actor.user.id).await?;
            state
                .cache
                .put_membership(ticket, &org.id, &actor.user.id, m)
        }
    };
    let membership = match membership {
        Some(m) if m.status == MembershipStatus::Active => m,
        _ => return Err(no_such_org()),
    };
    Ok((org, membership))
}

/// An old handle during a rename's grace period: the new one, to answer 308 with the
/// same path under it (the new path then applies the guard again), for the org's
/// members only: anyone else must not learn the new handle. Shared with the console.
pub async fn moved_to(state: &AppState, actor: &Actor, old: &str) -> Option<String> {
    let now_us = plinth_store::time_to_micros(state.now());
    match state.directory.renamed_to(old, now_us) {
        Some(new) if active_membership(state, actor, &new).await.is_ok() => Some(new),
        _ => None,
    }
}

/// `uri`'s path and query with the segment after `/orgs/` replaced by `new`, however
/// the old one was spelled (`%61cme` is `acme` too: a textual match would redirect such a
/// path to itself for ever).
pub fn moved_path(uri: &axum::http::Uri, new: &str) -> String {
    let mut segments: Vec<&str> = uri.path().split('/').collect();
    if let Some(at) = segments.iter().position(|s| *s == "orgs")
        && at + 1 < segments.len()
    {
        segments[at + 1] = new;
    }
    let path = segments.join("/");
    match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    }
}

fn no_such_org() -> ApiError {
    ApiError::not_found().detail("no such organization, or you are not a member of it")
}

impl FromRequestParts<AppState> for OrgAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Authentication first: anonymous callers get 401 whatever the org.
        let actor = Actor::from_request_parts(parts, state).await?;
        // A segment that is not UTF-8 once decoded (`/orgs/%FF`) names no org.
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| no_such_org())?;
        let org = params
            .iter()
            .find(|(key, _)| *key == "org")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| ApiError::internal("org guard on a route without {org}"))?;
        match Self::resolve(state, actor.clone(), &org).await {
            Err(err) if err.status == axum::http::StatusCode::NOT_FOUND => {
                match moved_to(state, &actor, &org).await {
                    Some(new) => {
                        // Inside `/api/v1` the router sees the path without its prefix.
                        let uri = parts
                            .extensions
                            .get::<axum::extract::OriginalUri>()
                            .map_or(&parts.uri, |original| &original.0);
                        Err(ApiError::moved(&moved_path(uri, &new)))
                    }
                    None => Err(err),
                }
            }
            other => other,
        }
    }
}

/// An active member of the org in the path: may view it.
#[derive(Clone, Debug)]
pub struct OrgMember(pub OrgAccess);

/// An active owner of the org in the path: may manage it.
#[derive(Clone, Debug)]
pub struct OrgOwner(pub OrgAccess);

impl Deref for OrgMember {
    type Target = OrgAccess;
    fn deref(&self) -> &OrgAccess {
        &self.0
    }
}

impl Deref for OrgOwner {
    type Target = OrgAccess;
    fn deref(&self) -> &OrgAccess {
        &self.0
    }
}

/// The same checks as the extractors, for an interface (the console) that resolved the
/// access itself with [`OrgAccess::resolve`].
impl TryFrom<OrgAccess> for OrgMember {
    type Error = ApiError;

    fn try_from(access: OrgAccess) -> Result<Self, ApiError> {
        access.require(OrgPermission::View)?;
        Ok(Self(access))
    }
}

impl TryFrom<OrgAccess> for OrgOwner {
    type Error = ApiError;

    fn try_from(access: OrgAccess) -> Result<Self, ApiError> {
        access.require(OrgPermission::Manage)?;
        Ok(Self(access))
    }
}

impl FromRequestParts<AppState> for OrgMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        OrgAccess::from_request_parts(parts, state)
            .await?
            .try_into()
    }
}

impl FromRequestParts<AppState> for OrgOwner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        OrgAccess::from_request_parts(parts, state)
            .await?
            .try_into()
    }
}
