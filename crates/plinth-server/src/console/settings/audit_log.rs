//! Audit Log: the org's entries through `service::audit` as
//! `GET /api/v1/orgs/{org}/audit-log` (filters, keyset pages), `…/export` and `…/verify`.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use plinth_api::AuditQuery;
use plinth_core::OrgPermission;
use plinth_store::{AuditRecord, org_chain};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration};

use crate::console::chrome::Chrome;
use crate::console::error::{ConsoleError, PageResult};
use crate::console::form::{Field, form_error};
use crate::console::org::{OrgHeader, OwnerPage};
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service::audit::{self, ExportFormat, encode_cursor, export_body, store_query, verify};

const PAGE_SIZE: u32 = 25;

/// The page's query: the filters as typed (dates as `YYYY-MM-DD`), the cursor, and the
/// cursors of the newer pages visited (keyset pages only go one way; this trail is how
/// "Newer" goes back).
#[derive(Deserialize, Default, Clone)]
pub struct LogQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    newer: String,
    #[serde(default)]
    format: String,
}

fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A date from the form as the API's RFC 3339 instant: the day's start, or for `until`
/// the next day's (the range includes the day typed). Anything else goes to the API
/// as typed, which refuses it with its own message.
fn instant(value: &str, end_of_day: bool) -> Option<String> {
    let value = given(value)?;
    match Date::parse(&value, format_description!("[year]-[month]-[day]")) {
        Ok(date) => {
            let date = if end_of_day {
                date.checked_add(Duration::days(1)).unwrap_or(date)
            } else {
                date
            };
            Some(
                date.midnight()
                    .assume_utc()
                    .format(&Rfc3339)
                    .unwrap_or(value),
            )
        }
        Err(_) => Some(value),
    }
}

impl LogQuery {
    fn api_query(&self, paged: bool) -> AuditQuery {
        AuditQuery {
            action: given(&self.action),
            actor: given(&self.actor),
            target: None,
            since: instant(&self.since, false),
            until: instant(&self.until, true),
            limit: paged.then_some(PAGE_SIZE),
            cursor: if paged { given(&self.cursor) } else { None },
            format: None,
        }
    }

    fn filtered(&self) -> bool {
        [&self.action, &self.actor, &self.since, &self.until]
            .iter()
            .any(|f| !f.trim().is_empty())
    }

    /// The filters as a query string, with `extra` pairs after them.
    fn link(&self, path: &str, extra: &[(&str, &str)]) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("action", &self.action),
            ("actor", &self.actor),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !value.trim().is_empty() {
                q.append_pair(key, value.trim());
            }
        }
        for (key, value) in extra {
            if !value.is_empty() {
                q.append_pair(key, value);
            }
        }
        let q = q.finish();
        if q.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{q}")
        }
    }
}

pub struct EntryRow {
    pub seq: i64,
    pub time: String,
    pub time_short: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub data: String,
    pub request_id: String,
    pub user_agent: String,
}

fn row(entry: &AuditRecord) -> EntryRow {
    let data = serde_json::from_str::<serde_json::Value>(&entry.data)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| entry.data.clone());
    let target = match (&entry.target_type, &entry.target_handle, &entry.target_id) {
        (Some(kind), Some(handle), _) => format!("{kind} {handle}"),
        (Some(kind), None, Some(id)) => format!("{kind} {id}"),
        (Some(kind), None, None) => kind.clone(),
        _ => "—".to_owned(),
    };
    EntryRow {
        seq: entry.seq,
        time: entry.created_at.format(&Rfc3339).unwrap_or_default(),
        time_short: entry
            .created_at
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap_or_default(),
        actor: entry.actor_handle.clone().unwrap_or_else(|| "—".to_owned()),
        action: entry.action.clone(),
        target,
        ip: entry.actor_ip.clone().unwrap_or_else(|| "—".to_owned()),
        data,
        request_id: entry.request_id.clone().unwrap_or_else(|| "—".to_owned()),
        user_agent: entry.user_agent.clone().unwrap_or_else(|| "—".to_owned()),
    }
}

#[derive(Template)]
#[template(path = "settings/audit_log.html")]
struct AuditLogView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    action: String,
    action_error: Option<String>,
    action_choices: Vec<&'static str>,
    actor_field: Field,
    since_field: Field,
    until_field: Field,
    filtered: bool,
    error: Option<String>,
    entries: Vec<EntryRow>,
    newer: Option<String>,
    older: Option<String>,
    export_csv: String,
    export_jsonl: String,
    verified: bool,
    verify_text: String,
}

/// `GET /orgs/{org}/settings/audit-log`.
pub async fn show(State(state): State<AppState>, page: OwnerPage, uri: Uri) -> PageResult {
    let fail = |e: &ApiError| ConsoleError::from_api(e).with_chrome(&page.chrome);
    page.owner
        .require(OrgPermission::Inspect)
        .map_err(|e| fail(&e))?;
    let query: LogQuery = crate::console::form::query(&uri);
    let chain = org_chain(&page.owner.org.id);
    // A bad filter is shown beside its field; anything else is the error page.
    let found = match store_query(chain.clone(), &query.api_query(true)) {
        Ok(q) => audit::page(&state, &q).await,
        Err(err) => Err(err),
    };
    if let Err(err) = &found
        && !err.status.is_client_error()
    {
        return Err(fail(err));
    }
    let verdict = verify(&state, &chain, None).await.map_err(|e| fail(&e))?;
    let path = format!("/orgs/{}/settings/audit-log", page.owner.org.handle);
    let export = format!("{path}/export");
    let (entries, older, newer, error) = match found {
        Ok(found) => {
            let mut trail: Vec<&str> = query.newer.split(',').filter(|c| !c.is_empty()).collect();
            let older = found.next_before.map(|seq| {
                let here = if query.cursor.is_empty() {
                    "-"
                } else {
                    query.cursor.as_str()
                };
                let mut back = trail.clone();
                back.push(here);
                query.link(
                    &path,
                    &[("cursor", &encode_cursor(seq)), ("newer", &back.join(","))],
                )
            });
            let newer = trail.pop().map(|previous| {
                let cursor = if previous == "-" { "" } else { previous };
                query.link(&path, &[("cursor", cursor), ("newer", &trail.join(","))])
            });
            (found.items.iter().map(row).collect(), older, newer, None)
        }
        Err(err) => (Vec::new(), None, None, Some(err)),
    };
    let fields = ["action", "actor", "since", "until"];
    let err = error.as_ref();
    let view = AuditLogView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.owner),
        active: "audit-log",
        action: query.action.clone(),
        action_error: err.and_then(|e| crate::console::form::field_error(e, &["action"])),
        action_choices: vec![
            "org.*",
            "org.update",
            "org.handle.update",
            "org.auth.reset",
            "org.member.*",
            "workspace.*",
            "workspace.member.*",
        ],
        actor_field: Field::new("actor", "Actor")
            .value(&query.actor)
            .placeholder("handle")
            .error_from(err, &["actor"]),
        since_field: Field::new("since", "From")
            .kind("date")
            .value(&query.since)
            .error_from(err, &["since"]),
        until_field: Field::new("until", "To")
            .kind("date")
            .value(&query.until)
            .error_from(err, &["until"]),
        filtered: query.filtered(),
        error: err.and_then(|e| form_error(e, &fields)),
        entries,
        newer,
        older,
        export_csv: query.link(&export, &[("format", "csv")]),
        export_jsonl: query.link(&export, &[("format", "jsonl")]),
        verified: verdict.ok,
        verify_text: if verdict.ok {
            match &verdict.head {
                Some(head) => format!(
                    "Hash chain verified: all {} entries are intact (head {}…).",
                    verdict.entries,
                    head.get(..16).unwrap_or(head)
                ),
                None => "Hash chain verified: no entries yet.".to_owned(),
            }
        } else {
            match &verdict.first_broken {
                Some(b) => format!(
                    "The hash chain is broken at entry #{}: {}. Entries may have been changed or removed.",
                    b.seq, b.reason
                ),
                None => "The hash chain does not verify.".to_owned(),
            }
        },
    };
    let status = err.map_or(StatusCode::OK, |e| e.status);
    Ok(crate::console::render(status, &page.chrome, &view))
}

/// `GET /orgs/{org}/settings/audit-log/export?format=csv|jsonl&…`: the API's streamed
/// export with the page's filters.
pub async fn export(State(state): State<AppState>, page: OwnerPage, uri: Uri) -> PageResult {
    let fail = |e: &ApiError| ConsoleError::from_api(e).with_chrome(&page.chrome);
    page.owner
        .require(OrgPermission::Inspect)
        .map_err(|e| fail(&e))?;
    let query: LogQuery = crate::console::form::query(&uri);
    let format = ExportFormat::parse(given(&query.format).as_deref()).map_err(|e| fail(&e))?;
    let store = store_query(org_chain(&page.owner.org.id), &query.api_query(false))
        .map_err(|e| fail(&e))?;
    let file_name = format!(
        "{}-audit-log-{}.{}",
        page.owner.org.handle,
        state.now().date(),
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        export_body(&state, store, format),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_instants() {
        assert_eq!(
            instant("2026-11-30", false).as_deref(),
            Some("2026-11-30T00:00:00Z")
        );
        assert_eq!(
            instant("2026-11-30", true).as_deref(),
            Some("2026-12-01T00:00:00Z")
        );
        assert_eq!(instant("  ", false), None);
        assert_eq!(instant("soon", false).as_deref(), Some("soon"));
    }
}
