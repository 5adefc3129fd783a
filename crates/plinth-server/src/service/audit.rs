//! Reading the audit log: filters, keyset pages, verification and the streamed export.

use axum::body::{Body, Bytes};
use plinth_api::AuditQuery;
use plinth_core::{AuditFilter, AuditFilterInput};
use plinth_store::{AuditPage, AuditRecord, ChainVerification};
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use crate::api::pagination::parse_limit;
use crate::api::views;
use crate::error::{ApiError, ApiResult};
use crate::runtime::state::AppState;

/// The store query for `filters` on `chain`; every bad filter is a 400 `validation`.
pub fn store_query(chain: String, filters: &AuditQuery) -> ApiResult<plinth_store::AuditQuery> {
    let filter = AuditFilter::parse(&AuditFilterInput {
        action: filters.action.as_deref(),
        actor: filters.actor.as_deref(),
        target: filters.target.as_deref(),
        since: filters.since.as_deref(),
        until: filters.until.as_deref(),
        cursor: filters.cursor.as_deref(),
    })
    .map_err(|(field, invalid)| ApiError::validation(field, invalid.0))?;
    let limit = parse_limit(filters.limit)?;
    Ok(plinth_store::AuditQuery {
        chain,
        actions: filter.actions,
        actor_handle: filter.actor_handle,
        target: filter.target,
        since_us: filter.since_us,
        until_us: filter.until_us,
        before_seq: filter.before_seq,
        from_seq: None,
        limit,
    })
}

pub fn encode_cursor(seq: i64) -> String {
    plinth_core::cursor::encode_seq(seq)
}

pub async fn page(state: &AppState, query: &plinth_store::AuditQuery) -> ApiResult<AuditPage> {
    Ok(state.store.audit_page(query).await?)
}

pub async fn verify(
    state: &AppState,
    chain: &str,
    known_head: Option<&str>,
) -> ApiResult<ChainVerification> {
    if let Some(head) = known_head
        && (head.len() != 64 || !head.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(ApiError::validation(
            "head",
            "must be a head hash from an earlier verify: 64 hex characters",
        ));
    }
    let known_head = known_head.map(str::to_ascii_lowercase);
    Ok(state
        .store
        .verify_audit_chain_from(chain, known_head.as_deref())
        .await?)
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub fn parse(value: Option<&str>) -> ApiResult<Self> {
        match value.map(str::trim) {
            None | Some("csv") => Ok(Self::Csv),
            Some("jsonl") => Ok(Self::Jsonl),
            Some(_) => Err(ApiError::validation("format", "must be `csv` or `jsonl`")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Jsonl => "application/jsonl; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

const CSV_HEADER: &str = "id,created_at,org_handle,actor_handle,actor_ip,user_agent,action,\
                          target_type,target_id,target_handle,data,request_id,seq,hash\n";

/// The whole filtered log as a body that is produced while it is sent.
///
/// The chain's positions are cut into windows of [`EXPORT_WINDOW`] (newest first); up to
/// [`EXPORT_READERS`] windows are read at once, on separate connections, and written in
/// order. The response is fed through a channel of two chunks, so a slow client slows the
/// reads instead of filling memory: at most `EXPORT_READERS + 2` windows are held at a time.
pub fn export_body(
    state: &AppState,
    query: plinth_store::AuditQuery,
    format: ExportFormat,
) -> Body {
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(err) = export(&state, query, format, &sender).await {
            tracing::error!(error = %err, "audit export failed");
            let _ = sender
                .send(Err(std::io::Error::other("audit export failed")))
                .await;
        }
    });
    Body::from_stream(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move { receiver.recv().await.map(|item| (item, receiver)) },
    ))
}

/// Positions per window: a window's rows are read by one query.
const EXPORT_WINDOW: i64 = 2000;
/// Windows read at once.
const EXPORT_READERS: usize = 3;

async fn export(
    state: &AppState,
    query: plinth_store::AuditQuery,
    format: ExportFormat,
    sender: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> plinth_store::Result<()> {
    use futures_util::StreamExt;

    if format == ExportFormat::Csv
        && sender
            .send(Ok(Bytes::from_static(CSV_HEADER.as_bytes())))
            .await
            .is_err()
    {
        return Ok(());
    }
    let head = state.store.audit_head(&query.chain).await?;
    // Windows `[from, before)`, newest first.
    let windows = (0..)
        .map(|i| head + 1 - i * EXPORT_WINDOW)
        .take_while(|before| *before > 1)
        .map(|before| (before.saturating_sub(EXPORT_WINDOW).max(1), before));
    let mut pages = futures_util::stream::iter(windows)
        .map(|(from, before)| {
            let window = plinth_store::AuditQuery {
                before_seq: Some(before),
                from_seq: Some(from),
                limit: EXPORT_WINDOW as u32,
                ..query.clone()
            };
            // A task of its own, so a window keeps reading while this one formats and
            // sends (a future in `buffered` only runs while the stream is polled).
            let store = state.store.clone();
            tokio::spawn(async move { store.audit_page_packed(&window).await })
        })
        .buffered(EXPORT_READERS);
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| plinth_store::StoreError::Corrupt(format!("export reader: {e}")))??;
        if page.items.is_empty() {
            continue;
        }
        let mut chunk = String::with_capacity(page.items.len() * 400);
        for entry in &page.items {
            match format {
                ExportFormat::Csv => csv_row(&mut chunk, entry),
                ExportFormat::Jsonl => {
                    chunk.push_str(
                        &serde_json::to_string(&views::audit_entry(entry)).unwrap_or_default(),
                    );
                    chunk.push('\n');
                }
            }
        }
        if sender.send(Ok(Bytes::from(chunk))).await.is_err() {
            return Ok(()); // the client went away
        }
    }
    Ok(())
}

fn csv_row(out: &mut String, e: &AuditRecord) {
    let created = e.created_at.format(&Rfc3339).unwrap_or_default();
    let seq = e.seq.to_string();
    let cells: [&str; 14] = [
        &e.id,
        &created,
        e.org_handle.as_deref().unwrap_or(""),
        e.actor_handle.as_deref().unwrap_or(""),
        e.actor_ip.as_deref().unwrap_or(""),
        e.user_agent.as_deref().unwrap_or(""),
        &e.action,
        e.target_type.as_deref().unwrap_or(""),
        e.target_id.as_deref().unwrap_or(""),
        e.target_handle.as_deref().unwrap_or(""),
        &e.data,
        e.request_id.as_deref().unwrap_or(""),
        &seq,
        &e.hash,
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_cell(out, cell);
    }
    out.push('\n');
}

/// RFC 4180 quoting, and a leading `'` on text a spreadsheet would run as a formula
/// (a user agent is whatever the client sent).
fn csv_cell(out: &mut String, cell: &str) {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || cell.contains([',', '"', '\n', '\r']);
    if !quote {
        out.push_str(cell);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        let mut out = String::new();
        for cell in ["plain", "a,b", "say \"hi\"", "=cmd()", "line\nbreak"] {
            csv_cell(&mut out, cell);
            out.push('|');
        }
        assert_eq!(
            out,
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"'=cmd()\"|\"line\nbreak\"|"
        );
    }
}
