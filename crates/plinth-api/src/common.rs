use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An RFC 9457 problem: every error answer of the API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A stable slug: `validation`, `unauthenticated`, `token-expired`, `token-revoked`,
    /// `auth-reset`, `forbidden`, `not-found`, `handle-taken`, `conflict`, `last-owner`,
    /// `confirmation-mismatch`, `rate-limited`, `payload-too-large`, `unavailable`, `internal`,
    /// and `moved` (a 308 to an org's new handle, with `Location`).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Per-field messages of a `validation` problem.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field, as a JSON path (`title`, `user.handle`).
    pub field: String,
    pub message: String,
}

/// One page of a list (newest first unless the endpoint says otherwise). Pass
/// `next_cursor` as `?cursor=` for the next page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 25.
    #[param(schema_with = crate::limits::page_limit)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}
