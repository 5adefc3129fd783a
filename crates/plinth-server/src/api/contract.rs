//! The answers every operation can give whatever its handler says, added to the OpenAPI
//! document in one pass, so that a new route is described truly without repeating them:
//! the extractors and guards it uses decide them, not the handler's annotation.
//!
//! - a bearer-secured operation can answer 401 (no token, garbage, expired, revoked, reset);
//! - a JSON body can be malformed (400), oversized (413) or not JSON at all (415), and a
//!   form body oversized (413);
//! - query parameters can be invalid or unknown (400);
//! - a path segment can name nothing (404);
//! - an operation under `/orgs/{org}` answers 308 `moved` under an old handle during its
//!   grace period, with `Location`;
//! - anything that reaches the database can find it unreachable, or take longer than the
//!   request time limit (503 `unavailable`).
//!
//! Then every problem answer is declared as `application/problem+json`, the media type
//! the server sends (`crate::error::ApiError`), and the `links` below let a stateful client
//! (schemathesis) chain create → read → update → delete.

use serde_json::{Map, Value, json};

const PROBLEM_REF: &str = "#/components/schemas/Problem";
const PROBLEM_MEDIA_TYPE: &str = "application/problem+json";

/// Completes `doc` (the OpenAPI document utoipa generated from the handlers) in place.
pub fn complete(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_method, op) in item.iter_mut() {
            if op.get("responses").is_some() {
                add_implied_answers(path, op);
                declare_problem_media_type(op);
            }
        }
    }
    add_links(doc);
}

fn add_implied_answers(path: &str, op: &mut Value) {
    let secured = op.get("security").is_some();
    let body_types: Vec<String> = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has = |place: &str| params.iter().any(|p| p["in"] == place);
    let json_body = body_types.iter().any(|t| t == "application/json");
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status)
            .or_insert_with(|| problem(description));
    };
    if secured {
        add(
            "401",
            "Not authenticated: no token, or one that is malformed (`unauthenticated`), \
             expired (`token-expired`), revoked (`token-revoked`) or refused by a reset \
             (`auth-reset`)",
        );
    }
    if json_body {
        add(
            "400",
            "The body is not valid (`validation`, naming the field)",
        );
        add(
            "415",
            "The body is not sent as `Content-Type: application/json` (`validation`)",
        );
    }
    if !body_types.is_empty() {
        add("413", "The body is over 64 KiB (`payload-too-large`)");
    }
    if has("query") {
        add(
            "400",
            "A query parameter is invalid or unknown (`validation`)",
        );
    }
    if has("path") {
        add("404", "Nothing is at this path (`not-found`)");
    }
    add(
        "503",
        "The database is unreachable, or the request took longer than the server's time \
         limit (`unavailable`)",
    );
    if path.starts_with("/api/v1/orgs/{org}") {
        responses.entry("308").or_insert_with(|| {
            let mut moved = problem(
                "The org has a new handle (`moved`): the same request under it is at \
                 `Location` (an old handle redirects, to members only, for the grace period)",
            );
            moved["headers"] = json!({
                "Location": {
                    "description": "This path under the org's new handle",
                    "schema": {"type": "string"},
                    "required": true,
                }
            });
            moved
        });
    }
    for (status, response) in responses.iter_mut() {
        let header = match status.as_str() {
            "401" => json!({"WWW-Authenticate": {
                "description": "`Bearer realm=\"plinth\"`",
                "schema": {"type": "string"},
                "required": true,
            }}),
            "429" => json!({"Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 0},
                "required": true,
            }}),
            _ => continue,
        };
        response["headers"] = header;
    }
    sort_responses(responses);
}

/// A problem answer with `description`.
fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
    })
}

/// A handler's own problem answers, declared `application/json` by utoipa's `body = …`:
/// the server sends `application/problem+json` (RFC 9457 §3).
fn declare_problem_media_type(op: &mut Value) {
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    for response in responses.values_mut() {
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        let is_problem = content
            .get("application/json")
            .and_then(|c| c.pointer("/schema/$ref"))
            .is_some_and(|r| r == PROBLEM_REF);
        if is_problem && let Some(media) = content.remove("application/json") {
            content.insert(PROBLEM_MEDIA_TYPE.to_owned(), media);
        }
    }
}

/// Statuses in numeric order, whatever order they were added in (the document and its
/// snapshot stay stable, and the docs page reads top to bottom).
fn sort_responses(responses: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    responses.extend(entries);
}

/// What a created (or read) resource leads to: (path, method, status) of the answer,
/// then the operations it links to with their parameters as runtime expressions.
type LinkSet = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static [(&'static str, &'static str)])],
);

const LINKS: &[LinkSet] = &[
    (
        "/api/v1/orgs",
        "post",
        "201",
        &[
            ("orgs_show", &[("org", "$response.body#/handle")]),
            ("orgs_update", &[("org", "$response.body#/handle")]),
            ("members_list", &[("org", "$response.body#/handle")]),
            ("members_invite", &[("org", "$response.body#/handle")]),
            ("workspaces_list", &[("org", "$response.body#/handle")]),
            ("workspaces_create", &[("org", "$response.body#/handle")]),
            ("get_org_usage", &[("org", "$response.body#/handle")]),
            ("org_audit_log", &[("org", "$response.body#/handle")]),
            ("export_org_audit_log", &[("org", "$response.body#/handle")]),
            ("verify_org_audit_log", &[("org", "$response.body#/handle")]),
            ("orgs_change_handle", &[("org", "$response.body#/handle")]),
            ("orgs_reset_auth", &[("org", "$response.body#/handle")]),
            (
                "orgs_delete",
                &[
                    ("org", "$response.body#/handle"),
                    ("confirm", "$response.body#/handle"),
                ],
            ),
        ],
    ),
    (
        "/api/v1/orgs/{org}/handle",
        "post",
        "200",
        &[
            ("orgs_show", &[("org", "$response.body#/handle")]),
            (
                "orgs_delete",
                &[
                    ("org", "$response.body#/handle"),
                    ("confirm", "$response.body#/handle"),
                ],
            ),
        ],
    ),
    (
        "/api/v1/orgs/{org}/members",
        "post",
        "201",
        &[
            (
                "members_update",
                &[
                    ("org", "$request.path.org"),
                    ("user", "$response.body#/user/handle"),
                ],
            ),
            (
                "members_remove",
                &[
                    ("org", "$request.path.org"),
                    ("user", "$response.body#/user/handle"),
                ],
            ),
        ],
    ),
    (
        "/api/v1/orgs/{org}/workspaces",
        "post",
        "201",
        &[
            (
                "workspaces_show",
                &[
                    ("org", "$response.body#/org"),
                    ("ws", "$response.body#/handle"),
                ],
            ),
            (
                "workspaces_update",
                &[
                    ("org", "$response.body#/org"),
                    ("ws", "$response.body#/handle"),
                ],
            ),
            (
                "workspace_members_list",
                &[
                    ("org", "$response.body#/org"),
                    ("ws", "$response.body#/handle"),
                ],
            ),
            (
                "workspace_members_add",
                &[
                    ("org", "$response.body#/org"),
                    ("ws", "$response.body#/handle"),
                ],
            ),
            (
                "workspaces_delete",
                &[
                    ("org", "$response.body#/org"),
                    ("ws", "$response.body#/handle"),
                ],
            ),
        ],
    ),
    (
        "/api/v1/orgs/{org}/workspaces/{ws}/members",
        "post",
        "201",
        &[
            (
                "workspace_members_update",
                &[
                    ("org", "$request.path.org"),
                    ("ws", "$request.path.ws"),
                    ("user", "$response.body#/user/handle"),
                ],
            ),
            (
                "workspace_members_remove",
                &[
                    ("org", "$request.path.org"),
                    ("ws", "$request.path.ws"),
                    ("user", "$response.body#/user/handle"),
                ],
            ),
        ],
    ),
    (
        "/api/v1/user/tokens",
        "post",
        "201",
        &[
            ("tokens_update", &[("id", "$response.body#/id")]),
            ("tokens_delete", &[("id", "$response.body#/id")]),
        ],
    ),
];

fn add_links(doc: &mut Value) {
    for (path, method, status, targets) in LINKS {
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('~', "~0").replace('/', "~1")
        );
        let Some(response) = doc.pointer_mut(&pointer) else {
            continue;
        };
        let links: Map<String, Value> = targets
            .iter()
            .map(|(operation_id, parameters)| {
                let parameters: Map<String, Value> = parameters
                    .iter()
                    .map(|(name, expr)| ((*name).to_owned(), json!(expr)))
                    .collect();
                (
                    (*operation_id).to_owned(),
                    json!({"operationId": operation_id, "parameters": parameters}),
                )
            })
            .collect();
        response["links"] = Value::Object(links);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_answers_and_media_types() {
        let mut doc = json!({"paths": {"/api/v1/orgs/{org}": {"patch": {
            "security": [{"bearer": []}],
            "parameters": [{"name": "org", "in": "path"}],
            "requestBody": {"content": {"application/json": {}}},
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Org"}}}},
                "403": {"description": "no", "content": {"application/json": {"schema": {"$ref": PROBLEM_REF}}}},
            },
        }}}});
        complete(&mut doc);
        let responses = doc
            .pointer("/paths/~1api~1v1~1orgs~1{org}/patch/responses")
            .unwrap();
        let statuses: Vec<&str> = responses
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            statuses,
            [
                "200", "308", "400", "401", "403", "404", "413", "415", "503"
            ]
        );
        assert!(responses["200"]["content"]["application/json"].is_object());
        assert!(responses["403"]["content"][PROBLEM_MEDIA_TYPE].is_object());
        assert!(
            responses["403"]["content"]
                .get("application/json")
                .is_none()
        );
        assert!(responses["308"]["headers"]["Location"]["required"] == true);
    }
}
