//! Members, invitations and the welcome page over HTTP, on both backends: every action
//! of the Members page and of `/invitations`, each refusal shown on the page it came
//! from, and nothing changed by a refusal (checked through the API).

use plinth_server::testing::TestApp;
use reqwest::Method;
use serde_json::Value;

use super::{Browser, acme, app};

plinth_store::on_both_backends!(app =>
    members_invite_accept_change_role_and_remove,
    members_cancel_decline_and_leave,
    members_read_the_list_and_non_members_get_404,
    members_form_refusals_are_inline_and_change_nothing,
    members_last_owner_is_refused_inline,
    members_non_owners_are_refused_inline,
    members_invitation_refusals_are_inline,
    members_an_org_reset_keeps_its_invitations_from_a_refused_session,
    members_the_badge_counts_live_invitations,
    members_a_user_with_no_org_is_welcomed,
);

/// The org's memberships through the API: handle → (role, status).
async fn roster(app: &TestApp, token: &str) -> Vec<(String, String, String)> {
    let listed = app.get("/api/v1/orgs/acme/members?limit=100", token).await;
    listed.assert_status(200);
    let mut all: Vec<_> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m: &Value| {
            (
                m["user"]["handle"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

fn entry(handle: &str, role: &str, status: &str) -> (String, String, String) {
    (handle.to_owned(), role.to_owned(), status.to_owned())
}

const MEMBERS: &str = "/orgs/acme/settings/members";

async fn members_invite_accept_change_role_and_remove(app: &TestApp) {
    let token = acme(app).await;
    app.user("max").await;
    let mut olivia = Browser::signed_in(app, "olivia").await;
    olivia
        .get(MEMBERS)
        .await
        .status(200)
        .contains("Invite Member")
        .contains("<label for=\"user\">Handle or email</label>")
        .contains("aria-label=\"Change role of olivia\"")
        .contains("No one is invited right now.");

    // Invite by email.
    let done = olivia
        .post(
            "/orgs/acme/settings/members/invite",
            &[("user", "max@example.com"), ("role", "member")],
        )
        .await;
    done.status(303);
    assert_eq!(done.location(), MEMBERS);
    olivia
        .get(MEMBERS)
        .await
        .status(200)
        .contains("Invited \"max\" as member.")
        .contains("Pending invitations <span class=\"muted\">(1)</span>")
        .contains("aria-label=\"Cancel invitation of max\"");
    assert_eq!(
        roster(app, &token).await,
        [
            entry("max", "member", "invited"),
            entry("olivia", "owner", "active")
        ]
    );

    // The invitee sees it, with the badge, and accepts.
    let mut max = Browser::signed_in(app, "max").await;
    max.get("/invitations")
        .await
        .status(200)
        .contains("1 pending invitation")
        .contains("<span class=\"badge\">1</span>")
        .contains("Invited as member by olivia")
        .contains("aria-label=\"Accept the invitation from acme\"");
    let accepted = max.post("/invitations/acme/accept", &[]).await;
    accepted.status(303);
    assert_eq!(accepted.location(), "/orgs/acme");
    let org_page = max.get("/orgs/acme").await;
    org_page
        .status(200)
        .contains("You joined \"acme\" as member.")
        .contains("href=\"/orgs/acme/settings/members\">Members</a>");
    assert!(!org_page.text.contains("pending invitation"));
    assert_eq!(
        roster(app, &token).await,
        [
            entry("max", "member", "active"),
            entry("olivia", "owner", "active")
        ]
    );

    // A role change, both ways.
    let changed = olivia
        .post("/orgs/acme/settings/members/max/role", &[("role", "owner")])
        .await;
    changed.status(303);
    assert_eq!(changed.location(), MEMBERS);
    olivia.get(MEMBERS).await.contains("\"max\" is now owner.");
    assert!(
        roster(app, &token)
            .await
            .contains(&entry("max", "owner", "active"))
    );
    olivia
        .post(
            "/orgs/acme/settings/members/max/role",
            &[("role", "member")],
        )
        .await
        .status(303);
    assert!(
        roster(app, &token)
            .await
            .contains(&entry("max", "member", "active"))
    );

    // Remove: first the confirm page, which changes nothing; then the button.
    olivia
        .get("/orgs/acme/settings/members/max/remove")
        .await
        .status(200)
        .contains("Remove max?")
        .contains("loses access to <strong>acme</strong> at once")
        .contains(">Remove member</button>")
        .contains("Keep max");
    assert_eq!(roster(app, &token).await.len(), 2);
    let removed = olivia
        .post("/orgs/acme/settings/members/max/remove", &[])
        .await;
    removed.status(303);
    assert_eq!(removed.location(), MEMBERS);
    olivia
        .get(MEMBERS)
        .await
        .contains("\"max\" was removed from \"acme\".");
    assert_eq!(
        roster(app, &token).await,
        [entry("olivia", "owner", "active")]
    );
    max.get("/orgs/acme").await.status(404);

    // A reload of an action's address goes back to the list.
    let back = olivia.get("/orgs/acme/settings/members/invite").await;
    back.status(303);
    assert_eq!(back.location(), MEMBERS);
}

async fn members_cancel_decline_and_leave(app: &TestApp) {
    let token = acme(app).await;
    let max_token = app.user("max").await;
    app.member(&token, "acme", "nina", "member").await;
    let mut olivia = Browser::signed_in(app, "olivia").await;

    // Cancel an invitation by handle.
    olivia.get(MEMBERS).await;
    olivia
        .post(
            "/orgs/acme/settings/members/invite",
            &[("user", "max"), ("role", "owner")],
        )
        .await
        .status(303);
    olivia
        .get(MEMBERS)
        .await
        .contains("Invited \"max\" as owner.");
    let cancelled = olivia
        .post("/orgs/acme/settings/members/max/cancel", &[])
        .await;
    cancelled.status(303);
    olivia
        .get(MEMBERS)
        .await
        .contains("The invitation of \"max\" was cancelled.");
    assert!(!roster(app, &token).await.iter().any(|m| m.0 == "max"));
    app.accept(&max_token, "acme")
        .await
        .assert_problem(404, "not-found");

    // Declined by the invitee.
    olivia
        .post(
            "/orgs/acme/settings/members/invite",
            &[("user", "max"), ("role", "member")],
        )
        .await
        .status(303);
    let mut max = Browser::signed_in(app, "max").await;
    max.get("/invitations").await.status(200);
    let declined = max.post("/invitations/acme/decline", &[]).await;
    declined.status(303);
    assert_eq!(declined.location(), "/invitations");
    let after = max.get("/invitations").await;
    after
        .status(200)
        .contains("You declined the invitation from \"acme\".")
        .contains("No pending invitations");
    assert!(!after.text.contains("class=\"badge\""));
    assert!(!roster(app, &token).await.iter().any(|m| m.0 == "max"));

    // A member leaves, after the confirm page.
    let mut nina = Browser::signed_in(app, "nina").await;
    nina.get("/orgs/acme/settings/members/nina/remove")
        .await
        .status(200)
        .contains("Leave acme?")
        .contains(">Leave organization</button>");
    let left = nina
        .post("/orgs/acme/settings/members/nina/remove", &[])
        .await;
    left.status(303);
    assert_eq!(left.location(), "/");
    nina.get("/")
        .await
        .contains("You left \"acme\". To come back, an owner must invite you again.");
    assert_eq!(
        roster(app, &token).await,
        [entry("olivia", "owner", "active")]
    );
}

async fn members_read_the_list_and_non_members_get_404(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "max", "member").await;
    app.user("nina").await;
    app.user("ivan").await;
    app.invite(&token, "acme", "ivan", "member")
        .await
        .assert_status(201);
    let mut max = Browser::signed_in(app, "max").await;
    let page = max.get(MEMBERS).await;
    page.status(200)
        .contains("Only owners can invite or change members.")
        .contains("<strong>olivia</strong>")
        .contains("aria-label=\"Leave acme\"")
        .contains("invited, not yet accepted");
    for owners_only in [
        "Invite Member",
        "Change role",
        "aria-label=\"Remove olivia\"",
        "aria-label=\"Cancel invitation of ivan\"",
        "/orgs/acme/settings/profile",
        "/orgs/acme/settings/advanced",
    ] {
        assert!(!page.text.contains(owners_only), "{owners_only}");
    }
    // Removing someone else: owners only, so no confirm page either.
    max.get("/orgs/acme/settings/members/olivia/remove")
        .await
        .status(403)
        .contains("You can't open this page");

    let mut nina = Browser::signed_in(app, "nina").await;
    for path in [
        MEMBERS,
        "/orgs/acme/settings/members/olivia/remove",
        "/orgs/acme/settings/members/invite",
    ] {
        nina.get(path).await.status(404).contains("Page not found");
    }
    nina.post(
        "/orgs/acme/settings/members/invite",
        &[("user", "nina"), ("role", "owner")],
    )
    .await
    .status(404);
    nina.post("/orgs/acme/settings/members/olivia/remove", &[])
        .await
        .status(404);
    // An unknown member's confirm page, and an undecodable one.
    let mut olivia = Browser::signed_in(app, "olivia").await;
    olivia
        .get("/orgs/acme/settings/members/nina/remove")
        .await
        .status(404);
    olivia
        .get("/orgs/acme/settings/members/%FF/remove")
        .await
        .status(404)
        .contains("Page not found");
    assert_eq!(roster(app, &token).await.len(), 3);
}

async fn members_form_refusals_are_inline_and_change_nothing(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "max", "member").await;
    app.user("ivan").await;
    app.invite(&token, "acme", "ivan", "member")
        .await
        .assert_status(201);
    let before = roster(app, &token).await;
    let mut olivia = Browser::signed_in(app, "olivia").await;
    olivia.get(MEMBERS).await;
    for (user, role, status, message) in [
        (
            "ghost",
            "member",
            404,
            "There is no user with the handle or email \"ghost\"; they need an account first.",
        ),
        (
            "ghost@example.com",
            "member",
            404,
            "There is no user with the handle or email \"ghost@example.com\"",
        ),
        (
            "Not A Handle!",
            "member",
            400,
            "Must be a handle or an email",
        ),
        ("", "member", 400, "Must be a handle or an email"),
        ("max", "member", 409, "\"max\" is already a member."),
        ("ivan", "owner", 409, "\"ivan\" is already invited."),
    ] {
        let page = olivia
            .post(
                "/orgs/acme/settings/members/invite",
                &[("user", user), ("role", role)],
            )
            .await;
        page.status(status)
            .contains(message)
            .contains("aria-invalid=\"true\" aria-describedby=\"user-error\"")
            .contains(&format!("name=\"user\" type=\"text\" value=\"{user}\""));
        // The role chosen is kept too.
        let chooser = page.text.split("id=\"invite-role\"").nth(1).unwrap();
        let chooser = chooser.split("</select>").next().unwrap();
        assert!(
            chooser.contains(&format!("<option value=\"{role}\" selected>")),
            "{chooser}"
        );
    }
    // A role the API does not know, beside the role.
    olivia
        .post(
            "/orgs/acme/settings/members/invite",
            &[("user", "nobody-yet"), ("role", "admin")],
        )
        .await
        .status(400)
        .contains("<p class=\"field-error\" id=\"invite-role-error\">Must be member or owner.</p>")
        .contains("value=\"nobody-yet\"");
    // The role change: an unknown role, an unknown person, someone not in the org.
    olivia
        .post("/orgs/acme/settings/members/max/role", &[("role", "admin")])
        .await
        .status(400)
        .contains("The role of \"max\" was not changed: Must be member or owner.");
    olivia
        .post("/orgs/acme/settings/members/max/role", &[])
        .await
        .status(400);
    olivia
        .post(
            "/orgs/acme/settings/members/ghost/role",
            &[("role", "owner")],
        )
        .await
        .status(404)
        .contains("The role of \"ghost\" was not changed: There is no user");
    app.user("nina").await;
    olivia
        .post(
            "/orgs/acme/settings/members/nina/role",
            &[("role", "owner")],
        )
        .await
        .status(404)
        .contains("\"nina\" is not a member of this organization, nor invited to it.");
    // Cancel is for invitations: an accepted one stays, and so does the member.
    olivia
        .post("/orgs/acme/settings/members/max/cancel", &[])
        .await
        .status(409)
        .contains("The invitation of \"max\" was not cancelled: \"max\" has already accepted the invitation and is a member now.");
    olivia
        .post("/orgs/acme/settings/members/ghost/cancel", &[])
        .await
        .status(404);
    // Removing someone unknown: the 404 page.
    olivia
        .post("/orgs/acme/settings/members/ghost/remove", &[])
        .await
        .status(404);
    assert_eq!(roster(app, &token).await, before);
    // No role at all.
    olivia
        .post("/orgs/acme/settings/members/invite", &[("user", "nina")])
        .await
        .status(400)
        .contains("id=\"invite-role-error\">Must be member or owner.</p>");
    assert_eq!(roster(app, &token).await, before);
}

async fn members_last_owner_is_refused_inline(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "max", "member").await;
    let before = roster(app, &token).await;
    let mut olivia = Browser::signed_in(app, "olivia").await;
    olivia.get(MEMBERS).await;
    olivia
        .post(
            "/orgs/acme/settings/members/olivia/role",
            &[("role", "member")],
        )
        .await
        .status(409)
        .contains("<div class=\"alert\" role=\"alert\">The role of \"olivia\" was not changed: An organization must keep at least one active owner; make someone else owner first.</div>");
    // Leaving as the last owner: the confirm page says why, nothing changed.
    olivia
        .get("/orgs/acme/settings/members/olivia/remove")
        .await
        .status(200)
        .contains("Leave acme?");
    olivia
        .post("/orgs/acme/settings/members/olivia/remove", &[])
        .await
        .status(409)
        .contains("An organization must keep at least one active owner; make someone else owner first. Nothing was changed.");
    assert_eq!(roster(app, &token).await, before);

    // With a second owner, the first may step down, and then manages nothing.
    olivia
        .post("/orgs/acme/settings/members/max/role", &[("role", "owner")])
        .await
        .status(303);
    olivia
        .post(
            "/orgs/acme/settings/members/olivia/role",
            &[("role", "member")],
        )
        .await
        .status(303);
    let page = olivia.get(MEMBERS).await;
    page.status(200).contains("\"olivia\" is now member.");
    assert!(!page.text.contains("Invite Member"));
    // Max is the last owner now: removing him is refused too.
    let mut max = Browser::signed_in(app, "max").await;
    max.get("/orgs/acme/settings/members/max/remove").await;
    max.post("/orgs/acme/settings/members/max/remove", &[])
        .await
        .status(409)
        .contains("must keep at least one active owner");
    assert_eq!(
        roster(app, &token).await,
        [
            entry("max", "owner", "active"),
            entry("olivia", "member", "active")
        ]
    );
}

async fn members_non_owners_are_refused_inline(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "max", "member").await;
    app.user("ivan").await;
    app.invite(&token, "acme", "ivan", "member")
        .await
        .assert_status(201);
    app.user("nina").await;
    let before = roster(app, &token).await;
    let mut max = Browser::signed_in(app, "max").await;
    max.get(MEMBERS).await;
    let refused = "Only owners of \"acme\" may do this.";
    max.post(
        "/orgs/acme/settings/members/invite",
        &[("user", "nina"), ("role", "owner")],
    )
    .await
    .status(403)
    .contains(&format!(
        "<div class=\"alert\" role=\"alert\">{refused}</div>"
    ));
    max.post("/orgs/acme/settings/members/max/role", &[("role", "owner")])
        .await
        .status(403)
        .contains(&format!("The role of \"max\" was not changed: {refused}"));
    max.post("/orgs/acme/settings/members/ivan/cancel", &[])
        .await
        .status(403)
        .contains(&format!(
            "The invitation of \"ivan\" was not cancelled: {refused}"
        ));
    max.post("/orgs/acme/settings/members/olivia/remove", &[])
        .await
        .status(403)
        .contains(&format!("{refused} Nothing was changed."));
    assert_eq!(roster(app, &token).await, before);
}

async fn members_invitation_refusals_are_inline(app: &TestApp) {
    let token = acme(app).await;
    app.user("max").await;
    let mut max = Browser::signed_in(app, "max").await;
    max.get("/invitations").await.status(200);
    for action in ["accept", "decline"] {
        for org in ["acme", "ghost", "Not%20A%20Handle"] {
            max.post(&format!("/invitations/{org}/{action}"), &[])
                .await
                .status(404)
                .contains("<div class=\"alert\" role=\"alert\">You have no pending invitation from this organization. Nothing was changed.</div>");
        }
        max.post(&format!("/invitations/%FF/{action}"), &[])
            .await
            .status(404)
            .contains("Page not found");
    }
    // A member already: accepting again changes nothing.
    app.invite(&token, "acme", "max", "member")
        .await
        .assert_status(201);
    max.post("/invitations/acme/accept", &[]).await.status(303);
    max.get("/invitations").await;
    max.post("/invitations/acme/accept", &[]).await.status(404);
    max.post("/invitations/acme/decline", &[]).await.status(404);
    assert!(
        roster(app, &token)
            .await
            .contains(&entry("max", "member", "active"))
    );
    // Signed out: the login page, then back.
    let mut anonymous = Browser::new(app);
    anonymous.get("/login").await;
    let away = anonymous.post("/invitations/acme/accept", &[]).await;
    away.status(303);
    assert!(away.location().starts_with("/login"), "{}", away.location());
}

async fn members_an_org_reset_keeps_its_invitations_from_a_refused_session(app: &TestApp) {
    let token = acme(app).await;
    app.user("max").await;
    let mut max = Browser::signed_in(app, "max").await;
    app.invite(&token, "acme", "max", "member")
        .await
        .assert_status(201);
    app.request(
        Method::POST,
        "/api/v1/orgs/acme/reset-auth",
        Some(&token),
        None,
    )
    .await
    .assert_status(204);
    let fresh = app.token_for("olivia").await;
    max.get("/invitations").await.status(200);
    let refused = max.post("/invitations/acme/accept", &[]).await;
    refused.status(303);
    assert_eq!(
        refused.location(),
        "/login?next=%2Finvitations&reason=auth-reset&org=acme"
    );
    assert!(
        roster(app, &fresh)
            .await
            .contains(&entry("max", "member", "invited"))
    );
    // Signed in again, the invitation can be accepted.
    let mut max = Browser::signed_in(app, "max").await;
    max.get("/invitations").await;
    max.post("/invitations/acme/accept", &[]).await.status(303);
    assert!(
        roster(app, &fresh)
            .await
            .contains(&entry("max", "member", "active"))
    );
}

async fn members_the_badge_counts_live_invitations(app: &TestApp) {
    let token = acme(app).await;
    app.create_org(&token, "globex").await;
    app.create_org(&token, "initech").await;
    app.user("max").await;
    let mut max = Browser::signed_in(app, "max").await;
    let page = max.get("/").await;
    assert!(!page.text.contains("class=\"badge\""));
    assert!(!page.text.contains("aria-describedby=\"invitations-badge\""));
    for org in ["acme", "globex", "initech"] {
        app.invite(&token, org, "max", "member")
            .await
            .assert_status(201);
    }
    max.get("/settings/tokens")
        .await
        .contains("aria-describedby=\"invitations-badge\"")
        .contains(
            "<span class=\"visually-hidden\" id=\"invitations-badge\">3 pending invitations</span>",
        )
        .contains("<span class=\"badge\">3</span>");
    // A deleted org's invitation is gone from the list and from the count.
    app.delete("/api/v1/orgs/initech?confirm=initech", &token)
        .await
        .assert_status(204);
    let page = max.get("/invitations").await;
    page.contains("2 pending invitations")
        .contains("Accept the invitation from globex");
    assert!(!page.text.contains("initech"));
    max.post("/invitations/globex/accept", &[])
        .await
        .status(303);
    max.get("/orgs/globex")
        .await
        .status(200)
        .contains("1 pending invitation");
}

async fn members_a_user_with_no_org_is_welcomed(app: &TestApp) {
    let token = acme(app).await;
    app.user("max").await;
    let mut max = Browser::signed_in(app, "max").await;
    let page = max.get("/").await;
    page.status(200)
        .contains("<h1 id=\"welcome-heading\">You are not in any organization yet</h1>")
        .contains("<strong>workspaces</strong>")
        .contains("<code>acme-prod.plinth.localhost</code>")
        .contains("<a class=\"button primary\" href=\"/orgs/new\">Create Organization</a>")
        .contains("Ask one of its owners to invite you");
    assert!(!page.text.contains("Your organizations</h1>"));
    app.invite(&token, "acme", "max", "member")
        .await
        .assert_status(201);
    max.get("/")
        .await
        .contains("<a href=\"/invitations\">see your 1 pending invitation</a>");
    // With an org, the list instead.
    max.post("/invitations/acme/accept", &[]).await.status(303);
    let page = max.get("/").await;
    page.contains("Your organizations</h1>")
        .contains("href=\"/orgs/acme\"");
    assert!(!page.text.contains("welcome-heading"));
}
