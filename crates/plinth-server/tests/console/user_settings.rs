//! Your Settings over HTTP, as a browser without JavaScript, on both backends: the
//! Profile form, the Tokens page's confirm step and limit, the Security page's sessions
//! and "Sign out everywhere", and `/device` with a console session. Every bad input is
//! answered on the page and changes nothing (checked through the API).

use plinth_server::testing::TestApp;
use reqwest::Method;
use serde_json::Value;

use super::{Browser, Page, api_tokens, app, new_secret};

plinth_store::on_both_backends!(app =>
    the_profile_is_saved_and_bad_input_is_refused_beside_its_field,
    deleting_a_token_asks_first_and_the_limit_replaces_the_form,
    sessions_are_listed_with_their_origin_and_one_is_signed_out,
    signing_out_everywhere_ends_every_session_and_token,
    a_console_session_approves_a_cli_login_and_a_reset_one_cannot,
);

/// A Profile form's three fields.
type Fields = [(&'static str, &'static str); 3];

async fn me(app: &TestApp, token: &str) -> Value {
    let me = app.get("/api/v1/user", token).await;
    me.assert_status(200);
    me.body
}

async fn the_profile_is_saved_and_bad_input_is_refused_beside_its_field(app: &TestApp) {
    let api = app.user("olivia").await;
    app.user("taken").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    let page = b.get("/settings/profile").await;
    page.status(200)
        .contains("value=\"olivia\"")
        .contains("value=\"olivia@example.com\"")
        // No avatar URL yet: the drawn default.
        .contains("aria-label=\"olivia avatar\"")
        .contains("Plinth draws your initials");
    let before = me(app, &api).await;

    let form = |name: &'static str, url: &'static str, email: &'static str| {
        [
            ("display_name", name),
            ("avatar_url", url),
            ("email", email),
        ]
    };
    // Each bad field: beside itself, with what was typed kept, status of the problem.
    let cases: [(Fields, u16, &str, &str); 5] = [
        (
            form("   ", "", "olivia@example.com"),
            400,
            "display_name",
            "",
        ),
        (
            form("Olivia", "ftp://example.com/a.png", "olivia@example.com"),
            400,
            "avatar_url",
            "value=\"ftp://example.com/a.png\"",
        ),
        (
            form("Olivia", "", "not-an-email"),
            400,
            "email",
            "value=\"not-an-email\"",
        ),
        (
            form("Olivia\u{202e}", "", "olivia@example.com"),
            400,
            "display_name",
            "",
        ),
        // Another account's email: the 409 beside the email.
        (
            form("Olivia Kept", "", "taken@example.com"),
            409,
            "email",
            "value=\"Olivia Kept\"",
        ),
    ];
    for (fields, status, field, kept) in cases {
        let refused = b.post("/settings/profile", &fields).await;
        refused
            .status(status)
            .contains(&format!("aria-describedby=\"{field}-error\""));
        if !kept.is_empty() {
            refused.contains(kept);
        }
        assert!(refused.headers.get("location").is_none());
    }
    // Without the session's CSRF token: the 403 page.
    b.post_raw("/settings/profile", &form("Sneaky", "", "s@example.com"))
        .await
        .status(403)
        .contains("This form expired");
    assert_eq!(me(app, &api).await, before, "nothing changed");

    let avatar = format!("{}/static/favicon.svg", app.base);
    let saved = b
        .post(
            "/settings/profile",
            &[
                ("display_name", "Olivia Owner"),
                ("avatar_url", &avatar),
                ("email", "OLIVIA@corp.example"),
            ],
        )
        .await;
    saved.status(303);
    assert_eq!(saved.location(), "/settings/profile");
    let after = me(app, &api).await;
    assert_eq!(after["display_name"], "Olivia Owner");
    assert_eq!(after["avatar_url"], avatar.as_str());
    assert_eq!(after["email"], "olivia@corp.example");
    b.get("/settings/profile")
        .await
        .status(200)
        .contains("Profile saved.")
        .contains("value=\"Olivia Owner\"")
        .contains(&format!("<img class=\"avatar large\" src=\"{avatar}\""));
    // An empty avatar URL clears it, as in the API: the default comes back.
    b.post(
        "/settings/profile",
        &[
            ("display_name", "Olivia Owner"),
            ("avatar_url", " "),
            ("email", "olivia@corp.example"),
        ],
    )
    .await
    .status(303);
    assert_eq!(me(app, &api).await["avatar_url"], Value::Null);
    b.get("/settings/profile")
        .await
        .contains("aria-label=\"Olivia Owner avatar\"");
}

async fn deleting_a_token_asks_first_and_the_limit_replaces_the_form(app: &TestApp) {
    let api = app.user("olivia").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    let page = b.get("/settings/tokens").await;
    // The expiry choices, 30 days to start with; the limit said before it is reached.
    page.status(200)
        .contains("<option value=\"7\">7 days</option>")
        .contains("<option value=\"30\" selected>30 days</option>")
        .contains("<option value=\"\">No expiry</option>")
        .contains("You can hold up to 10 user tokens; you have 0.");
    let created = b
        .post(
            "/settings/tokens",
            &[("title", "deploy"), ("expires_in_days", "7")],
        )
        .await;
    created.status(200);
    let secret = new_secret(&created);
    let token = &api_tokens(app, &api).await[0];
    let id = token["id"].as_str().unwrap().to_owned();
    let expires = token["expires_at"].as_str().unwrap();
    assert!(expires.starts_with(&(time_in_days(7))), "{expires}");

    // Delete is a link to a page that says what happens; nothing is deleted by it.
    b.get("/settings/tokens")
        .await
        .contains(&format!("href=\"/settings/tokens/{id}/delete\""));
    let confirm = b.get(&format!("/settings/tokens/{id}/delete")).await;
    confirm
        .status(200)
        .contains("Delete the token \"deploy\"?")
        .contains("cannot be undone")
        .contains(&format!("action=\"/settings/tokens/{id}/delete\""))
        .contains("Cancel");
    app.get("/api/v1/user", &secret).await.assert_status(200);
    // Unknown or undecodable ids: the 404 page.
    b.get("/settings/tokens/nope/delete").await.status(404);
    b.get("/settings/tokens/%FF/delete").await.status(404);
    // The confirm page's button, without its CSRF token: nothing deleted.
    b.post_raw(&format!("/settings/tokens/{id}/delete"), &[])
        .await
        .status(403);
    app.get("/api/v1/user", &secret).await.assert_status(200);
    let gone = b.post(&format!("/settings/tokens/{id}/delete"), &[]).await;
    gone.status(303);
    assert_eq!(gone.location(), "/settings/tokens");
    b.get("/settings/tokens")
        .await
        .contains("Token \"deploy\" deleted.");
    app.get("/api/v1/user", &secret)
        .await
        .assert_problem(401, "token-revoked");
    // Deleted: its confirm page is gone too.
    b.get(&format!("/settings/tokens/{id}/delete"))
        .await
        .status(404);

    // At the limit the Create form gives way to the explanation.
    for i in 0..10 {
        app.user_token(&api, &format!("t{i}")).await;
    }
    let full = b.get("/settings/tokens").await;
    full.status(200)
        .contains("You have 10 user tokens, the most one account can hold.")
        .contains("delete one you no longer use");
    assert!(
        !full.text.contains("action=\"/settings/tokens\""),
        "no form"
    );
    // A Create sent anyway is refused with the same explanation, nothing created.
    let refused = b.post("/settings/tokens", &[("title", "eleventh")]).await;
    refused
        .status(409)
        .contains("You have 10 user tokens, the most one account can hold.");
    assert_eq!(api_tokens(app, &api).await.len(), 10);
}

/// Today plus `days`, as the start of an RFC 3339 date.
fn time_in_days(days: i64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    format!("{:04}-{:02}-", at.year(), u8::from(at.month()))
}

/// The session id in the Security page's row marked "This session".
fn current_session_id(page: &Page) -> String {
    let row = page
        .text
        .split("<tr>")
        .find(|row| row.contains("This session"))
        .expect("a row for this session");
    row.split("/settings/security/sessions/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("its sign-out form")
        .to_owned()
}

/// A CLI login approved through the API by `approver`: the CLI's token.
async fn cli_login(app: &TestApp, approver: &str) -> String {
    let grant = app.device_code("plinth-cli").await;
    app.post(
        "/api/v1/device/approve",
        approver,
        serde_json::json!({ "user_code": grant["user_code"] }),
    )
    .await
    .assert_status(200);
    let token = app
        .device_token(grant["device_code"].as_str().unwrap(), "plinth-cli")
        .await;
    token.assert_status(200);
    token.body["access_token"].as_str().unwrap().to_owned()
}

async fn sessions_are_listed_with_their_origin_and_one_is_signed_out(app: &TestApp) {
    let api = app.user("olivia").await;
    let cli = cli_login(app, &api).await;
    let (_, user_token) = app.user_token(&api, "not a session").await;
    let mut a = Browser::signed_in(app, "olivia").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    app.user("mallory").await;
    let mut m = Browser::signed_in(app, "mallory").await;

    let page = a.get("/settings/security").await;
    page.status(200)
        .contains("Your sessions")
        .contains("<strong>Console</strong>")
        .contains("<strong>CLI</strong>")
        .contains("<strong>API login</strong>")
        .contains("<code>127.0.0.1</code>")
        .contains("Sign out everywhere");
    // Two console sessions, the CLI's and the API login: user tokens are not sessions.
    let rows = page.text.matches("/sign-out\">").count();
    assert_eq!(rows, 4, "{}", page.text);
    assert!(!page.text.contains("not a session"));
    assert_eq!(page.text.matches("This session").count(), 1);
    let a_id = current_session_id(&page);
    let b_id = current_session_id(&b.get("/settings/security").await);
    assert_ne!(a_id, b_id);

    // Someone else's session, an unknown or undecodable id: the 404 page, nothing ends.
    let m_page = m.get("/settings/security").await;
    m_page.status(200);
    assert!(!m_page.text.contains(&b_id), "only one's own sessions");
    m.post(&format!("/settings/security/sessions/{b_id}/sign-out"), &[])
        .await
        .status(404);
    a.get("/settings/security").await;
    a.post("/settings/security/sessions/nope/sign-out", &[])
        .await
        .status(404);
    a.post("/settings/security/sessions/%FF/sign-out", &[])
        .await
        .status(404);
    // The user token's id names no session either.
    let token_id = api_tokens(app, &api).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    a.post(
        &format!("/settings/security/sessions/{token_id}/sign-out"),
        &[],
    )
    .await
    .status(404);
    // Without the CSRF token: 403, nothing ends.
    a.post_raw(&format!("/settings/security/sessions/{b_id}/sign-out"), &[])
        .await
        .status(403);
    b.get("/settings/security").await.status(200);
    app.get("/api/v1/user", &user_token)
        .await
        .assert_status(200);

    // A signs B out: B is at the login page at its next click, A and the CLI go on.
    a.get("/settings/security").await;
    let done = a
        .post(&format!("/settings/security/sessions/{b_id}/sign-out"), &[])
        .await;
    done.status(303);
    assert_eq!(done.location(), "/settings/security");
    let after = a.get("/settings/security").await;
    after
        .status(200)
        .contains("Signed out the Console session from 127.0.0.1");
    assert!(!after.text.contains(&b_id));
    let refused = b.get("/settings/security").await;
    refused.status(303);
    assert!(
        refused.location().starts_with("/login?") && refused.location().contains("reason=revoked"),
        "{}",
        refused.location()
    );
    app.get("/api/v1/user", &cli).await.assert_status(200);
    let log = app
        .get("/api/v1/user/audit-log?action=auth.logout", &api)
        .await;
    assert_eq!(log.body["items"][0]["target_id"], b_id.as_str());

    // Signing out the current session is a logout: the cookie goes, the login page next.
    a.get("/settings/security").await;
    let out = a
        .post(&format!("/settings/security/sessions/{a_id}/sign-out"), &[])
        .await;
    out.status(303);
    assert_eq!(out.location(), "/login?reason=signed-out");
    assert!(a.cookie("plinth_session").is_none());
    a.get("/login?reason=signed-out")
        .await
        .contains("You are signed out.");
    a.get("/settings/security").await.status(303);
}

async fn signing_out_everywhere_ends_every_session_and_token(app: &TestApp) {
    let api = app.user("olivia").await;
    let (_, user_token) = app.user_token(&api, "cron").await;
    let cli = cli_login(app, &api).await;
    let mut a = Browser::signed_in(app, "olivia").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    app.user("other").await;
    let mut o = Browser::signed_in(app, "other").await;

    a.get("/settings/security")
        .await
        .contains("href=\"/settings/security/sign-out-everywhere\"");
    // The link is a page that says what will happen; nothing has happened yet.
    let confirm = a.get("/settings/security/sign-out-everywhere").await;
    confirm
        .status(200)
        .contains("Sign out everywhere?")
        .contains("this browser included")
        .contains("every user token you created is refused")
        .contains("action=\"/settings/security/sign-out-everywhere\"");
    b.get("/settings/security").await.status(200);
    // Without the CSRF token, or with another session's: 403 and nothing changes.
    a.post_raw("/settings/security/sign-out-everywhere", &[])
        .await
        .status(403);
    let other_csrf = o.get("/settings/security").await.csrf();
    a.post_raw(
        "/settings/security/sign-out-everywhere",
        &[("csrf", &other_csrf)],
    )
    .await
    .status(403);
    for token in [&api, &user_token, &cli] {
        app.get("/api/v1/user", token).await.assert_status(200);
    }
    b.get("/settings/security").await.status(200);

    a.get("/settings/security/sign-out-everywhere").await;
    let done = a.post("/settings/security/sign-out-everywhere", &[]).await;
    done.status(303);
    assert_eq!(done.location(), "/login?reason=account-reset");
    assert!(a.cookie("plinth_session").is_none());
    a.get(done.location())
        .await
        .status(200)
        .contains("You signed out everywhere, so this session ended.");
    // The other browser's next page is the login page, saying why.
    let ended = b.get("/settings/profile").await;
    ended.status(303);
    assert!(
        ended.location().contains("reason=account-reset"),
        "{}",
        ended.location()
    );
    b.get(ended.location())
        .await
        .contains("You signed out everywhere, so this session ended.");
    for token in [&api, &user_token, &cli] {
        app.get("/api/v1/user", token)
            .await
            .assert_problem(401, "auth-reset");
    }
    // Someone else is untouched; a new login works at once and lists only itself.
    o.get("/settings/security").await.status(200);
    let mut again = Browser::signed_in(app, "olivia").await;
    let page = again.get("/settings/security").await;
    page.status(200);
    assert_eq!(
        page.text.matches("/sign-out\">").count(),
        1,
        "{}",
        page.text
    );
    let log = app
        .get(
            "/api/v1/user/audit-log?action=user.auth.reset",
            &app.token_for("olivia").await,
        )
        .await;
    assert_eq!(
        log.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        log.text
    );
}

async fn a_console_session_approves_a_cli_login_and_a_reset_one_cannot(app: &TestApp) {
    app.user("bob").await;
    let mut b = Browser::signed_in(app, "bob").await;
    let grant = app.device_code("plinth-cli").await;
    let code = grant["user_code"].as_str().unwrap();
    // The link the CLI prints: the code, who asked and when, and the two buttons.
    let complete = grant["verification_uri_complete"].as_str().unwrap();
    let path = &complete[complete.find("/device").unwrap()..];
    let page = b.get(path).await;
    page.status(200)
        .contains("Approve this CLI login?")
        .contains(&format!("<code class=\"code-input\">{code}</code>"))
        .contains("Requested from</dt><dd><code>127.0.0.1</code>")
        .contains("Requested at")
        .contains("(just now)")
        .contains("plinth-cli")
        .contains("value=\"approve\"")
        .contains("value=\"deny\"");
    // No password asked for.
    assert!(!page.text.contains("type=\"password\""));
    let done = b
        .post("/device", &[("user_code", code), ("decision", "approve")])
        .await;
    done.status(200)
        .contains("CLI login approved")
        .contains("signed in as <strong>@bob</strong>");
    let token = app
        .device_token(grant["device_code"].as_str().unwrap(), "plinth-cli")
        .await;
    token.assert_status(200);
    let cli = token.body["access_token"].as_str().unwrap();
    assert_eq!(me(app, cli).await["handle"], "bob");
    // The CLI's token inherits the console session's authenticated_at, and is listed as
    // a CLI session with the poll's address.
    let inherited = app
        .db
        .execute_count(
            "SELECT COUNT(*) FROM tokens c JOIN tokens s ON s.user_id = c.user_id \
             WHERE c.client = 'cli' AND s.client = 'console' \
             AND c.authenticated_at = s.authenticated_at AND c.created_ip = '127.0.0.1'",
            &[],
        )
        .await;
    assert_eq!(inherited, 1);
    b.get("/settings/security")
        .await
        .contains("<strong>CLI</strong>");

    // bob signs out everywhere elsewhere: this browser's session is refused, so it can
    // neither see nor approve the next code; the login page comes first, then back.
    let grant = app.device_code("plinth-cli").await;
    let code = grant["user_code"].as_str().unwrap().to_owned();
    let page = b.get(&format!("/device?user_code={code}")).await;
    page.status(200);
    let fresh = app.token_for("bob").await;
    app.request(Method::POST, "/api/v1/user/reset-auth", Some(&fresh), None)
        .await
        .assert_status(204);
    let refused = b
        .post(
            "/device",
            &[("user_code", code.as_str()), ("decision", "approve")],
        )
        .await;
    refused.status(303);
    assert!(
        refused.location().starts_with("/login?next=%2Fdevice")
            && refused.location().contains("reason=account-reset"),
        "{}",
        refused.location()
    );
    let shown = b.get(&format!("/device?user_code={code}")).await;
    shown.status(303);
    assert!(
        shown
            .location()
            .contains(&format!("next=%2Fdevice%3Fuser_code%3D{code}")),
        "{}",
        shown.location()
    );
    assert_eq!(
        app.device_token(grant["device_code"].as_str().unwrap(), "plinth-cli")
            .await
            .body["error"],
        "authorization_pending"
    );
}
