//! `?limit=&cursor=` for keyset-paginated lists. A cursor is the last item's id,
//! base64url-encoded so clients treat it as opaque.

use plinth_api::PageQuery;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: u32 = 25;
pub const MAX_LIMIT: u32 = 100;

pub struct PageRequest {
    pub limit: u32,
    /// The id to continue after.
    pub after: Option<String>,
}

/// `?limit=`: 1–100, default 25.
pub fn parse_limit(limit: Option<u32>) -> ApiResult<u32> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n @ 1..=MAX_LIMIT) => Ok(n),
        Some(_) => Err(ApiError::validation(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

impl PageRequest {
    pub fn from_query(query: &PageQuery) -> ApiResult<Self> {
        let limit = parse_limit(query.limit)?;
        let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }
}

pub fn encode_cursor(id: &str) -> String {
    plinth_core::cursor::encode_id(id)
}

fn decode_cursor(cursor: &str) -> ApiResult<String> {
    plinth_core::cursor::decode_id(cursor).map_err(|e| ApiError::validation("cursor", e.0))
}
