//! The console over HTTP, as a browser without JavaScript: sessions, CSRF, the guard's
//! answers as pages, security headers, and every form's bad input answered beside its
//! field with nothing changed (checked through the API). On both backends; fast, no
//! browser (`browser_console/` walks the seed in Chromium).

mod members;

use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod workspaces;

/// The tests' connections come from 127.0.0.1, here a trusted TLS proxy: a request that
/// says `X-Forwarded-Proto: https` came over https (the `Secure` cookie test).
async fn app(backend: Backend) -> TestApp {
    TestApp::with_settings(backend, |s| {
        s.trusted_proxies =
            plinth_server::runtime::forwarded::Cidr::parse_list("127.0.0.1/32").unwrap();
    })
    .await
}

plinth_store::on_both_backends!(app =>
    pages_need_a_session_and_come_back_only_to_local_paths,
    every_console_answer_has_the_security_headers,
    the_session_cookie_is_http_only_and_lax,
    forms_without_the_sessions_csrf_token_are_refused_and_change_nothing,
    profile_refusals_are_shown_beside_the_field_and_change_nothing,
    taken_and_reserved_handles_are_refused_inline,
    the_handle_change_is_reviewed_then_refused_or_made,
    delete_needs_the_handle_typed_exactly,
    sign_up_and_login_refusals_keep_the_input,
    usage_and_audit_filters_refuse_bad_input_inline,
    members_get_403_and_non_members_404,
    old_handles_redirect_and_resets_send_to_the_login_page,
    logging_out_revokes_the_session,
    the_audit_log_pages_older_and_newer,
    a_token_created_in_the_console_is_shown_once_and_works,
    tokens_are_deactivated_activated_and_deleted_from_the_console,
    token_refusals_are_shown_inline_and_create_nothing,
    a_token_from_a_session_an_org_reset_refused_is_refused_by_that_org,
);

mod user_settings;

/// An answer read whole.
struct Page {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Page {
    #[track_caller]
    fn status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self
    }

    fn location(&self) -> &str {
        self.headers
            .get("location")
            .map_or("", |v| v.to_str().unwrap())
    }

    /// The page's text with askama's entities decoded: what a person reads.
    fn read(&self) -> String {
        self.text
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    }

    /// `needle` is in the markup, or in the text as a person reads it.
    #[track_caller]
    fn contains(&self, needle: &str) -> &Self {
        assert!(
            self.text.contains(needle) || self.read().contains(needle),
            "no {needle:?} in the page:\n{}",
            self.text
        );
        self
    }

    /// The page's CSRF token (every form carries the same one).
    fn csrf(&self) -> String {
        self.text
            .split("name=csrf value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a csrf field")
            .to_owned()
    }
}

/// A browser: a cookie jar and the CSRF token of the page it last loaded.
struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
    csrf: String,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: Vec::new(),
            csrf: String::new(),
        }
    }

    /// Signs in on the console's login page.
    async fn signed_in(app: &'a TestApp, login: &str) -> Self {
        let mut browser = Self::new(app);
        browser.get("/login").await.status(200);
        let done = browser
            .post("/login", &[("login", login), ("password", PASSWORD)])
            .await;
        done.status(303);
        assert!(browser.cookie("plinth_session").is_some());
        browser.get("/").await.status(200);
        browser
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let mut req = req.header("accept", "text/html");
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.header());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !attributes.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        let text = res.text().await.unwrap();
        let page = Page {
            status,
            headers,
            text,
        };
        if page.text.contains("name=csrf value=\"") {
            self.csrf = page.csrf();
        }
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.app.client.get(format!("{}{path}", self.app.base));
        self.send(req).await
    }

    /// A form POST with the CSRF token of the last page.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// A form POST with exactly `fields` (no token added).
    async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }
}

async fn org(app: &TestApp, token: &str, handle: &str) -> Value {
    app.get(&format!("/api/v1/orgs/{handle}"), token).await.body
}

/// olivia owns acme (workspaces prod and staging); her API token.
async fn acme(app: &TestApp) -> String {
    let token = app.user("olivia").await;
    app.create_org(&token, "acme").await;
    app.create_workspace(&token, "acme", "prod").await;
    app.create_workspace(&token, "acme", "staging").await;
    token
}

async fn pages_need_a_session_and_come_back_only_to_local_paths(app: &TestApp) {
    acme(app).await;
    let mut b = Browser::new(app);
    let page = b.get("/orgs/acme/settings/usage?from=2026-01-01").await;
    page.status(303);
    assert_eq!(
        page.location(),
        "/login?next=%2Forgs%2Facme%2Fsettings%2Fusage%3Ffrom%3D2026-01-01"
    );
    b.get("/login?next=%2Forgs%2Facme")
        .await
        .status(200)
        .contains("<input type=\"hidden\" name=\"next\" value=\"/orgs/acme\">");
    for (next, back_to) in [
        ("/orgs/acme", "/orgs/acme"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
    ] {
        let mut b = Browser::new(app);
        b.get("/login").await;
        let done = b
            .post(
                "/login",
                &[("login", "olivia"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        done.status(303);
        assert_eq!(done.location(), back_to, "next={next}");
    }
    // Signed out, `/` offers a way in; signed in, the orgs.
    Browser::new(app)
        .get("/")
        .await
        .status(200)
        .contains("href=\"/login\"");
    let mut b = Browser::signed_in(app, "olivia@example.com").await;
    b.get("/")
        .await
        .contains("aria-label=\"Switch organization\"")
        .contains("href=\"/orgs/acme\"");
}

async fn every_console_answer_has_the_security_headers(app: &TestApp) {
    acme(app).await;
    app.user("nina").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    let mut pages = Vec::new();
    for path in [
        "/",
        "/orgs/acme",
        "/orgs/acme/settings/profile",
        "/orgs/acme/settings/usage",
        "/orgs/acme/settings/audit-log",
        "/orgs/acme/settings/advanced",
        "/no/such/page",
        "/static/console.css",
    ] {
        pages.push((path, b.get(path).await));
    }
    pages.push(("POST without token", b.post_raw("/orgs/new", &[]).await));
    let mut anonymous = Browser::new(app);
    for path in ["/", "/login", "/signup", "/device", "/orgs/acme"] {
        pages.push((path, anonymous.get(path).await));
    }
    let mut nina = Browser::signed_in(app, "nina").await;
    pages.push(("non-member", nina.get("/orgs/acme").await));
    for (what, page) in &pages {
        let header = |name: &str| {
            page.headers
                .get(name)
                .map_or_else(String::new, |v| v.to_str().unwrap().to_owned())
        };
        let csp = header("content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{what}: {csp:?}"
        );
        assert!(!csp.contains("unsafe-inline"), "{what}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("referrer-policy"), "same-origin", "{what}");
        if page.status.is_success() && header("content-type").starts_with("text/html") {
            // Nothing inline for the CSP to refuse: scripts only from the binary's files.
            assert_eq!(
                page.text.matches("<script").count(),
                page.text.matches("<script src=\"/static/").count(),
                "{what}"
            );
            assert!(!page.text.contains("<style"), "{what}");
            assert!(!page.text.contains(" style="), "{what}");
            assert_eq!(header("cache-control"), "no-store", "{what}");
        }
    }
    let css = b.get("/static/console.css").await;
    css.status(200);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        css.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    // API clients keep getting problem documents for unknown paths.
    app.request(Method::GET, "/no/such/page", None, None)
        .await
        .assert_problem(404, "not-found");
}

async fn the_session_cookie_is_http_only_and_lax(app: &TestApp) {
    app.user("olivia").await;
    for (proto, secure) in [(None, false), (Some("https"), true)] {
        let login = Browser::new(app).get("/login").await;
        let csrf = login.csrf();
        let pre = login
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("plinth_presession="))
            .unwrap();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", csrf.as_str()),
                ("login", "olivia"),
                ("password", PASSWORD),
            ])
            .finish();
        let mut req = app
            .client
            .post(format!("{}/login", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", pre.split(';').next().unwrap())
            .body(body);
        if let Some(proto) = proto {
            req = req.header("x-forwarded-proto", proto);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let session = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("plinth_session=plt_"))
            .expect("a session cookie with a temporary token");
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
        assert!(session.contains("Path=/") && session.contains("Max-Age="));
        assert_eq!(session.contains("Secure"), secure, "{session}");
        // The cookie's token is a real temporary token: the API accepts it too.
        let token = session
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("plinth_session=")
            .unwrap();
        app.get("/api/v1/user", token).await.assert_status(200);
    }
}

async fn forms_without_the_sessions_csrf_token_are_refused_and_change_nothing(app: &TestApp) {
    let token = acme(app).await;
    app.user("nina").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    let mut other = Browser::signed_in(app, "nina").await;
    let mut signed_out = Browser::new(app);
    signed_out.get("/login").await;
    b.get("/orgs/acme/settings/profile").await.status(200);
    let own = b.csrf.clone();
    let profile = [("display_name", "Hacked"), ("avatar_url", "")];
    let attempts: [(&str, String); 4] = [
        ("missing", String::new()),
        ("garbage", "not-a-token".to_owned()),
        ("another session's", other.csrf.clone()),
        ("a signed-out page's", signed_out.csrf.clone()),
    ];
    for (what, csrf) in &attempts {
        let mut fields = vec![];
        if !csrf.is_empty() {
            fields.push(("csrf", csrf.as_str()));
        }
        fields.extend_from_slice(&profile);
        b.post_raw("/orgs/acme/settings/profile", &fields)
            .await
            .status(403)
            .contains("This form expired");
        let _ = what;
    }
    // Its own token, but from another browser (no cookie): refused too.
    other
        .post_raw(
            "/orgs/acme/settings/profile",
            &[("csrf", own.as_str()), ("display_name", "Hacked")],
        )
        .await
        .status(403);
    // The other forms, without a token: nothing happens.
    for (path, fields) in [
        ("/orgs/new", vec![("handle", "sneaky")]),
        (
            "/orgs/acme/settings/advanced/handle",
            vec![("handle", "sneaky"), ("confirmed", "yes")],
        ),
        ("/orgs/acme/settings/advanced/reset-auth", vec![]),
        (
            "/orgs/acme/settings/advanced/delete",
            vec![("confirm", "acme")],
        ),
        ("/logout", vec![]),
    ] {
        b.post_raw(path, &fields).await.status(403);
    }
    let org = org(app, &token, "acme").await;
    assert_eq!(org["display_name"], "acme");
    assert_eq!(org["handle"], "acme");
    app.get("/api/v1/orgs/sneaky", &token)
        .await
        .assert_status(404);
    // Still signed in, the reset did not happen: the API token still works.
    b.get("/orgs/acme").await.status(200);
    app.get("/api/v1/orgs/acme", &token)
        .await
        .assert_status(200);
    // With the token, the same form works.
    b.post(
        "/orgs/acme/settings/profile",
        &[("display_name", "Acme Inc"), ("avatar_url", "")],
    )
    .await
    .status(303);
    assert_eq!(org_name(app, &token).await, "Acme Inc");
}

async fn org_name(app: &TestApp, token: &str) -> String {
    org(app, token, "acme").await["display_name"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn profile_refusals_are_shown_beside_the_field_and_change_nothing(app: &TestApp) {
    let token = acme(app).await;
    app.patch(
        "/api/v1/orgs/acme",
        &token,
        json!({"display_name": "Acme", "avatar_url": "https://example.com/a.png"}),
    )
    .await
    .assert_status(200);
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme/settings/profile").await.status(200);
    let empty = b
        .post(
            "/orgs/acme/settings/profile",
            &[
                ("display_name", "   "),
                ("avatar_url", "https://example.com/b.png"),
            ],
        )
        .await;
    empty
        .status(400)
        .contains("id=\"display_name-error\"")
        .contains("aria-invalid=\"true\"")
        // The user's input is kept.
        .contains("value=\"https://example.com/b.png\"");
    let script = b
        .post(
            "/orgs/acme/settings/profile",
            &[
                ("display_name", "Acme Two"),
                ("avatar_url", "javascript:alert(\"x\")"),
            ],
        )
        .await;
    script
        .status(400)
        .contains("id=\"avatar_url-error\"")
        .contains("value=\"Acme Two\"");
    assert!(!script.text.contains("javascript:alert(\"x\")"), "escaped");
    assert!(!script.text.contains("src=\"javascript:"));
    let org = org(app, &token, "acme").await;
    assert_eq!(org["display_name"], "Acme");
    assert_eq!(org["avatar_url"], "https://example.com/a.png");
    // Saved: a flash on the page the POST redirects to; empty clears the avatar.
    let saved = b
        .post(
            "/orgs/acme/settings/profile",
            &[("display_name", "Acme Two"), ("avatar_url", "")],
        )
        .await;
    saved.status(303);
    assert_eq!(saved.location(), "/orgs/acme/settings/profile");
    b.get(saved.location())
        .await
        .contains("Profile saved.")
        .contains("aria-label=\"Acme Two avatar\"");
    // The flash shows once.
    let again = b.get("/orgs/acme/settings/profile").await;
    assert!(!again.text.contains("Profile saved."));
    assert!(org_name(app, &token).await == "Acme Two");
}

async fn taken_and_reserved_handles_are_refused_inline(app: &TestApp) {
    let token = acme(app).await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/new").await.status(200);
    for (handle, status, message) in [
        ("acme", 409, "already taken"),
        ("olivia", 409, "already taken"),
        ("admin", 400, "reserved"),
        ("Not a handle!", 400, "id=\"handle-error\""),
    ] {
        b.post("/orgs/new", &[("handle", handle), ("display_name", "X")])
            .await
            .status(status)
            .contains("id=\"handle-error\"")
            .contains(message)
            .contains("value=\"X\"");
    }
    let orgs = app.get("/api/v1/orgs", &token).await;
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 1);
    let made = b
        .post("/orgs/new", &[("handle", "beta"), ("display_name", "")])
        .await;
    made.status(303);
    assert_eq!(made.location(), "/orgs/beta");
    b.get("/orgs/beta")
        .await
        .contains("Organization \"beta\" created");
}

async fn the_handle_change_is_reviewed_then_refused_or_made(app: &TestApp) {
    let token = acme(app).await;
    let other = app.user("bob").await;
    app.create_org(&other, "taken").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme/settings/advanced").await.status(200);
    // Not a handle: refused at once, beside the field.
    b.post(
        "/orgs/acme/settings/advanced/handle",
        &[("handle", "Bad Handle!")],
    )
    .await
    .status(400)
    .contains("id=\"handle-error\"");
    // A valid one is reviewed first: nothing changes yet.
    let review = b
        .post(
            "/orgs/acme/settings/advanced/handle",
            &[("handle", "taken")],
        )
        .await;
    review
        .status(200)
        .contains("Nothing has changed yet")
        .contains("acme-prod.plinth.localhost")
        .contains("taken-prod.plinth.localhost")
        .contains("30 days");
    assert_eq!(org(app, &token, "acme").await["handle"], "acme");
    // Saving a taken handle: refused beside the field, the input kept.
    b.post(
        "/orgs/acme/settings/advanced/handle",
        &[("handle", "taken"), ("confirmed", "yes")],
    )
    .await
    .status(409)
    .contains("id=\"handle-error\"")
    .contains("already taken")
    .contains("value=\"taken\"");
    b.post(
        "/orgs/acme/settings/advanced/handle",
        &[("handle", "acme"), ("confirmed", "yes")],
    )
    .await
    .status(400)
    .contains("already this organization");
    assert_eq!(org(app, &token, "acme").await["handle"], "acme");
    let done = b
        .post(
            "/orgs/acme/settings/advanced/handle",
            &[("handle", "acme-labs"), ("confirmed", "yes")],
        )
        .await;
    done.status(303);
    assert_eq!(done.location(), "/orgs/acme-labs");
    b.get("/orgs/acme-labs")
        .await
        .contains("acme-labs-prod.plinth.localhost")
        .contains("The handle is now");
    let fresh = app.token_for("olivia").await;
    assert_eq!(org(app, &fresh, "acme-labs").await["handle"], "acme-labs");
}

async fn delete_needs_the_handle_typed_exactly(app: &TestApp) {
    let token = acme(app).await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme/settings/advanced/delete")
        .await
        .status(200)
        .contains("pattern=\"acme\"");
    for typed in ["", "ACME ", "acm", "acme-labs"] {
        b.post("/orgs/acme/settings/advanced/delete", &[("confirm", typed)])
            .await
            .status(400)
            .contains("id=\"confirm-error\"");
    }
    app.get("/api/v1/orgs/acme", &token)
        .await
        .assert_status(200);
    let done = b
        .post(
            "/orgs/acme/settings/advanced/delete",
            &[("confirm", "acme")],
        )
        .await;
    done.status(303);
    assert_eq!(done.location(), "/");
    let home = b.get("/").await;
    home.contains("was deleted");
    assert!(
        !home.text.contains("href=\"/orgs/acme\""),
        "gone from the switcher"
    );
    app.get("/api/v1/orgs/acme", &token)
        .await
        .assert_problem(404, "not-found");
    b.get("/orgs/acme")
        .await
        .status(404)
        .contains("Page not found");
}

async fn sign_up_and_login_refusals_keep_the_input(app: &TestApp) {
    app.user("olivia").await;
    let mut b = Browser::new(app);
    b.get("/signup").await.status(200);
    b.post(
        "/signup",
        &[
            ("handle", "olivia"),
            ("email", "o2@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await
    .status(409)
    .contains("id=\"handle-error\"")
    .contains("value=\"o2@example.com\"");
    b.post(
        "/signup",
        &[
            ("handle", "paul"),
            ("email", "paul@example.com"),
            ("password", "short"),
        ],
    )
    .await
    .status(400)
    .contains("id=\"password-error\"")
    .contains("value=\"paul\"");
    assert!(b.cookie("plinth_session").is_none());
    app.login("paul", PASSWORD).await.assert_status(401);
    b.get("/login").await;
    let wrong = b
        .post(
            "/login",
            &[("login", "olivia"), ("password", "not it at all")],
        )
        .await;
    wrong
        .status(401)
        .contains("role=\"alert\"")
        .contains("Wrong login or password")
        .contains("value=\"olivia\"");
    assert!(!wrong.text.contains("not it at all"));
    assert!(b.cookie("plinth_session").is_none());
    // A good sign-up signs in.
    let made = b
        .post(
            "/signup",
            &[
                ("handle", "paul"),
                ("email", "paul@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    made.status(303);
    assert!(b.cookie("plinth_session").is_some());
    b.get("/").await.contains("Welcome to Plinth");
}

async fn usage_and_audit_filters_refuse_bad_input_inline(app: &TestApp) {
    acme(app).await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/acme/settings/usage?from=2026-02-01&to=2026-01-01")
        .await
        .status(400)
        .contains("id=\"from-error\"")
        .contains("value=\"2026-02-01\"");
    b.get("/orgs/acme/settings/usage?from=2026-01-01&to=2026-01-31")
        .await
        .status(200)
        .contains("From 2026-01-01 to 2026-01-31")
        .contains("usage/download?from=2026-01-01&to=2026-01-31");
    b.get("/orgs/acme/settings/audit-log?actor=Not%20A%20Handle")
        .await
        .status(400)
        .contains("id=\"actor-error\"");
    b.get("/orgs/acme/settings/audit-log?action=Org%20Update")
        .await
        .status(400)
        .contains("id=\"action-error\"")
        .contains("value=\"Org Update\"");
    let page = b
        .get("/orgs/acme/settings/audit-log?action=workspace.*")
        .await;
    page.status(200).contains("workspace.create");
    assert!(!page.text.contains("<code>org.create</code>"));
}

async fn members_get_403_and_non_members_404(app: &TestApp) {
    let token = acme(app).await;
    app.member(&token, "acme", "max", "member").await;
    app.user("nina").await;
    let settings = [
        "/orgs/acme/settings",
        "/orgs/acme/settings/profile",
        "/orgs/acme/settings/usage",
        "/orgs/acme/settings/usage/download",
        "/orgs/acme/settings/audit-log",
        "/orgs/acme/settings/audit-log/export?format=csv",
        "/orgs/acme/settings/advanced",
        "/orgs/acme/settings/advanced/reset-auth",
        "/orgs/acme/settings/advanced/delete",
    ];
    let mut max = Browser::signed_in(app, "max").await;
    let org_page = max.get("/orgs/acme").await;
    org_page.status(200);
    assert!(
        !org_page
            .text
            .contains("/orgs/acme/settings/profile\">Settings")
    );
    for path in settings {
        max.get(path)
            .await
            .status(403)
            .contains("You can't open this page");
    }
    max.get("/orgs/acme").await;
    for (path, fields) in [
        (
            "/orgs/acme/settings/profile",
            vec![("display_name", "Max's")],
        ),
        ("/orgs/acme/settings/advanced/reset-auth", vec![]),
        (
            "/orgs/acme/settings/advanced/delete",
            vec![("confirm", "acme")],
        ),
        (
            "/orgs/acme/settings/advanced/handle",
            vec![("handle", "maxed"), ("confirmed", "yes")],
        ),
    ] {
        max.post(path, &fields).await.status(403);
    }
    let mut nina = Browser::signed_in(app, "nina").await;
    nina.get("/orgs/acme")
        .await
        .status(404)
        .contains("Page not found");
    for path in settings {
        nina.get(path).await.status(404);
    }
    nina.post(
        "/orgs/acme/settings/advanced/delete",
        &[("confirm", "acme")],
    )
    .await
    .status(404);
    let org = org(app, &token, "acme").await;
    assert_eq!(org["display_name"], "acme");
    app.get("/api/v1/orgs/acme", &token)
        .await
        .assert_status(200);
}

async fn old_handles_redirect_and_resets_send_to_the_login_page(app: &TestApp) {
    let token = acme(app).await;
    app.user("nina").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    app.post(
        "/api/v1/orgs/acme/handle",
        &token,
        json!({"handle": "acme-labs"}),
    )
    .await
    .assert_status(200);
    let moved = b.get("/orgs/acme/settings/audit-log?actor=olivia").await;
    moved.status(308);
    assert_eq!(
        moved.location(),
        "/orgs/acme-labs/settings/audit-log?actor=olivia"
    );
    // Someone who is not a member learns nothing of the new handle.
    let mut nina = Browser::signed_in(app, "nina").await;
    let refused = nina.get("/orgs/acme").await;
    refused.status(404);
    assert!(!refused.text.contains("acme-labs"));
    // A reset of the org: its pages send to the login page, saying why; the rest of
    // the console still works.
    let fresh = app.token_for("olivia").await;
    app.request(
        Method::POST,
        "/api/v1/orgs/acme-labs/reset-auth",
        Some(&fresh),
        None,
    )
    .await
    .assert_status(204);
    let page = b.get("/orgs/acme-labs/settings/usage").await;
    page.status(303);
    assert_eq!(
        page.location(),
        "/login?next=%2Forgs%2Facme-labs%2Fsettings%2Fusage&reason=auth-reset&org=acme-labs"
    );
    b.get(page.location())
        .await
        .status(200)
        .contains("Authentication for the organization \"acme-labs\" was reset");
    b.get("/").await.status(200);
    // Logging in again brings the user back.
    let next = b
        .post(
            "/login",
            &[
                ("login", "olivia"),
                ("password", PASSWORD),
                ("next", "/orgs/acme-labs/settings/usage"),
            ],
        )
        .await;
    assert_eq!(next.location(), "/orgs/acme-labs/settings/usage");
    b.get("/orgs/acme-labs/settings/usage").await.status(200);
    // The reset done from the console's own button lands there too.
    b.get("/orgs/acme-labs/settings/advanced/reset-auth")
        .await
        .status(200);
    let reset = b
        .post("/orgs/acme-labs/settings/advanced/reset-auth", &[])
        .await;
    reset.status(303);
    assert!(
        reset
            .location()
            .starts_with("/login?next=%2Forgs%2Facme-labs&reason=auth-reset")
    );
    b.get("/orgs/acme-labs").await.status(303);
}

async fn logging_out_revokes_the_session(app: &TestApp) {
    acme(app).await;
    let mut b = Browser::signed_in(app, "olivia").await;
    let token = b.cookie("plinth_session").unwrap().to_owned();
    let out = b.post("/logout", &[]).await;
    out.status(303);
    assert_eq!(out.location(), "/login?reason=signed-out");
    assert!(
        b.cookie("plinth_session").is_none(),
        "the cookie is cleared"
    );
    app.get("/api/v1/user", &token)
        .await
        .assert_problem(401, "token-revoked");
    // The old cookie, replayed, is refused like the API refuses the token.
    let mut replay = Browser::new(app);
    replay.cookies.push(("plinth_session".to_owned(), token));
    let page = replay.get("/orgs/acme").await;
    page.status(303);
    assert_eq!(page.location(), "/login?next=%2Forgs%2Facme&reason=revoked");
    // Signing in again over an old session signs that one out.
    let mut b = Browser::signed_in(app, "olivia").await;
    let first = b.cookie("plinth_session").unwrap().to_owned();
    b.get("/login").await;
    b.post("/login", &[("login", "olivia"), ("password", PASSWORD)])
        .await
        .status(303);
    assert_ne!(b.cookie("plinth_session").unwrap(), first);
    app.get("/api/v1/user", &first)
        .await
        .assert_problem(401, "token-revoked");
}

/// The `href` of the link whose text is `text`, entities decoded.
fn link(page: &Page, text: &str) -> Option<String> {
    let html = page.read();
    let end = html.find(&format!(">{text}</a>"))?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    let href = &html[start..end];
    Some(href[..href.find('"')?].to_owned())
}

async fn the_audit_log_pages_older_and_newer(app: &TestApp) {
    let token = acme(app).await;
    // 3 entries so far (org.create, 2 × workspace.create), then 30 profile changes.
    for i in 0..30 {
        app.patch(
            "/api/v1/orgs/acme",
            &token,
            json!({"display_name": format!("Acme {i}")}),
        )
        .await
        .assert_status(200);
    }
    let mut b = Browser::signed_in(app, "olivia").await;
    let first = b.get("/orgs/acme/settings/audit-log").await;
    first
        .status(200)
        .contains("Details of #33")
        .contains("Details of #9");
    assert!(!first.text.contains("Details of #8<"));
    assert!(
        link(&first, "← Newer").is_none(),
        "the first page is the newest"
    );
    let older = link(&first, "Older →").expect("an Older link");
    let second = b.get(&older).await;
    second
        .status(200)
        .contains("Details of #8")
        .contains("Details of #1");
    assert!(!second.text.contains("Details of #9<"));
    assert!(link(&second, "Older →").is_none(), "the last page");
    let newer = link(&second, "← Newer").expect("a Newer link");
    let back = b.get(&newer).await;
    back.status(200)
        .contains("Details of #33")
        .contains("Details of #9");
    assert!(link(&back, "← Newer").is_none());
    // Filters stay on every page.
    let filtered = b
        .get("/orgs/acme/settings/audit-log?action=org.update")
        .await;
    let older = link(&filtered, "Older →").expect("30 updates fill more than a page");
    assert!(older.contains("action=org.update"), "{older}");
    let rest = b.get(&older).await;
    rest.status(200).contains("Details of #4");
    assert!(!rest.text.contains("workspace.create"));
}

#[tokio::test]
async fn closed_sign_up_is_neither_offered_nor_done() {
    let app = TestApp::with_settings(Backend::Sqlite, |s| {
        s.signup = plinth_server::SignupMode::Closed;
    })
    .await;
    let mut b = Browser::new(&app);
    for path in ["/", "/login"] {
        let page = b.get(path).await;
        page.status(200);
        assert!(!page.text.contains("href=\"/signup"), "{path}");
    }
    b.get("/signup").await.status(200);
    b.post(
        "/signup",
        &[
            ("handle", "paul"),
            ("email", "paul@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await
    .status(403)
    .contains("Sign-up is closed on this server");
    assert!(b.cookie("plinth_session").is_none());
    app.cleanup().await;
}

/// The secret on the answer to the Create form.
fn new_secret(page: &Page) -> String {
    page.text
        .split("id=\"new-token\" type=\"text\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the new token's secret")
        .to_owned()
}

/// The user's tokens as the API lists them.
async fn api_tokens(app: &TestApp, token: &str) -> Vec<Value> {
    let list = app.get("/api/v1/user/tokens", token).await;
    list.assert_status(200);
    list.body["items"].as_array().unwrap().clone()
}

async fn a_token_created_in_the_console_is_shown_once_and_works(app: &TestApp) {
    let api = app.user("olivia").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    let menu = b.get("/settings/profile").await;
    menu.status(200).contains("href=\"/settings/tokens\"");
    b.get("/settings/tokens")
        .await
        .status(200)
        .contains("You have no user tokens yet.")
        .contains("Create token");
    let created = b
        .post(
            "/settings/tokens",
            &[
                ("title", "deploy bot"),
                ("description", "CI"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    created
        .status(200)
        .contains("Copy this token now: it will not be shown again")
        .contains("readonly");
    assert!(created.headers.get("location").is_none());
    assert_eq!(
        created.headers.get("cache-control").unwrap(),
        "no-store",
        "the secret's page is never cached"
    );
    let secret = new_secret(&created);
    assert!(secret.len() > 20, "a whole secret: {secret}");
    // Not in any cookie either.
    assert!(b.cookies.iter().all(|(_, v)| !v.contains(&secret)));
    let me = app.get("/api/v1/user", &secret).await;
    me.assert_status(200);
    assert_eq!(me.body["handle"], "olivia");
    let listed = api_tokens(app, &api).await;
    assert_eq!(listed.len(), 1);
    let last4 = listed[0]["last4"].as_str().unwrap().to_owned();
    assert!(secret.ends_with(&last4));
    let later = b.get("/settings/tokens").await;
    later.status(200).contains("deploy bot").contains(&last4);
    assert!(!later.text.contains(&secret), "the secret is shown once");
    assert!(!later.text.contains("Copy this token now"));
}

async fn tokens_are_deactivated_activated_and_deleted_from_the_console(app: &TestApp) {
    let api = app.user("olivia").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/settings/tokens").await.status(200);
    let created = b.post("/settings/tokens", &[("title", "cron")]).await;
    created.status(200);
    let secret = new_secret(&created);
    let id = api_tokens(app, &api).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let off = b
        .post(&format!("/settings/tokens/{id}/deactivate"), &[])
        .await;
    off.status(303);
    assert_eq!(off.location(), "/settings/tokens");
    b.get("/settings/tokens")
        .await
        .status(200)
        .contains("Token \"cron\" deactivated.")
        .contains("inactive")
        .contains(&format!("/settings/tokens/{id}/activate"));
    app.get("/api/v1/user", &secret)
        .await
        .assert_problem(401, "token-revoked");
    let on = b
        .post(&format!("/settings/tokens/{id}/activate"), &[])
        .await;
    on.status(303);
    b.get("/settings/tokens")
        .await
        .contains("Token \"cron\" activated.");
    app.get("/api/v1/user", &secret).await.assert_status(200);
    let gone = b.post(&format!("/settings/tokens/{id}/delete"), &[]).await;
    gone.status(303);
    let after = b.get("/settings/tokens").await;
    after
        .status(200)
        .contains("Token \"cron\" deleted.")
        .contains("You have no user tokens yet.");
    app.get("/api/v1/user", &secret)
        .await
        .assert_problem(401, "token-revoked");
    assert!(api_tokens(app, &api).await.is_empty());
    // Someone else's token id, or none: the 404 page, nothing changes.
    b.post("/settings/tokens/nope/deactivate", &[])
        .await
        .status(404);
    // A segment that cannot name anything is the same 404 page, not a plain-text error.
    let odd = b.post("/settings/tokens/%FF/deactivate", &[]).await;
    odd.status(404);
    assert!(odd.text.contains("<html"), "{}", odd.text);
}

async fn token_refusals_are_shown_inline_and_create_nothing(app: &TestApp) {
    let api = app.user("olivia").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/settings/tokens").await.status(200);
    let empty = b
        .post(
            "/settings/tokens",
            &[("title", "  "), ("description", "kept words")],
        )
        .await;
    empty
        .status(400)
        .contains("aria-invalid=\"true\" aria-describedby=\"title-error\"")
        .contains("Must not be empty.")
        .contains("value=\"kept words\"");
    assert!(!empty.text.contains("Copy this token now"));
    let days = b
        .post(
            "/settings/tokens",
            &[("title", "keep me"), ("expires_in_days", "forever")],
        )
        .await;
    days.status(400)
        .contains("aria-describedby=\"expires_in_days-error\"")
        .contains("value=\"keep me\"");
    b.post(
        "/settings/tokens",
        &[("title", "keep me"), ("expires_in_days", "0")],
    )
    .await
    .status(400)
    .contains("Must be between 1 and 3650.");
    // Without the session's CSRF token: the 403 page, nothing created.
    b.post_raw("/settings/tokens", &[("title", "sneaky")])
        .await
        .status(403)
        .contains("This form expired");
    b.post_raw(
        "/settings/tokens",
        &[("csrf", "not-a-token"), ("title", "sneaky")],
    )
    .await
    .status(403);
    assert!(api_tokens(app, &api).await.is_empty());
    // The limit: the 409 above the form, the input kept, nothing created.
    for i in 0..10 {
        app.user_token(&api, &format!("t{i}")).await;
    }
    let full = b.post("/settings/tokens", &[("title", "eleventh")]).await;
    // At the cap the form gives way to the explanation (tests/console/user_settings.rs).
    full.status(409)
        .contains("You have 10 user tokens, the most one account can hold.");
    assert_eq!(api_tokens(app, &api).await.len(), 10);
    // The CSRF-less actions change nothing either.
    let id = api_tokens(app, &api).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for action in ["deactivate", "delete"] {
        b.post_raw(&format!("/settings/tokens/{id}/{action}"), &[])
            .await
            .status(403);
    }
    let tokens = api_tokens(app, &api).await;
    assert_eq!(tokens.len(), 10);
    assert!(tokens.iter().all(|t| t["status"] == "active"));
}

async fn a_token_from_a_session_an_org_reset_refused_is_refused_by_that_org(app: &TestApp) {
    app.user("olivia").await;
    let mut b = Browser::signed_in(app, "olivia").await;
    b.get("/orgs/new").await.status(200);
    b.post("/orgs/new", &[("handle", "acme")]).await.status(303);
    b.get("/orgs/acme").await.status(200);
    let fresh = app.token_for("olivia").await;
    app.request(
        Method::POST,
        "/api/v1/orgs/acme/reset-auth",
        Some(&fresh),
        None,
    )
    .await
    .assert_status(204);
    // The org refuses the old session; the account was not reset, so its own pages
    // still open and can create a token.
    b.get("/orgs/acme").await.status(303);
    b.get("/settings/tokens").await.status(200);
    let created = b
        .post("/settings/tokens", &[("title", "after reset")])
        .await;
    created.status(200);
    let secret = new_secret(&created);
    // The token is only as fresh as the session that made it: refused by acme, fine
    // elsewhere.
    app.get("/api/v1/orgs/acme", &secret)
        .await
        .assert_problem(401, "auth-reset");
    app.get("/api/v1/user", &secret).await.assert_status(200);
    // A token made after a new login works for acme.
    let mut again = Browser::signed_in(app, "olivia").await;
    again.get("/settings/tokens").await.status(200);
    let renewed = again
        .post("/settings/tokens", &[("title", "renewed")])
        .await;
    renewed.status(200);
    app.get("/api/v1/orgs/acme", &new_secret(&renewed))
        .await
        .assert_status(200);
}
