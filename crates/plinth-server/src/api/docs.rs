//! `/api/v1/openapi.json` and `/api/docs`: a reference page rendered on the server from
//! the same document, so it works offline and without JavaScript.

use std::fmt::Write;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use serde_json::Value;

/// The OpenAPI document as JSON, and the docs page made from it, built once at start-up.
#[derive(Clone)]
pub struct ApiDocs {
    pub json: Arc<Value>,
    pub html: Arc<String>,
}

impl ApiDocs {
    pub fn new(openapi: &utoipa::openapi::OpenApi) -> Self {
        let mut json = serde_json::to_value(openapi).unwrap_or(Value::Null);
        super::contract::complete(&mut json);
        let html = render(&json);
        Self {
            json: Arc::new(json),
            html: Arc::new(html),
        }
    }
}

pub async fn openapi_json(State(docs): State<ApiDocs>) -> Json<Value> {
    Json((*docs.json).clone())
}

pub async fn docs_page(State(docs): State<ApiDocs>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_SECURITY_POLICY,
            crate::app::INLINE_STYLE_CSP,
        )],
        Html((*docs.html).clone()),
    )
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    schema
        .get("type")
        .map(|t| t.to_string().trim_matches('"').to_owned())
        .unwrap_or_else(|| "object".to_owned())
}

fn render(doc: &Value) -> String {
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{t} reference</title>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}}\
         code,pre{{font-family:ui-monospace,monospace;font-size:13px}}pre{{background:#f4f5f7;padding:.75rem;overflow:auto}}\
         .op{{border:1px solid #d8dde3;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}}\
         .m{{display:inline-block;min-width:4rem;font-weight:700;text-transform:uppercase}}\
         table{{border-collapse:collapse}}td,th{{padding:.2rem .6rem;border-bottom:1px solid #eee;text-align:left}}</style>\
         </head><body><h1>{t} reference</h1><p>{d}</p>\
         <p>Machine-readable: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> (OpenAPI {v}).</p>",
        t = esc(title),
        d = esc(doc["info"]["description"].as_str().unwrap_or_default()),
        v = esc(doc["openapi"].as_str().unwrap_or_default()),
    );
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let _ = write!(
                out,
                "<div class=op id=\"{id}\"><h3><span class=m>{m}</span> <code>{p}</code></h3><p>{s}</p>",
                id = esc(&format!("{method}-{path}")),
                m = method,
                p = esc(path),
                s = esc(op["summary"].as_str().unwrap_or_default()),
            );
            if let Some(desc) = op["description"].as_str() {
                let _ = write!(out, "<p>{}</p>", esc(desc));
            }
            if op.get("security").is_some() {
                out.push_str(
                    "<p><em>Needs <code>Authorization: Bearer &lt;token&gt;</code>.</em></p>",
                );
            }
            if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                out.push_str("<table><tr><th>parameter</th><th>in</th><th>description</th></tr>");
                for p in params {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                        esc(p["name"].as_str().unwrap_or_default()),
                        esc(p["in"].as_str().unwrap_or_default()),
                        esc(p["description"].as_str().unwrap_or_default()),
                    );
                }
                out.push_str("</table>");
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                let _ = write!(
                    out,
                    "<p>Body: <a href=\"#schema-{n}\"><code>{n}</code></a></p>",
                    n = esc(&schema_name(schema))
                );
            }
            if let Some(responses) = op["responses"].as_object() {
                out.push_str("<table><tr><th>status</th><th>meaning</th><th>body</th></tr>");
                for (status, resp) in responses {
                    let body = resp
                        .get("content")
                        .and_then(Value::as_object)
                        .and_then(|c| c.values().next())
                        .and_then(|c| c.get("schema"))
                        .map(schema_name)
                        .unwrap_or_default();
                    let _ = write!(
                        out,
                        "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                        esc(status),
                        esc(resp["description"].as_str().unwrap_or_default()),
                        esc(&body),
                    );
                }
                out.push_str("</table>");
            }
            out.push_str("</div>");
        }
    }
    out.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            let pretty = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                out,
                "<h3 id=\"schema-{n}\">{n}</h3><pre>{s}</pre>",
                n = esc(name),
                s = esc(&pretty)
            );
        }
    }
    out.push_str("</body></html>");
    out
}
