//! Creating, listing and showing orgs; handles shared with users; on both databases.

use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use serde_json::json;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    create_list_and_show,
    orgs_list_in_pages,
    bad_org_input_names_the_field,
    handles_are_one_namespace,
    owners_edit_the_profile,
);

async fn create_list_and_show(app: &TestApp) {
    let ann = app.user("ann").await;
    let created = app
        .post(
            "/api/v1/orgs",
            &ann,
            json!({"handle": "Acme", "display_name": "Acme Corp", "avatar_url": "https://img.example/a.png"}),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["handle"], "acme");
    assert_eq!(created.body["display_name"], "Acme Corp");
    assert_eq!(created.body["avatar_url"], "https://img.example/a.png");
    assert_eq!(created.body["role"], "owner");

    let list = app.get("/api/v1/orgs", &ann).await;
    list.assert_status(200);
    assert_eq!(list.body["items"][0]["handle"], "acme");
    assert_eq!(list.body["next_cursor"], serde_json::Value::Null);

    let shown = app.get("/api/v1/orgs/ACME", &ann).await;
    shown.assert_status(200);
    assert_eq!(shown.body["id"], created.body["id"]);
    assert_eq!(shown.body["role"], "owner");

    // The creator is its one active owner.
    let members = app.get("/api/v1/orgs/acme/members", &ann).await;
    members.assert_status(200);
    assert_eq!(members.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(members.body["items"][0]["user"]["handle"], "ann");
    assert_eq!(members.body["items"][0]["role"], "owner");
    assert_eq!(members.body["items"][0]["status"], "active");

    // Display name defaults to the handle; someone else's list stays empty.
    let bob = app.user("bob").await;
    let other = app.create_org(&bob, "bobco").await;
    assert_eq!(other["display_name"], "bobco");
    let bobs = app.get("/api/v1/orgs", &bob).await;
    assert_eq!(bobs.body["items"].as_array().unwrap().len(), 1);
    app.get("/api/v1/orgs/bobco", &ann)
        .await
        .assert_problem(404, "not-found");
    app.get("/api/v1/orgs/no-such-org", &ann)
        .await
        .assert_problem(404, "not-found");
}

async fn orgs_list_in_pages(app: &TestApp) {
    let ann = app.user("ann").await;
    for handle in ["one", "two", "three"] {
        app.create_org(&ann, handle).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/orgs?limit=2".to_owned();
    loop {
        let page = app.get(&path, &ann).await;
        page.assert_status(200);
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["handle"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/orgs?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    // Newest first.
    assert_eq!(seen, ["three", "two", "one"]);
    app.get("/api/v1/orgs?limit=0", &ann)
        .await
        .assert_problem(400, "validation");
    app.get("/api/v1/orgs?cursor=%21%21", &ann)
        .await
        .assert_problem(400, "validation");
}

async fn bad_org_input_names_the_field(app: &TestApp) {
    let ann = app.user("ann").await;
    let long = "a".repeat(40);
    for bad in [
        "",
        "-acme",
        "acme-",
        "ac--me",
        "ac_me",
        "ac.me",
        "äcme",
        "admin",
        long.as_str(),
    ] {
        let res = app.post("/api/v1/orgs", &ann, json!({"handle": bad})).await;
        res.assert_problem(400, "validation");
        assert_eq!(
            res.body["errors"][0]["field"], "handle",
            "{bad:?}: {}",
            res.text
        );
    }
    let res = app
        .post(
            "/api/v1/orgs",
            &ann,
            json!({"handle": "ok", "display_name": "x".repeat(101)}),
        )
        .await;
    res.assert_problem(400, "validation");
    assert_eq!(res.body["errors"][0]["field"], "display_name");
    let res = app
        .post(
            "/api/v1/orgs",
            &ann,
            json!({"handle": "ok", "avatar_url": "javascript:alert(1)"}),
        )
        .await;
    res.assert_problem(400, "validation");
    assert_eq!(res.body["errors"][0]["field"], "avatar_url");
    app.post(
        "/api/v1/orgs",
        &ann,
        json!({"handle": "ok", "plan": "gold"}),
    )
    .await
    .assert_problem(400, "validation");
    app.post("/api/v1/orgs", &ann, json!({}))
        .await
        .assert_problem(400, "validation");
    // Nothing was created.
    let list = app.get("/api/v1/orgs", &ann).await;
    assert!(list.body["items"].as_array().unwrap().is_empty());
}

async fn handles_are_one_namespace(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    // org vs org
    app.post("/api/v1/orgs", &ann, json!({"handle": "ACME"}))
        .await
        .assert_problem(409, "handle-taken");
    // org vs user
    let res = app
        .post("/api/v1/orgs", &ann, json!({"handle": "ann"}))
        .await;
    res.assert_problem(409, "handle-taken");
    assert!(res.body["detail"].as_str().unwrap().contains("\"ann\""));
    // user vs org
    app.signup("acme", "acme@example.com", PASSWORD)
        .await
        .assert_problem(409, "handle-taken");
    // A taken handle left nothing behind.
    let list = app.get("/api/v1/orgs", &ann).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

async fn owners_edit_the_profile(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let updated = app
        .patch(
            "/api/v1/orgs/acme",
            &ann,
            json!({"display_name": "Acme Inc.", "avatar_url": "https://img.example/b.png"}),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["display_name"], "Acme Inc.");
    // The guard's cached org was dropped: the next read shows the change.
    let shown = app.get("/api/v1/orgs/acme", &ann).await;
    assert_eq!(shown.body["display_name"], "Acme Inc.");
    assert_eq!(shown.body["avatar_url"], "https://img.example/b.png");
    let cleared = app
        .patch("/api/v1/orgs/acme", &ann, json!({"avatar_url": ""}))
        .await;
    cleared.assert_status(200);
    assert_eq!(cleared.body["avatar_url"], serde_json::Value::Null);
    let res = app
        .patch("/api/v1/orgs/acme", &ann, json!({"display_name": " "}))
        .await;
    res.assert_problem(400, "validation");
    assert_eq!(res.body["errors"][0]["field"], "display_name");
}
