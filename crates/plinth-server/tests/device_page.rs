//! The `/device` page, where a person approves a CLI login with their console session: a
//! plain HTML form with the session's CSRF token, driven over HTTP as a browser without
//! JavaScript would, on both backends. Signed out, the login page comes first and then
//! comes back to the code.

use plinth_server::testing::{PASSWORD, TestApp, TestResponse};
use plinth_store::test_support::Backend;
use serde_json::Value;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    a_signed_out_person_signs_in_first_and_comes_back_to_approve,
    denying_on_the_page_refuses_the_cli,
    the_form_needs_the_sessions_csrf_token,
    wrong_codes_and_decisions_are_refused_on_the_page,
    only_valid_codes_are_echoed,
);

const CLI: &str = "plinth-cli";

/// A browser's cookies and the CSRF field of the page it loaded last.
struct Session {
    cookies: Vec<String>,
    csrf: String,
}

impl Session {
    fn header(&self) -> String {
        self.cookies.join("; ")
    }

    fn keep(&mut self, res: &TestResponse) {
        for set in res.headers.get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            let name = pair.split('=').next().unwrap().to_owned();
            self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
            if !set.to_str().unwrap().contains("Max-Age=0") {
                self.cookies.push(pair);
            }
        }
        if let Some(csrf) = res
            .text
            .split("name=csrf value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        {
            self.csrf = csrf.to_owned();
        }
    }

    async fn get(&mut self, app: &TestApp, path: &str) -> TestResponse {
        let mut req = app.client.get(format!("{}{path}", app.base));
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.header());
        }
        let res = read(req.send().await.unwrap()).await;
        self.keep(&res);
        res
    }

    /// A form POST with exactly `fields`.
    async fn post(&mut self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = app
            .client
            .post(format!("{}{path}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.header());
        }
        let res = read(req.send().await.unwrap()).await;
        self.keep(&res);
        res
    }

    /// Signs in on the console's login page, going on to `next` (what the login page
    /// would carry), and answers where the login sent the browser.
    async fn sign_in(&mut self, app: &TestApp, login: &str, next: &str) -> String {
        let page = self.get(app, "/login").await;
        page.assert_status(200);
        let csrf = self.csrf.clone();
        let done = self
            .post(
                app,
                "/login",
                &[
                    ("csrf", &csrf),
                    ("login", login),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        done.assert_status(303);
        assert!(
            self.cookies
                .iter()
                .any(|c| c.starts_with("plinth_session="))
        );
        location(&done).to_owned()
    }

    async fn signed_in(app: &TestApp, login: &str) -> Self {
        let mut session = Self {
            cookies: Vec::new(),
            csrf: String::new(),
        };
        session.sign_in(app, login, "").await;
        session
    }

    /// Approve or Deny with the CSRF token of the last page.
    async fn decide(&mut self, app: &TestApp, user_code: &str, decision: &str) -> TestResponse {
        let csrf = self.csrf.clone();
        self.post(
            app,
            "/device",
            &[
                ("csrf", &csrf),
                ("user_code", user_code),
                ("decision", decision),
            ],
        )
        .await
    }
}

async fn read(response: reqwest::Response) -> TestResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    TestResponse {
        status,
        headers,
        body: Value::Null,
        text,
    }
}

fn location(res: &TestResponse) -> &str {
    res.headers
        .get("location")
        .map_or("", |v| v.to_str().unwrap())
}

fn code(grant: &Value) -> &str {
    grant["user_code"].as_str().unwrap()
}

async fn poll(app: &TestApp, grant: &Value) -> TestResponse {
    app.device_token(grant["device_code"].as_str().unwrap(), CLI)
        .await
}

async fn a_signed_out_person_signs_in_first_and_comes_back_to_approve(app: &TestApp) {
    app.user("bob").await;
    let grant = app.device_code(CLI).await;
    // The CLI opens verification_uri_complete: the code is in it.
    let complete = grant["verification_uri_complete"].as_str().unwrap();
    let path = &complete[complete.find("/device").unwrap()..];
    let mut browser = Session {
        cookies: Vec::new(),
        csrf: String::new(),
    };
    let first = browser.get(app, path).await;
    first.assert_status(303);
    let login = location(&first).to_owned();
    assert_eq!(
        login,
        format!("/login?next=%2Fdevice%3Fuser_code%3D{}", code(&grant))
    );
    let page = browser.get(app, &login).await;
    page.assert_status(200);
    assert!(page.text.contains("Sign in to continue."), "{}", page.text);
    let next = format!("/device?user_code={}", code(&grant));
    assert!(
        page.text.contains(&format!("value=\"{next}\"")),
        "{}",
        page.text
    );
    let back = browser.sign_in(app, "bob@example.com", &next).await;
    assert_eq!(back, next, "back to the code after signing in");

    let page = browser.get(app, &back).await;
    page.assert_status(200);
    assert!(
        page.text.contains("Approve this CLI login?"),
        "{}",
        page.text
    );
    assert!(page.text.contains(code(&grant)));
    assert!(
        !page.text.contains("type=\"password\""),
        "no password asked again"
    );
    let done = browser.decide(app, code(&grant), "approve").await;
    done.assert_status(200);
    assert!(
        done.text.contains("signed in as <strong>@bob</strong>"),
        "{}",
        done.text
    );
    let token = poll(app, &grant).await;
    token.assert_status(200);
    let me = app
        .get("/api/v1/user", token.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.body["handle"], "bob");
    let bob = app.token_for("bob").await;
    let log = app
        .get("/api/v1/user/audit-log?action=auth.device.approve", &bob)
        .await;
    assert_eq!(log.body["items"][0]["actor_handle"], "bob");
    // A decided code answers as an unknown one.
    let again = browser.get(app, &back).await;
    again.assert_status(404);
    assert!(
        again.text.contains("No CLI login is waiting"),
        "{}",
        again.text
    );
}

async fn denying_on_the_page_refuses_the_cli(app: &TestApp) {
    app.user("bob").await;
    let grant = app.device_code(CLI).await;
    let mut browser = Session::signed_in(app, "bob").await;
    // Typed by hand: lowercase, no dash.
    let typed = code(&grant).replace('-', "").to_lowercase();
    let page = browser
        .get(app, &format!("/device?user_code={typed}"))
        .await;
    page.assert_status(200);
    assert!(page.text.contains(&format!("value=\"{}\"", code(&grant))));
    let done = browser.decide(app, &typed, "deny").await;
    done.assert_status(200);
    assert!(done.text.contains("denied"), "{}", done.text);
    let refused = poll(app, &grant).await;
    assert_eq!(refused.body["error"], "access_denied", "{}", refused.text);
}

async fn the_form_needs_the_sessions_csrf_token(app: &TestApp) {
    app.user("bob").await;
    app.user("eve").await;
    let grant = app.device_code(CLI).await;
    let mut browser = Session::signed_in(app, "bob").await;
    browser
        .get(app, &format!("/device?user_code={}", code(&grant)))
        .await
        .assert_status(200);
    let mut eve = Session::signed_in(app, "eve").await;
    eve.get(app, "/device").await.assert_status(200);
    let fields = |csrf: &str| {
        [
            ("csrf", csrf.to_owned()),
            ("user_code", code(&grant).to_owned()),
            ("decision", "approve".to_owned()),
        ]
    };
    // No field, garbage, another session's token, no cookie at all (a cross-site post).
    for csrf in ["", "not-a-token", eve.csrf.as_str()] {
        let fields = fields(csrf);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = browser.post(app, "/device", &pairs).await;
        refused.assert_status(403);
        assert!(refused.text.contains("expired"), "{}", refused.text);
    }
    let mut stranger = Session {
        cookies: Vec::new(),
        csrf: String::new(),
    };
    let fields = fields(&browser.csrf);
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    stranger
        .post(app, "/device", &pairs)
        .await
        .assert_status(403);
    assert_eq!(
        poll(app, &grant).await.body["error"],
        "authorization_pending"
    );
    // The same form with its own session goes through.
    browser
        .decide(app, code(&grant), "approve")
        .await
        .assert_status(200);
}

async fn wrong_codes_and_decisions_are_refused_on_the_page(app: &TestApp) {
    app.user("bob").await;
    let grant = app.device_code(CLI).await;
    let mut browser = Session::signed_in(app, "bob").await;
    let empty = browser.get(app, "/device").await;
    empty.assert_status(200);
    assert!(empty.text.contains("Enter the code your terminal shows"));
    let malformed = browser.get(app, "/device?user_code=NOT-A-CODE").await;
    malformed.assert_status(400);
    assert!(
        malformed
            .text
            .contains("aria-describedby=\"user_code-error\""),
        "{}",
        malformed.text
    );
    let unknown_code = if code(&grant) == "BBBB-BBBB" {
        "CCCC-CCCC"
    } else {
        "BBBB-BBBB"
    };
    let unknown = browser
        .get(app, &format!("/device?user_code={unknown_code}"))
        .await;
    unknown.assert_status(404);
    assert!(unknown.text.contains("No CLI login is waiting for code"));
    browser
        .decide(app, unknown_code, "approve")
        .await
        .assert_status(404);
    browser
        .decide(app, "NOT-A-CODE", "approve")
        .await
        .assert_status(400);
    let maybe = browser.decide(app, code(&grant), "maybe").await;
    maybe.assert_status(400);
    assert!(maybe.text.contains("Choose Approve or Deny."));
    assert!(maybe.text.contains(&format!("value=\"{}\"", code(&grant))));
    // Nothing was decided.
    assert_eq!(
        poll(app, &grant).await.body["error"],
        "authorization_pending"
    );
    // A user API token in the cookie is no login session: the login page, nothing decided.
    let session = app.token_for("bob").await;
    let (_, user_token) = app.user_token(&session, "api").await;
    let res = app
        .client
        .get(format!("{}/device?user_code={}", app.base, code(&grant)))
        .header("cookie", format!("plinth_session={user_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=%2Fdevice")
    );
    // Still pending (read in the table: another poll this soon would be `slow_down`).
    let pending = app
        .db
        .execute_count(
            "SELECT COUNT(*) FROM device_grants WHERE status = 'pending'",
            &[],
        )
        .await;
    assert_eq!(pending, 1);
}

async fn only_valid_codes_are_echoed(app: &TestApp) {
    app.user("bob").await;
    let mut browser = Session::signed_in(app, "bob").await;
    let page = browser
        .get(
            app,
            "/device?user_code=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        )
        .await;
    page.assert_status(400);
    assert!(!page.text.contains("<script>"));
    assert!(
        page.text
            .contains("name=\"user_code\" type=\"text\" value=\"\"")
    );
    let page = browser.get(app, "/device?user_code=wdjbmjht").await;
    assert!(page.text.contains("value=\"WDJB-MJHT\""), "{}", page.text);
    let garbage = browser.get(app, "/device?user_code=%ZZ&&=").await;
    assert!(garbage.text.contains("value=\"\""));
}
