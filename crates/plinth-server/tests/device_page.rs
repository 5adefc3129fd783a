//! The `/device` page, where a person approves a CLI login: a plain HTML form with a CSRF
//! token, driven over HTTP as a browser without JavaScript would, on both backends.

use plinth_server::testing::{PASSWORD, TestApp, TestResponse};
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::Value;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    approving_on_the_page_signs_the_cli_in,
    denying_on_the_page_refuses_the_cli,
    the_form_needs_its_csrf_token,
    wrong_passwords_and_codes_are_refused_on_the_page,
    only_valid_codes_are_echoed,
);

const CLI: &str = "plinth-cli";

/// A page as a browser would load it: its pre-session cookie and CSRF field.
struct Form {
    cookie: String,
    csrf: String,
    html: String,
}

async fn open(app: &TestApp, path: &str) -> Form {
    let page = app.request(Method::GET, path, None, None).await;
    page.assert_status(200);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // The pre-session cookie that signed-out forms' CSRF tokens are bound to.
    let set_cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("plinth_presession="))
        .expect("a pre-session cookie")
        .to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = page
        .text
        .split("name=csrf value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned();
    // Derived from the cookie (HMAC), not a copy of it.
    assert_ne!(cookie, format!("plinth_presession={csrf}"));
    Form {
        cookie,
        csrf,
        html: page.text,
    }
}

async fn submit(app: &TestApp, cookie: Option<&str>, fields: &[(&str, &str)]) -> TestResponse {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut req = app
        .client
        .post(format!("{}/device", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    TestResponse {
        status,
        headers,
        body: Value::Null,
        text,
    }
}

fn code(grant: &Value) -> &str {
    grant["user_code"].as_str().unwrap()
}

async fn poll(app: &TestApp, grant: &Value) -> TestResponse {
    app.device_token(grant["device_code"].as_str().unwrap(), CLI)
        .await
}

async fn approving_on_the_page_signs_the_cli_in(app: &TestApp) {
    app.user("bob").await;
    let grant = app.device_code(CLI).await;
    // The CLI opens verification_uri_complete: the code is filled in.
    let complete = grant["verification_uri_complete"].as_str().unwrap();
    let path = &complete[complete.find("/device").unwrap()..];
    let form = open(app, path).await;
    assert!(form.html.contains(&format!("value=\"{}\"", code(&grant))));
    let done = submit(
        app,
        Some(&form.cookie),
        &[
            ("csrf", &form.csrf),
            ("user_code", code(&grant)),
            ("login", "bob@example.com"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ],
    )
    .await;
    done.assert_status(200);
    assert!(
        done.text.contains("signed in as <strong>@bob</strong>"),
        "{}",
        done.text
    );
    assert!(!done.text.contains(PASSWORD));
    let token = poll(app, &grant).await;
    token.assert_status(200);
    let me = app
        .get("/api/v1/user", token.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.body["handle"], "bob");
    // Signing in on the page issued no token of its own: bob's password login and the
    // CLI's are all there is.
    let sessions = app
        .db
        .execute_count("SELECT COUNT(*) FROM tokens WHERE kind = 'temporary'", &[])
        .await;
    assert_eq!(sessions, 2);
    let bob = app.token_for("bob").await;
    let log = app
        .get("/api/v1/user/audit-log?action=auth.device.approve", &bob)
        .await;
    assert_eq!(log.body["items"][0]["actor_handle"], "bob");
}

async fn denying_on_the_page_refuses_the_cli(app: &TestApp) {
    app.user("bob").await;
    let grant = app.device_code(CLI).await;
    let form = open(app, "/device").await;
    let done = submit(
        app,
        Some(&form.cookie),
        &[
            ("csrf", &form.csrf),
            // Typed by hand: lowercase, no dash.
            ("user_code", &code(&grant).replace('-', "").to_lowercase()),
            ("login", "bob"),
            ("password", PASSWORD),
            ("decision", "deny"),
        ],
    )
    .await;
    done.assert_status(200);
    assert!(done.text.contains("denied"), "{}", done.text);
    let refused = poll(app, &grant).await;
    assert_eq!(refused.body["error"], "access_denied", "{}", refused.text);
}

fn approval<'a>(csrf: &'a str, user_code: &'a str) -> [(&'static str, &'a str); 5] {
    [
        ("csrf", csrf),
        ("user_code", user_code),
        ("login", "bob"),
        ("password", PASSWORD),
        ("decision", "approve"),
    ]
}

async fn the_form_needs_its_csrf_token(app: &TestApp) {
    app.user("bob").await;
    let grant = app.device_code(CLI).await;
    let form = open(app, "/device").await;
    let other = open(app, "/device").await;
    // No cookie (a cross-site post), no field, another page's token: all refused.
    let attempts = [
        (None, approval(&form.csrf, code(&grant))),
        (Some(form.cookie.as_str()), approval("", code(&grant))),
        (
            Some(form.cookie.as_str()),
            approval(&other.csrf, code(&grant)),
        ),
    ];
    for (cookie, fields) in attempts {
        let refused = submit(app, cookie, &fields).await;
        refused.assert_status(403);
        assert!(refused.text.contains("expired"), "{}", refused.text);
    }
    assert_eq!(
        poll(app, &grant).await.body["error"],
        "authorization_pending"
    );
    // The same form with its own cookie goes through.
    submit(app, Some(&form.cookie), &approval(&form.csrf, code(&grant)))
        .await
        .assert_status(200);
}

async fn wrong_passwords_and_codes_are_refused_on_the_page(app: &TestApp) {
    app.user("bob").await;
    let grant = app.device_code(CLI).await;
    let form = open(app, "/device").await;
    let attempt = |user_code: &'static str, password: &'static str, decision: &'static str| {
        let form = &form;
        let grant = &grant;
        async move {
            let user_code = if user_code.is_empty() {
                code(grant)
            } else {
                user_code
            };
            submit(
                app,
                Some(&form.cookie),
                &[
                    ("csrf", &form.csrf),
                    ("user_code", user_code),
                    ("login", "bob"),
                    ("password", password),
                    ("decision", decision),
                ],
            )
            .await
        }
    };
    let wrong = attempt("", "not the password", "approve").await;
    wrong.assert_status(401);
    assert!(
        wrong.text.contains("Wrong login or password"),
        "{}",
        wrong.text
    );
    // The login is kept for the next try, the password never.
    assert!(wrong.text.contains("value=\"bob\""));
    assert!(!wrong.text.contains("not the password"));
    let malformed = attempt("NOT-A-CODE", PASSWORD, "approve").await;
    malformed.assert_status(400);
    let unknown_code = if code(&grant) == "BBBB-BBBB" {
        "CCCC-CCCC"
    } else {
        "BBBB-BBBB"
    };
    attempt(unknown_code, PASSWORD, "approve")
        .await
        .assert_status(404);
    attempt("", PASSWORD, "maybe").await.assert_status(400);
    // Nothing was decided; the wrong password is in bob's log.
    assert_eq!(
        poll(app, &grant).await.body["error"],
        "authorization_pending"
    );
    let bob = app.token_for("bob").await;
    let failed = app
        .get("/api/v1/user/audit-log?action=auth.login.failed", &bob)
        .await;
    assert_eq!(failed.body["items"].as_array().unwrap().len(), 1);
}

async fn only_valid_codes_are_echoed(app: &TestApp) {
    let form = open(
        app,
        "/device?user_code=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
    )
    .await;
    assert!(!form.html.contains("<script>"));
    assert!(form.html.contains("id=user_code name=user_code value=\"\""));
    let form = open(app, "/device?user_code=wdjbmjht").await;
    assert!(form.html.contains("value=\"WDJB-MJHT\""));
    let garbage = open(app, "/device?user_code=%ZZ&&=").await;
    assert!(garbage.html.contains("value=\"\""));
}
