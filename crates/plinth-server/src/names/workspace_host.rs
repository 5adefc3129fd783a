//! Workspace hosts: a request whose Host is `{org}-{ws}.{base_domain}` (any port)
//! reaches that workspace instead of the console and API.
//!
//! Answered in front of the router (`app::edge`), so it only takes requests for workspace names
//! and API paths on the server's own host are never shadowed. Answers come from the
//! in-memory directory, like DNS.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use plinth_core::DnsName;

use axum::extract::FromRequestParts;

use crate::auth::Actor;
use crate::auth::org::OrgAccess;
use crate::console::esc;
use crate::error::ApiError;
use crate::names::directory::{Entry, Lookup};
use crate::runtime::state::AppState;
use crate::service;

/// The first label of `host` when it is a name directly under `base_domain`.
fn workspace_label<'h>(host: &'h str, base_domain: &str) -> Option<&'h str> {
    let name = match host.rsplit_once(':') {
        // An IPv6 literal ends in `]`; anything else after the last colon is a port.
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_end_matches('.');
    let (label, rest) = name.split_once('.')?;
    (rest.eq_ignore_ascii_case(base_domain) && !label.is_empty()).then_some(label)
}

fn host_of(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().host().map(str::to_owned))
}

/// The answer to a request for a workspace name, or the request back (`Err`) when its
/// host is not one.
pub async fn answer(state: &AppState, mut req: Request) -> Result<Response, Request> {
    let Some(host) = host_of(&req) else {
        return Err(req);
    };
    // Only `{org}-{ws}` labels are workspace names: another name under the base domain
    // (a console at `console.{base}`, say) passes through to the router.
    let Some(label) = workspace_label(&host, &state.settings.base_domain)
        .filter(|label| DnsName::split_label(&label.to_ascii_lowercase()).is_some())
    else {
        return Err(req);
    };
    let now = state.now();
    let entry = match state
        .directory
        .lookup(label, plinth_store::time_to_micros(now))
    {
        Some(Lookup::Live(entry)) => entry,
        // An old name during a rename's grace period: 308 to the same path on the new
        // name, so links and bookmarks keep working (method and body preserved).
        Some(Lookup::Renamed(entry)) => {
            let path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            // The public URL's scheme and port, like every absolute link.
            let public = state.settings.public_url();
            let location = format!(
                "{}://{}.{}{}{path}",
                public.scheme(),
                entry.label(),
                state.settings.base_domain,
                public.port_suffix(),
            );
            return Ok(ApiError::moved(&location).into_response());
        }
        None => {
            return Ok(ApiError::not_found()
                .detail(format!(
                    "no workspace is named {}",
                    host.to_ascii_lowercase()
                ))
                .into_response());
        }
    };
    // A request that carries a token is checked against the org: a token issued before
    // the org's authentication reset is refused here as on the API (401 `auth-reset`),
    // and a caller who is not a member learns nothing (404). Only a caller who may see
    // the workspace is shown more than its DNS name (DESIGN.md §4, workspace hosts).
    let mut sees_workspace = false;
    if req.headers().contains_key(header::AUTHORIZATION) {
        let (mut parts, body) = req.into_parts();
        let checked = match Actor::from_request_parts(&mut parts, state).await {
            Ok(actor) => match OrgAccess::resolve(state, actor, &entry.org.handle).await {
                Ok(access) => {
                    service::workspaces::can_see(state, &access, &entry.workspace_id).await
                }
                Err(err) => Err(err),
            },
            Err(err) => Err(err),
        };
        match checked {
            Ok(sees) => sees_workspace = sees,
            Err(err) => return Ok(err.into_response()),
        }
        req = Request::from_parts(parts, body);
    }
    state
        .usage
        .count_in(&entry, crate::usage::meter::WORKSPACE_REQUESTS, state.now());
    let dns_name = format!("{}.{}", entry.label(), state.settings.base_domain);
    let wants_json = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    let mut response = if wants_json {
        let names = sees_workspace.then_some(&entry);
        Json(plinth_api::WorkspaceHost {
            workspace: entry.workspace_handle.clone(),
            workspace_display_name: names.map(|e| e.workspace_display_name.clone()),
            org: entry.org.handle.clone(),
            org_display_name: names.map(|e| e.org.display_name.clone()),
            dns_name,
        })
        .into_response()
    } else {
        (
            [(
                header::CONTENT_SECURITY_POLICY,
                crate::app::INLINE_STYLE_CSP,
            )],
            Html(page(sees_workspace.then_some(&entry), &dns_name)),
        )
            .into_response()
    };
    // The answer depends on Accept: caches must keep the two apart.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

/// The workspace's page: its names for a caller who may see it, else the DNS name alone.
fn page(entry: Option<&Entry>, dns_name: &str) -> String {
    let Some(entry) = entry else {
        return format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8>\
             <meta name=viewport content=\"width=device-width, initial-scale=1\">\
             <title>{dns}</title>\
             <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}}\
             code{{font-family:ui-monospace,monospace}}</style></head><body>\
             <h1><code>{dns}</code></h1><p>A workspace served by Plinth.</p></body></html>",
            dns = esc(dns_name),
        );
    };
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{ws} · {org}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}}\
         code{{font-family:ui-monospace,monospace}}</style></head><body>\
         <h1>{ws_name}</h1>\
         <p>Workspace <code>{ws}</code> of the organization <strong>{org_name}</strong> (<code>{org}</code>).</p>\
         <p>Served by Plinth at <code>{dns}</code>.</p></body></html>",
        ws = esc(&entry.workspace_handle),
        ws_name = esc(&entry.workspace_display_name),
        org = esc(&entry.org.handle),
        org_name = esc(&entry.org.display_name),
        dns = esc(dns_name),
    )
}

#[cfg(test)]
mod tests {
    use super::workspace_label;

    #[test]
    fn labels_under_the_base_domain() {
        let base = "plinth.localhost";
        assert_eq!(
            workspace_label("acme-prod.plinth.localhost", base),
            Some("acme-prod")
        );
        assert_eq!(
            workspace_label("Acme-Prod.Plinth.Localhost:8080", base),
            Some("Acme-Prod")
        );
        assert_eq!(
            workspace_label("acme-prod.plinth.localhost.", base),
            Some("acme-prod")
        );
        assert_eq!(workspace_label("plinth.localhost", base), None);
        assert_eq!(workspace_label("localhost:8080", base), None);
        assert_eq!(workspace_label("127.0.0.1:8080", base), None);
        assert_eq!(workspace_label("a.b.plinth.localhost", base), None);
        assert_eq!(workspace_label("[::1]:8080", base), None);
    }
}
