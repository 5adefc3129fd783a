//! Workspaces in the console, as a browser without JavaScript: Create on the org page,
//! the workspace's page with its DNS name, members and roles, Rename and Delete. Every
//! refusal is shown beside its form and changes nothing (checked through the API);
//! who may see and manage a workspace is the API's answer.

use plinth_server::testing::TestApp;
use serde_json::Value;

use super::{Browser, acme, app};

plinth_store::on_both_backends!(app =>
    an_owner_creates_a_workspace_and_its_dns_name_answers,
    workspace_create_refusals_are_inline_and_create_nothing,
    workspace_members_are_added_changed_and_removed,
    workspace_member_refusals_are_inline_and_change_nothing,
    readers_see_the_workspace_but_cannot_manage_it_and_others_get_404,
    a_workspace_owner_manages_members_and_renames_but_cannot_delete,
    the_rename_is_reviewed_then_refused_or_made,
    workspace_delete_needs_the_handle_typed_exactly,
);

async fn workspace_handles(app: &TestApp, token: &str) -> Vec<String> {
    let list = app.get("/api/v1/orgs/acme/workspaces", token).await;
    list.assert_status(200);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["handle"].as_str().unwrap().to_owned())
        .collect()
}

/// The explicit members of `acme/{ws}` as `handle:role`, through the API.
async fn roles(app: &TestApp, token: &str, ws: &str) -> Vec<String> {
    let list = app
        .get(&format!("/api/v1/orgs/acme/workspaces/{ws}/members"), token)
        .await;
    list.assert_status(200);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m: &Value| {
            format!(
                "{}:{}",
                m["user"]["handle"].as_str().unwrap(),
                m["role"].as_str().unwrap()
            )
        })
        .collect()
}

async fn an_owner_creates_a_workspace_and_its_dns_name_answers(app: &TestApp) {
    let token = app.user("olivia").await;
    app.create_org(&token, "acme").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    // The form, its rules, and the DNS name as it will be (a script fills in the handle).
    b.get("/orgs/acme")
        .await
        .status(200)
        .contains("Create Workspace")
        .contains("1–23 lowercase letters and digits")
        .contains("acme-<var>handle</var>.plinth.localhost")
        .contains("<script src=\"/static/workspace-name.js\" defer></script>");
    let script = b.get("/static/workspace-name.js").await;
    script.status(200).contains("data-dns-preview");
    assert!(
        script.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let done = b
        .post(
            "/orgs/acme/workspaces",
            &[("handle", "Prod"), ("display_name", "Production")],
        )
        .await;
    done.status(303);
    assert_eq!(done.location(), "/orgs/acme/workspaces/prod");
    let page = b.get("/orgs/acme/workspaces/prod").await;
    page.status(200)
        .contains("Workspace \"prod\" created. Its DNS name is acme-prod.plinth.localhost.")
        .contains("Production")
        .contains(&format!(
            "href=\"http://acme-prod.plinth.localhost:{}/\"",
            app.base.rsplit(':').next().unwrap()
        ));
    // The org page lists it and links to its page.
    b.get("/orgs/acme")
        .await
        .contains("href=\"/orgs/acme/workspaces/prod\"")
        .contains("acme-prod.plinth.localhost");
    let ws = app.get("/api/v1/orgs/acme/workspaces/prod", &token).await;
    ws.assert_status(200);
    assert_eq!(ws.body["display_name"], "Production");
    assert_eq!(ws.body["dns_name"], "acme-prod.plinth.localhost");
    // Its name answers at once on the workspace host.
    app.get_host("acme-prod.plinth.localhost", "/", None)
        .await
        .assert_status(200);
}

async fn workspace_create_refusals_are_inline_and_create_nothing(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "max", "member").await;
    app.user("nina").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme").await.status(200);
    for bad in ["", "a-b", "prod_1", "in space", &"x".repeat(24), "café"] {
        let page = b
            .post(
                "/orgs/acme/workspaces",
                &[("handle", bad), ("display_name", "")],
            )
            .await;
        page.status(400)
            .contains("id=\"handle-error\"")
            .contains("aria-invalid=\"true\"")
            .contains(&format!("value=\"{bad}\""))
            .contains("Create Workspace");
    }
    b.post("/orgs/acme/workspaces", &[("handle", "PROD")])
        .await
        .status(409)
        .contains("id=\"handle-error\"")
        .contains("This organization already has a workspace named \"prod\"")
        .contains("value=\"PROD\"");
    let long = "x".repeat(101);
    b.post(
        "/orgs/acme/workspaces",
        &[("handle", "dev"), ("display_name", long.as_str())],
    )
    .await
    .status(400)
    .contains("id=\"display_name-error\"")
    .contains("value=\"dev\"");
    // Without the session's CSRF token: refused before anything runs.
    b.post_raw("/orgs/acme/workspaces", &[("handle", "sneaky")])
        .await
        .status(403);
    // A member may not create one, a non-member learns nothing.
    let mut max = Browser::signed_in(app, "max").await;
    let org_page = max.get("/orgs/acme").await;
    org_page.status(200);
    assert!(!org_page.text.contains("Create Workspace"));
    max.post("/orgs/acme/workspaces", &[("handle", "maxs")])
        .await
        .status(403)
        .contains("You can't open this page");
    let mut nina = Browser::signed_in(app, "nina").await;
    nina.post("/orgs/acme/workspaces", &[("handle", "ninas")])
        .await
        .status(404);
    assert_eq!(workspace_handles(app, &token).await, ["prod", "staging"]);
}

async fn workspace_members_are_added_changed_and_removed(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "bob", "member").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme/workspaces/prod")
        .await
        .status(200)
        .contains("Nobody has a role on this workspace yet")
        .contains("Add Member");
    let added = b
        .post(
            "/orgs/acme/workspaces/prod/members",
            &[("user", "bob@example.com"), ("role", "reader")],
        )
        .await;
    added.status(303);
    assert_eq!(added.location(), "/orgs/acme/workspaces/prod");
    b.get("/orgs/acme/workspaces/prod")
        .await
        .contains("bob is now reader of this workspace.")
        .contains("aria-label=\"Role of bob\"");
    assert_eq!(roles(app, &token, "prod").await, ["bob:reader"]);
    b.post(
        "/orgs/acme/workspaces/prod/members/bob/role",
        &[("role", "operator")],
    )
    .await
    .status(303);
    assert_eq!(roles(app, &token, "prod").await, ["bob:operator"]);
    // Remove asks first, then removes.
    b.get("/orgs/acme/workspaces/prod/members/bob/remove")
        .await
        .status(200)
        .contains("Remove bob from prod?")
        .contains("operator");
    assert_eq!(roles(app, &token, "prod").await, ["bob:operator"]);
    let removed = b
        .post("/orgs/acme/workspaces/prod/members/bob/remove", &[])
        .await;
    removed.status(303);
    assert_eq!(removed.location(), "/orgs/acme/workspaces/prod");
    assert!(roles(app, &token, "prod").await.is_empty());
    // The other workspace never changed.
    assert!(roles(app, &token, "staging").await.is_empty());
}

async fn workspace_member_refusals_are_inline_and_change_nothing(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "bob", "member").await;
    app.user("nina").await;
    app.add_workspace_member(&token, "acme", "prod", "bob", "reader")
        .await
        .assert_status(201);
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme/workspaces/prod").await.status(200);
    for (user, role, status, needle) in [
        ("", "reader", 400, "id=\"user-error\""),
        ("Not A Handle!", "reader", 400, "id=\"user-error\""),
        (
            "nobody",
            "reader",
            404,
            "There is no user with the handle or email",
        ),
        (
            "nina",
            "reader",
            400,
            "must be an active member of the organization first",
        ),
        ("bob", "reader", 409, "already has a role on this workspace"),
        ("nina", "admin", 400, "Must be reader, operator or owner."),
    ] {
        b.post(
            "/orgs/acme/workspaces/prod/members",
            &[("user", user), ("role", role)],
        )
        .await
        .status(status)
        .contains(needle)
        .contains(&format!("value=\"{user}\""));
    }
    // Role changes and removals of people without a role, or with a role unknown.
    b.post(
        "/orgs/acme/workspaces/prod/members/bob/role",
        &[("role", "superuser")],
    )
    .await
    .status(400)
    .contains("Must be reader, operator or owner.");
    b.post(
        "/orgs/acme/workspaces/prod/members/nina/role",
        &[("role", "owner")],
    )
    .await
    .status(404)
    .contains("\"nina\" has no role on this workspace");
    b.post("/orgs/acme/workspaces/prod/members/nina/remove", &[])
        .await
        .status(404)
        .contains("\"nina\" has no role on this workspace");
    b.get("/orgs/acme/workspaces/prod/members/nina/remove")
        .await
        .status(404);
    assert_eq!(roles(app, &token, "prod").await, ["bob:reader"]);
    assert!(roles(app, &token, "staging").await.is_empty());
}

async fn readers_see_the_workspace_but_cannot_manage_it_and_others_get_404(app: &TestApp) {
    let token = acme(app).await;
    let max_token = app.member(&token, "acme", "max", "member").await;
    let ivy_token = app.member(&token, "acme", "ivy", "member").await;
    app.user("nina").await;
    app.add_workspace_member(&token, "acme", "prod", "max", "reader")
        .await
        .assert_status(201);
    let mut max = Browser::signed_in(app, "max").await;
    // The org page lists only the workspace max has a role on.
    let org_page = max.get("/orgs/acme").await;
    org_page.contains("acme-prod.plinth.localhost");
    assert!(!org_page.text.contains("acme-staging"));
    let page = max.get("/orgs/acme/workspaces/prod").await;
    page.status(200)
        .contains("acme-prod.plinth.localhost")
        .contains("you are reader")
        .contains("Give up your role on this workspace");
    for absent in [
        "Add Member",
        "Rename Workspace",
        "Delete Workspace",
        "Change role",
    ] {
        assert!(!page.text.contains(absent), "a reader sees {absent:?}");
    }
    for (path, fields) in [
        (
            "/orgs/acme/workspaces/prod/members",
            vec![("user", "ivy"), ("role", "owner")],
        ),
        (
            "/orgs/acme/workspaces/prod/members/max/role",
            vec![("role", "owner")],
        ),
        (
            "/orgs/acme/workspaces/prod/rename",
            vec![("handle", "maxed")],
        ),
        (
            "/orgs/acme/workspaces/prod/rename",
            vec![("handle", "maxed"), ("confirmed", "yes")],
        ),
        (
            "/orgs/acme/workspaces/prod/display-name",
            vec![("display_name", "Max's")],
        ),
        (
            "/orgs/acme/workspaces/prod/delete",
            vec![("confirm", "prod")],
        ),
    ] {
        max.post(path, &fields)
            .await
            .status(403)
            .contains("You can't open this page");
    }
    max.get("/orgs/acme/workspaces/prod/delete")
        .await
        .status(403);
    // A workspace max has no role on is not there for him, as in the API.
    max.get("/orgs/acme/workspaces/staging")
        .await
        .status(404)
        .contains("Page not found");
    app.get("/api/v1/orgs/acme/workspaces/staging", &max_token)
        .await
        .assert_problem(404, "not-found");
    // An org member without any role sees no workspace page at all.
    let mut ivy = Browser::signed_in(app, "ivy").await;
    ivy.get("/orgs/acme")
        .await
        .contains("No workspaces that you can see");
    for path in [
        "/orgs/acme/workspaces/prod",
        "/orgs/acme/workspaces/prod/members/max/remove",
    ] {
        ivy.get(path).await.status(404);
    }
    app.get("/api/v1/orgs/acme/workspaces/prod", &ivy_token)
        .await
        .assert_problem(404, "not-found");
    ivy.post(
        "/orgs/acme/workspaces/prod/members",
        &[("user", "ivy"), ("role", "owner")],
    )
    .await
    .status(404);
    // Not in the org: 404 everywhere, whether the workspace exists or not.
    let mut nina = Browser::signed_in(app, "nina").await;
    for path in ["/orgs/acme/workspaces/prod", "/orgs/acme/workspaces/nope"] {
        nina.get(path).await.status(404);
    }
    // Nothing changed; a reader may still give up their own role.
    let ws = app.get("/api/v1/orgs/acme/workspaces/prod", &token).await;
    assert_eq!(ws.body["display_name"], "prod");
    assert_eq!(workspace_handles(app, &token).await, ["prod", "staging"]);
    assert_eq!(roles(app, &token, "prod").await, ["max:reader"]);
    max.get("/orgs/acme/workspaces/prod/members/max/remove")
        .await
        .status(200)
        .contains("Give up your role on prod?");
    let left = max
        .post("/orgs/acme/workspaces/prod/members/max/remove", &[])
        .await;
    left.status(303);
    assert_eq!(left.location(), "/orgs/acme");
    assert!(roles(app, &token, "prod").await.is_empty());
    max.get("/orgs/acme/workspaces/prod").await.status(404);
}

async fn a_workspace_owner_manages_members_and_renames_but_cannot_delete(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "wendy", "member").await;
    app.member(&token, "acme", "bob", "member").await;
    app.add_workspace_member(&token, "acme", "prod", "wendy", "owner")
        .await
        .assert_status(201);
    let mut wendy = Browser::signed_in(app, "wendy").await;
    let page = wendy.get("/orgs/acme/workspaces/prod").await;
    page.status(200)
        .contains("Add Member")
        .contains("Rename Workspace");
    // Deleting workspaces stays with the org's owners (DESIGN.md §2).
    assert!(!page.text.contains("Delete Workspace"));
    wendy
        .post(
            "/orgs/acme/workspaces/prod/members",
            &[("user", "bob"), ("role", "operator")],
        )
        .await
        .status(303);
    assert_eq!(
        roles(app, &token, "prod").await,
        ["bob:operator", "wendy:owner"]
    );
    wendy
        .get("/orgs/acme/workspaces/prod/delete")
        .await
        .status(403);
    wendy
        .post("/orgs/acme/workspaces/prod/delete", &[("confirm", "prod")])
        .await
        .status(403);
    wendy
        .post(
            "/orgs/acme/workspaces/prod/rename",
            &[("handle", "live"), ("confirmed", "yes")],
        )
        .await
        .status(303);
    assert_eq!(workspace_handles(app, &token).await, ["live", "staging"]);
}

async fn the_rename_is_reviewed_then_refused_or_made(app: &TestApp) {
    let token = acme(app).await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme/workspaces/prod")
        .await
        .status(200)
        .contains("Rename Workspace")
        .contains("New DNS name: <output");
    for bad in ["", "pro-d", &"p".repeat(24)] {
        b.post("/orgs/acme/workspaces/prod/rename", &[("handle", bad)])
            .await
            .status(400)
            .contains("id=\"handle-error\"")
            .contains(&format!("value=\"{bad}\""));
    }
    b.post("/orgs/acme/workspaces/prod/rename", &[("handle", "PROD")])
        .await
        .status(400)
        .contains("Must differ from the current handle.");
    // A taken handle passes the review (nothing is reserved) and is refused on Rename.
    b.post(
        "/orgs/acme/workspaces/prod/rename",
        &[("handle", "staging"), ("confirmed", "yes")],
    )
    .await
    .status(409)
    .contains("id=\"handle-error\"")
    .contains("already has a workspace named \"staging\"");
    // The review: the DNS name old → new, nothing changed yet.
    b.post("/orgs/acme/workspaces/prod/rename", &[("handle", "Live")])
        .await
        .status(200)
        .contains("Nothing has changed yet")
        .contains("acme-prod.plinth.localhost")
        .contains("acme-live.plinth.localhost")
        .contains("name=\"handle\" value=\"live\"");
    assert_eq!(workspace_handles(app, &token).await, ["prod", "staging"]);
    app.get_host("acme-prod.plinth.localhost", "/", None)
        .await
        .assert_status(200);
    // Display name refusals, beside the field.
    for bad in ["", &"n".repeat(101)] {
        b.post(
            "/orgs/acme/workspaces/prod/display-name",
            &[("display_name", bad)],
        )
        .await
        .status(400)
        .contains("id=\"display_name-error\"");
    }
    let ws = app.get("/api/v1/orgs/acme/workspaces/prod", &token).await;
    assert_eq!(ws.body["display_name"], "prod");
    // Made: the new name answers, the old one does not, the page moved with it.
    let done = b
        .post(
            "/orgs/acme/workspaces/prod/rename",
            &[("handle", "live"), ("confirmed", "yes")],
        )
        .await;
    done.status(303);
    assert_eq!(done.location(), "/orgs/acme/workspaces/live");
    b.get("/orgs/acme/workspaces/live")
        .await
        .status(200)
        .contains("The workspace is now \"live\". Its DNS name is acme-live.plinth.localhost");
    assert_eq!(workspace_handles(app, &token).await, ["live", "staging"]);
    app.get_host("acme-live.plinth.localhost", "/", None)
        .await
        .assert_status(200);
    app.get_host("acme-prod.plinth.localhost", "/", None)
        .await
        .assert_status(404);
    b.get("/orgs/acme/workspaces/prod").await.status(404);
    b.post(
        "/orgs/acme/workspaces/live/display-name",
        &[("display_name", "Live site")],
    )
    .await
    .status(303);
    let ws = app.get("/api/v1/orgs/acme/workspaces/live", &token).await;
    assert_eq!(ws.body["display_name"], "Live site");
    // Both changes are in the audit log.
    let log = app
        .get(
            "/api/v1/orgs/acme/audit-log?action=workspace.update",
            &token,
        )
        .await;
    let items = log.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", log.text);
    assert_eq!(items[1]["data"]["handle"]["before"], "prod");
    assert_eq!(items[1]["data"]["handle"]["after"], "live");
}

async fn workspace_delete_needs_the_handle_typed_exactly(app: &TestApp) {
    let token = acme(app).await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme/workspaces/prod")
        .await
        .contains("href=\"/orgs/acme/workspaces/prod/delete\"");
    b.get("/orgs/acme/workspaces/prod/delete")
        .await
        .status(200)
        .contains("pattern=\"prod\"")
        .contains("acme-prod.plinth.localhost");
    for typed in ["", "PROD", "prod ", "pro", "staging"] {
        b.post("/orgs/acme/workspaces/prod/delete", &[("confirm", typed)])
            .await
            .status(400)
            .contains("id=\"confirm-error\"")
            .contains(&format!("value=\"{typed}\""));
    }
    assert_eq!(workspace_handles(app, &token).await, ["prod", "staging"]);
    b.get("/orgs/acme/workspaces/nope/delete").await.status(404);
    let done = b
        .post("/orgs/acme/workspaces/prod/delete", &[("confirm", "prod")])
        .await;
    done.status(303);
    assert_eq!(done.location(), "/orgs/acme");
    b.get("/orgs/acme").await.contains(
        "The workspace \"prod\" was deleted; acme-prod.plinth.localhost no longer answers.",
    );
    assert_eq!(workspace_handles(app, &token).await, ["staging"]);
    app.get_host("acme-prod.plinth.localhost", "/", None)
        .await
        .assert_status(404);
    b.get("/orgs/acme/workspaces/prod").await.status(404);
}
