use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// One recorded action.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The org whose log holds the entry (none in a user's own log).
    pub org_id: Option<String>,
    /// The org's handle when the entry was written.
    pub org_handle: Option<String>,
    pub actor_id: Option<String>,
    pub actor_handle: Option<String>,
    pub actor_ip: Option<String>,
    pub user_agent: Option<String>,
    /// `<resource>[.<sub>].<verb>`, e.g. `org.handle.update`.
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_handle: Option<String>,
    /// Before/after of the changed fields (`{"field": {"before": …, "after": …}}`), or
    /// the facts of a creation or deletion. Never a secret.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub request_id: Option<String>,
    /// Position in the log's hash chain.
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// Filters of the audit log and its export, with the list's `?limit=&cursor=` and the
/// export's `?format=`. All are optional and combine with AND. The list refuses `format`
/// and the export `limit` and `cursor`; each documents only its own (the export's are
/// [`AuditExportParams`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// An action (`org.update`) or a prefix (`org.member.*`).
    #[param(schema_with = action_filter)]
    pub action: Option<String>,
    /// The actor's handle.
    #[param(schema_with = crate::limits::handle)]
    pub actor: Option<String>,
    /// The target's handle or id.
    #[param(schema_with = target_filter)]
    pub target: Option<String>,
    /// RFC 3339; entries at or after this instant.
    #[param(schema_with = crate::limits::rfc3339)]
    pub since: Option<String>,
    /// RFC 3339; entries before this instant.
    #[param(schema_with = crate::limits::rfc3339)]
    pub until: Option<String>,
    /// 1–100, default 25.
    #[param(schema_with = crate::limits::page_limit)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Export only.
    #[param(ignore)]
    pub format: Option<String>,
}

/// The query of `GET /orgs/{org}/audit-log/export`: the list's filters and the format.
/// For the document only: the handler reads [`AuditQuery`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditExportParams {
    /// An action (`org.update`) or a prefix (`org.member.*`).
    #[param(schema_with = action_filter)]
    pub action: Option<String>,
    /// The actor's handle.
    #[param(schema_with = crate::limits::handle)]
    pub actor: Option<String>,
    /// The target's handle or id.
    #[param(schema_with = target_filter)]
    pub target: Option<String>,
    /// RFC 3339; entries at or after this instant.
    #[param(schema_with = crate::limits::rfc3339)]
    pub since: Option<String>,
    /// RFC 3339; entries before this instant.
    #[param(schema_with = crate::limits::rfc3339)]
    pub until: Option<String>,
    /// `csv` (default) or `jsonl` (JSON Lines).
    #[param(schema_with = export_format)]
    pub format: Option<String>,
}

/// `plinth_core::ActionFilter`: a name of at most 64 characters (lowercase words joined
/// by dots), alone or followed by `.*`. Surrounding spaces are ignored.
fn action_filter() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let name = "[a-z]+(?:\\.[a-z]+)*";
    let form = |pattern: String, max: usize| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .max_length(Some(max))
            .build()
    };
    let any_of = AnyOfBuilder::new()
        .item(form(format!("^{name}$"), 64))
        .item(form(format!("^{name}\\.\\*$"), 66))
        .description(Some(
            "An action such as `org.update`, or a prefix such as `org.member.*` \
             (lowercase letters and dots, at most 64 characters before `.*`)",
        ))
        .build();
    utoipa::openapi::Schema::AnyOf(any_of)
}

fn target_filter() -> utoipa::openapi::Object {
    let ws = crate::limits::ws();
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(format!(
            "^[{ws}]*[^{ws}](?:[\\s\\S]{{0,126}}[^{ws}])?[{ws}]*$"
        )))
        .description(Some("A handle or an id, 1–128 characters once trimmed"))
        .build()
}

fn export_format() -> utoipa::openapi::Object {
    crate::limits::one_of(&["csv", "jsonl"], "`csv` (default) or `jsonl` (JSON Lines)")
}

/// The outcome of checking a log's hash chain.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditVerification {
    /// Whether every entry links to the one before it and matches its hash.
    pub ok: bool,
    /// Entries checked (those kept since the last retention checkpoint).
    pub entries: u64,
    /// The hash of the newest entry.
    pub head: Option<String>,
    /// Where the chain breaks, when it does.
    pub first_broken: Option<AuditBreak>,
    /// With `?head=`: whether that earlier head is still in the chain (if it is not,
    /// `ok` is false: entries were removed or rewritten since it was saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_head_found: Option<bool>,
}

/// `GET /orgs/{org}/audit-log/verify?head=`: a head hash saved earlier, to prove it is
/// still in the chain.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// A `head` from an earlier verify (64 hex characters).
    #[param(pattern = "^[0-9A-Fa-f]{64}$")]
    pub head: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditBreak {
    /// The position in the chain.
    pub seq: i64,
    /// The entry found there, if any.
    pub id: Option<String>,
    pub reason: String,
}
