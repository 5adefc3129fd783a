//! Invitations, roles, leaving, and the last-owner rule, on both databases.

use plinth_server::testing::TestApp;
use plinth_store::test_support::Backend;
use serde_json::json;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    invite_then_accept,
    decline_then_invite_again,
    bad_invitations,
    last_owner_is_kept,
    concurrent_demotions_keep_an_owner,
    members_leave_and_lose_workspace_roles,
);

async fn invite_then_accept(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.user("bob").await;

    let invited = app.invite(&ann, "acme", "bob@example.com", "member").await;
    invited.assert_status(201);
    assert_eq!(invited.body["user"]["handle"], "bob");
    assert_eq!(invited.body["status"], "invited");
    assert_eq!(invited.body["role"], "member");

    let invitations = app.get("/api/v1/user/invitations", &bob).await;
    invitations.assert_status(200);
    assert_eq!(invitations.body["items"][0]["org"]["handle"], "acme");
    assert_eq!(invitations.body["items"][0]["invited_by"], "ann");
    assert_eq!(invitations.body["items"][0]["role"], "member");
    // Invited is not a member yet.
    app.get("/api/v1/orgs/acme", &bob)
        .await
        .assert_problem(404, "not-found");
    assert!(
        app.get("/api/v1/orgs", &bob).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let accepted = app.accept(&bob, "acme").await;
    accepted.assert_status(200);
    assert_eq!(accepted.body["handle"], "acme");
    assert_eq!(accepted.body["role"], "member");
    app.get("/api/v1/orgs/acme", &bob).await.assert_status(200);
    assert_eq!(
        app.get("/api/v1/orgs", &bob).await.body["items"][0]["handle"],
        "acme"
    );
    assert!(
        app.get("/api/v1/user/invitations", &bob).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Accepting twice finds nothing to accept.
    app.accept(&bob, "acme")
        .await
        .assert_problem(404, "not-found");

    let members = app.get("/api/v1/orgs/acme/members", &bob).await;
    let handles: Vec<&str> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["bob", "ann"]);
    assert!(members.body["items"][0]["user"].get("email").is_none());
}

async fn decline_then_invite_again(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.user("bob").await;
    app.invite(&ann, "acme", "bob", "owner")
        .await
        .assert_status(201);
    app.decline(&bob, "acme").await.assert_status(204);
    app.decline(&bob, "acme")
        .await
        .assert_problem(404, "not-found");
    app.accept(&bob, "acme")
        .await
        .assert_problem(404, "not-found");
    app.get("/api/v1/orgs/acme", &bob)
        .await
        .assert_problem(404, "not-found");
    let members = app.get("/api/v1/orgs/acme/members", &ann).await;
    assert_eq!(members.body["items"].as_array().unwrap().len(), 1);

    // The org may ask again, and this time bob says yes.
    app.invite(&ann, "acme", "bob", "member")
        .await
        .assert_status(201);
    app.accept(&bob, "acme").await.assert_status(200);
    assert_eq!(
        app.get("/api/v1/orgs/acme", &bob).await.body["role"],
        "member"
    );

    // An owner can withdraw an invitation, too.
    let cy = app.user("cy").await;
    app.invite(&ann, "acme", "cy", "member")
        .await
        .assert_status(201);
    app.delete("/api/v1/orgs/acme/members/cy", &ann)
        .await
        .assert_status(204);
    app.accept(&cy, "acme")
        .await
        .assert_problem(404, "not-found");
}

async fn bad_invitations(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.user("bob").await;

    let unknown = app.invite(&ann, "acme", "nobody", "member").await;
    unknown.assert_problem(404, "not-found");
    assert!(
        unknown.body["detail"].as_str().unwrap().contains("nobody"),
        "{}",
        unknown.text
    );
    app.invite(&ann, "acme", "nobody@example.com", "member")
        .await
        .assert_problem(404, "not-found");

    let bad = app.invite(&ann, "acme", "not a handle", "member").await;
    bad.assert_problem(400, "validation");
    assert_eq!(bad.body["errors"][0]["field"], "user");
    let bad_role = app.invite(&ann, "acme", "bob", "admin").await;
    bad_role.assert_problem(400, "validation");
    assert_eq!(bad_role.body["errors"][0]["field"], "role");
    app.post("/api/v1/orgs/acme/members", &ann, json!({"user": "bob"}))
        .await
        .assert_problem(400, "validation");

    app.invite(&ann, "acme", "bob", "member")
        .await
        .assert_status(201);
    app.invite(&ann, "acme", "BOB", "owner")
        .await
        .assert_problem(409, "conflict");
    app.invite(&ann, "acme", "ann", "member")
        .await
        .assert_problem(409, "conflict");
    app.patch(
        "/api/v1/orgs/acme/members/nobody",
        &ann,
        json!({"role": "owner"}),
    )
    .await
    .assert_problem(404, "not-found");
}

async fn last_owner_is_kept(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.patch(
        "/api/v1/orgs/acme/members/ann",
        &ann,
        json!({"role": "member"}),
    )
    .await
    .assert_problem(409, "last-owner");
    app.delete("/api/v1/orgs/acme/members/ann", &ann)
        .await
        .assert_problem(409, "last-owner");

    // An invited owner does not count: they can't act yet.
    let bob = app.user("bob").await;
    app.invite(&ann, "acme", "bob", "owner")
        .await
        .assert_status(201);
    app.delete("/api/v1/orgs/acme/members/ann", &ann)
        .await
        .assert_problem(409, "last-owner");

    app.accept(&bob, "acme").await.assert_status(200);
    let demoted = app
        .patch(
            "/api/v1/orgs/acme/members/ann",
            &bob,
            json!({"role": "member"}),
        )
        .await;
    demoted.assert_status(200);
    assert_eq!(demoted.body["role"], "member");
    // Ann is a plain member now: the guard refuses her owner actions at once.
    app.invite(&ann, "acme", "bob", "member")
        .await
        .assert_problem(403, "forbidden");
    app.patch(
        "/api/v1/orgs/acme/members/bob",
        &bob,
        json!({"role": "member"}),
    )
    .await
    .assert_problem(409, "last-owner");
    app.delete("/api/v1/orgs/acme/members/bob", &bob)
        .await
        .assert_problem(409, "last-owner");
    // Removing a plain member is fine.
    app.delete("/api/v1/orgs/acme/members/ann", &bob)
        .await
        .assert_status(204);
}

async fn concurrent_demotions_keep_an_owner(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "owner").await;
    for _ in 0..3 {
        let body = json!({"role": "member"});
        let (a, b) = tokio::join!(
            app.patch("/api/v1/orgs/acme/members/bob", &ann, body.clone()),
            app.patch("/api/v1/orgs/acme/members/ann", &bob, body.clone()),
        );
        let statuses = [a.status.as_u16(), b.status.as_u16()];
        // One demotion wins; the other finds the org down to one owner, or its caller
        // no longer an owner. Never both.
        assert!(
            statuses.contains(&200) && !statuses.iter().all(|s| *s == 200),
            "{statuses:?}: {} / {}",
            a.text,
            b.text
        );
        // Exactly one owner is left; it makes the other owner again for the next round.
        let members = app.get("/api/v1/orgs/acme/members", &ann).await;
        let owners: Vec<String> = members.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "owner")
            .map(|m| m["user"]["handle"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(owners.len(), 1, "{owners:?}");
        let (owner_token, other) = if owners[0] == "ann" {
            (&ann, "bob")
        } else {
            (&bob, "ann")
        };
        app.patch(
            &format!("/api/v1/orgs/acme/members/{other}"),
            owner_token,
            json!({"role": "owner"}),
        )
        .await
        .assert_status(200);
    }
}

async fn members_leave_and_lose_workspace_roles(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    app.create_workspace(&ann, "acme", "prod").await;
    app.add_workspace_member(&ann, "acme", "prod", "bob", "operator")
        .await
        .assert_status(201);
    app.get("/api/v1/orgs/acme/workspaces/prod", &bob)
        .await
        .assert_status(200);
    // A member can't remove others, but may leave.
    app.delete("/api/v1/orgs/acme/members/ann", &bob)
        .await
        .assert_problem(403, "forbidden");
    app.delete("/api/v1/orgs/acme/members/bob", &bob)
        .await
        .assert_status(204);
    app.get("/api/v1/orgs/acme", &bob)
        .await
        .assert_problem(404, "not-found");
    let ws_members = app
        .get("/api/v1/orgs/acme/workspaces/prod/members", &ann)
        .await;
    assert!(ws_members.body["items"].as_array().unwrap().is_empty());
    // Invited back, bob has no workspace role left over.
    app.invite(&ann, "acme", "bob", "member")
        .await
        .assert_status(201);
    app.accept(&bob, "acme").await.assert_status(200);
    app.get("/api/v1/orgs/acme/workspaces/prod", &bob)
        .await
        .assert_problem(404, "not-found");
}
