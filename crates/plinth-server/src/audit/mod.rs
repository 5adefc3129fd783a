//! The audit recorder. Every mutating action and every sign-in event calls [`record`]
//! inside the write transaction of the change it records: both commit, or neither.
//!
//! `data` holds the before/after of the changed fields (see [`Changes`]) and never a
//! secret: callers pass field values explicitly, so a token value, password hash or CSRF
//! token can only get in by someone writing it in. Retention is in [`retention`].

pub mod retention;

use plinth_core::AuditAction;
use plinth_store::{NewAuditEntry, OrgRecord, UserRecord, WriteTx, org_chain, user_chain};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::extract::ClientMeta;
use crate::auth::Actor;
use crate::error::ApiResult;
use crate::runtime::state::AppState;

/// Who did it, and from where.
#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    pub actor_id: Option<String>,
    pub actor_handle: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl AuditContext {
    /// A request by an authenticated user.
    pub fn new(actor: &Actor, meta: &ClientMeta) -> Self {
        Self::for_user(&actor.user, meta)
    }

    /// A request on behalf of `user` (a login, a sign-up: no token yet).
    pub fn for_user(user: &UserRecord, meta: &ClientMeta) -> Self {
        Self {
            actor_id: Some(user.id.clone()),
            actor_handle: Some(user.handle.to_string()),
            ..Self::anonymous(meta)
        }
    }

    /// A request by nobody known yet.
    pub fn anonymous(meta: &ClientMeta) -> Self {
        Self {
            actor_id: None,
            actor_handle: None,
            ip: meta.ip.map(|ip| ip.to_string()),
            user_agent: meta.user_agent.clone(),
            request_id: meta.request_id.clone(),
        }
    }

    /// An instance administrator working on the database (`plinth admin`).
    pub fn admin() -> Self {
        Self {
            actor_handle: Some("plinth-admin".to_owned()),
            ..Self::default()
        }
    }
}

/// Which log an entry goes to.
#[derive(Debug, Clone)]
enum Scope {
    Org { id: String, handle: String },
    User { id: String },
}

/// One thing that happened, to be recorded.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    action: AuditAction,
    scope: Scope,
    target_type: Option<&'static str>,
    target_id: Option<String>,
    target_handle: Option<String>,
    data: Value,
}

impl AuditEvent {
    /// An entry in `org`'s log; the org is its target until [`Self::target`] says else.
    pub fn org(action: AuditAction, org: &OrgRecord) -> Self {
        Self {
            action,
            scope: Scope::Org {
                id: org.id.clone(),
                handle: org.handle.to_string(),
            },
            target_type: Some("org"),
            target_id: Some(org.id.clone()),
            target_handle: Some(org.handle.to_string()),
            data: Value::Object(Map::new()),
        }
    }

    /// An entry in a user's own log; the user is its target until [`Self::target`].
    pub fn user(action: AuditAction, user: &UserRecord) -> Self {
        Self {
            action,
            scope: Scope::User {
                id: user.id.clone(),
            },
            target_type: Some("user"),
            target_id: Some(user.id.clone()),
            target_handle: Some(user.handle.to_string()),
            data: Value::Object(Map::new()),
        }
    }

    pub fn target(mut self, kind: &'static str, id: &str, handle: Option<&str>) -> Self {
        self.target_type = Some(kind);
        self.target_id = Some(id.to_owned());
        self.target_handle = handle.map(str::to_owned);
        self
    }

    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }

    pub fn changes(self, changes: Changes) -> Self {
        self.data(changes.into_value())
    }
}

/// The before/after of changed fields: `{"field": {"before": …, "after": …}}`.
/// Fields whose value did not change are left out.
#[derive(Debug, Default)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn field(mut self, name: &str, before: impl Into<Value>, after: impl Into<Value>) -> Self {
        let (before, after) = (before.into(), after.into());
        if before != after {
            self.0
                .insert(name.to_owned(), json!({ "before": before, "after": after }));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// Writes `event` in `tx`. An error here fails the caller's action, whose transaction
/// then rolls back: no change goes unrecorded.
pub async fn record(
    state: &AppState,
    tx: &mut WriteTx,
    ctx: &AuditContext,
    event: AuditEvent,
) -> ApiResult<()> {
    record_at(tx, ctx, event, state.now()).await?;
    state.metrics.audit_entries.inc();
    Ok(())
}

/// [`record`] without a server: `plinth admin` works on the database directly.
pub async fn record_at(
    tx: &mut WriteTx,
    ctx: &AuditContext,
    event: AuditEvent,
    now: OffsetDateTime,
) -> plinth_store::Result<()> {
    let (chain, org_id, org_handle) = match event.scope {
        Scope::Org { id, handle } => (org_chain(&id), Some(id), Some(handle)),
        Scope::User { id } => (user_chain(&id), None, None),
    };
    tx.append_audit(
        NewAuditEntry {
            chain,
            org_id,
            org_handle,
            actor_id: ctx.actor_id.clone(),
            actor_handle: ctx.actor_handle.clone(),
            actor_ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.clone(),
            action: event.action.as_str().to_owned(),
            target_type: event.target_type.map(str::to_owned),
            target_id: event.target_id,
            target_handle: event.target_handle,
            data: event.data.to_string(),
            request_id: ctx.request_id.clone(),
        },
        now,
    )
    .await?;
    Ok(())
}

/// A time as it appears in `data`: RFC 3339, UTC.
pub fn time_value(t: OffsetDateTime) -> Value {
    t.format(&Rfc3339).map(Value::String).unwrap_or(Value::Null)
}
