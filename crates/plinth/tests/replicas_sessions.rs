//! Two `plinth serve` processes on one PostgreSQL database, for every change that ends a
//! session, a membership or a name: token deletion, logout, sign out everywhere, org
//! reset, member removal, rename and delete. Each is made through replica A right after
//! replica B answered the same requests from its caches (its auth cache miss counter
//! stayed flat), and B must refuse, redirect or forget within 1 s in its API, its
//! console (a cookie session), its workspace hosts and its DNS server.
//!
//! PostgreSQL only, on purpose: a SQLite database has exactly one server process.

mod common;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{
    Plinth, auth_cache_misses, call, console_get, console_login, csrf_field, no_redirects, serve,
    signup_and_login, temp_dir, within_one_second,
};
use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::RecordType;
use plinth_server::testing::dns::udp_query;
use plinth_store::test_support::{Backend, TestDb};
use reqwest::Method;
use serde_json::{Value, json};

/// Two replicas on a fresh PostgreSQL database.
struct Replicas {
    db: TestDb,
    a: Plinth,
    b: Plinth,
    dirs: [PathBuf; 2],
}

impl Replicas {
    async fn start(name: &str) -> Self {
        let db = TestDb::new(Backend::Postgres).await;
        let args = [
            "--bind",
            "127.0.0.1:0",
            "--dns-bind",
            "127.0.0.1:0",
            "--database-url",
            db.url.as_str(),
        ];
        let dirs = [
            temp_dir(&format!("{name}-a")),
            temp_dir(&format!("{name}-b")),
        ];
        let a = serve(&dirs[0], &args);
        let b = serve(&dirs[1], &args);
        Self { db, a, b, dirs }
    }

    async fn stop(self) {
        let Self { db, a, b, dirs } = self;
        drop(a);
        drop(b);
        db.cleanup().await;
        for dir in dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn web(p: &Plinth) -> String {
    format!("http://127.0.0.1:{}", p.port)
}

fn api(p: &Plinth) -> String {
    format!("http://127.0.0.1:{}/api/v1", p.port)
}

/// An API GET's status.
async fn api_status(p: &Plinth, path: &str, token: &str) -> u16 {
    call(Method::GET, format!("{}{path}", api(p)), Some(token), None)
        .await
        .0
}

/// An API call through `p` that must succeed: its answer.
async fn api_do(p: &Plinth, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, answer) = call(
        method.clone(),
        format!("{}{path}", api(p)),
        Some(token),
        body,
    )
    .await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// A workspace host's answer on `p` (`Host: {label}.plinth.localhost`), with a token
/// if given: the status and the `Location`.
async fn host(p: &Plinth, label: &str, token: Option<&str>) -> (u16, Option<String>) {
    let mut req = no_redirects()
        .get(format!("{}/", web(p)))
        .header("host", format!("{label}.plinth.localhost"))
        .header("accept", "application/json");
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("the server answers");
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (res.status().as_u16(), location)
}

async fn dns(p: &Plinth, label: &str) -> ResponseCode {
    udp_query(p.dns, &format!("{label}.plinth.localhost."), RecordType::A)
        .await
        .metadata
        .response_code
}

/// Asserts `check` holds on replica B and that it holds from B's caches: a second run
/// right after the first reads nothing from the database for authentication. Retried
/// while an earlier change's notification may still be dropping what the first run
/// cached.
async fn cached_on_b<F, Fut>(b: &Plinth, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        assert!(check().await, "{what} on replica B before the change");
        let misses = auth_cache_misses(&b.metrics).await;
        assert!(check().await, "{what} on replica B before the change");
        if auth_cache_misses(&b.metrics).await == misses {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "replica B never answered {what} from its caches"
        );
    }
}

/// A console page on B answers 303 to the login page with `reason`, and that page says
/// why in a sentence.
async fn sent_to_login(b: &Plinth, path: &str, session: &str, reason: &str) -> bool {
    let (status, location, _) = console_get(&web(b), path, session).await;
    status == 303
        && location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login?") && l.contains(&format!("reason={reason}")))
}

/// The login page B sends a refused session to, and its sentence.
async fn login_page_says(b: &Plinth, path: &str, session: &str, sentence: &str) {
    let (_, location, _) = console_get(&web(b), path, session).await;
    let location = location.expect("a redirect to the login page");
    let (status, _, html) = console_get(&web(b), &location, session).await;
    assert_eq!(status, 200, "the login page at {location}");
    assert!(html.contains("Sign in to Plinth"), "{html}");
    assert!(html.contains(sentence), "{sentence:?} in {html}");
}

/// An org `acme` of `owner` with a workspace `prod`, whose name B's directory has.
async fn acme_prod(r: &Replicas, owner: &str) {
    api_do(
        &r.a,
        Method::POST,
        "/orgs",
        owner,
        Some(json!({"handle": "acme"})),
    )
    .await;
    api_do(
        &r.a,
        Method::POST,
        "/orgs/acme/workspaces",
        owner,
        Some(json!({"handle": "prod"})),
    )
    .await;
    within_one_second("the new workspace", || async {
        dns(&r.b, "acme-prod").await == ResponseCode::NoError
    })
    .await;
}

async fn api_login(p: &Plinth, handle: &str) -> String {
    let (status, body) = call(
        Method::POST,
        format!("{}/login", api(p)),
        None,
        Some(json!({"login": handle, "password": "correct horse"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_deletion_logout_and_sign_out_everywhere_hold_on_the_other_replica() {
    let r = Replicas::start("sessions").await;
    let (a, b) = (&r.a, &r.b);
    let session = signup_and_login(&api(a), "ann").await;
    acme_prod(&r, &session).await;

    // Token deletion: a user token B knows stops working on B's API and workspace hosts.
    let created = api_do(
        a,
        Method::POST,
        "/user/tokens",
        &session,
        Some(json!({"title": "deploy"})),
    )
    .await;
    let (id, token) = (
        created["id"].as_str().unwrap().to_owned(),
        created["token"].as_str().unwrap().to_owned(),
    );
    cached_on_b(b, "the user token", || async {
        api_status(b, "/user", &token).await == 200
            && host(b, "acme-prod", Some(&token)).await.0 == 200
    })
    .await;
    api_do(
        a,
        Method::DELETE,
        &format!("/user/tokens/{id}"),
        &session,
        None,
    )
    .await;
    within_one_second("the token deletion", || async {
        api_status(b, "/user", &token).await == 401
            && host(b, "acme-prod", Some(&token)).await.0 == 401
    })
    .await;

    // Logout: a console session signed in on B and signed out through A's console.
    let cookie = console_login(&web(b), "ann").await;
    cached_on_b(b, "the console session", || async {
        console_get(&web(b), "/settings/profile", &cookie).await.0 == 200
            && api_status(b, "/user", &cookie).await == 200
            && host(b, "acme-prod", Some(&cookie)).await.0 == 200
    })
    .await;
    let (status, _, page) = console_get(&web(a), "/settings/profile", &cookie).await;
    assert_eq!(status, 200);
    let res = no_redirects()
        .post(format!("{}/logout", web(a)))
        .header("cookie", format!("plinth_session={cookie}"))
        .form(&[("csrf", csrf_field(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303, "the console logout on A");
    within_one_second("the logout", || async {
        sent_to_login(b, "/settings/profile", &cookie, "revoked").await
            && api_status(b, "/user", &cookie).await == 401
            && host(b, "acme-prod", Some(&cookie)).await.0 == 401
    })
    .await;
    login_page_says(
        b,
        "/settings/profile",
        &cookie,
        "Your session was signed out.",
    )
    .await;

    // Sign out everywhere through A's API: B's console session and API session end.
    let cookie = console_login(&web(b), "ann").await;
    cached_on_b(b, "the sessions", || async {
        console_get(&web(b), "/orgs/acme", &cookie).await.0 == 200
            && api_status(b, "/orgs/acme", &session).await == 200
            && host(b, "acme-prod", Some(&session)).await.0 == 200
    })
    .await;
    api_do(
        a,
        Method::POST,
        "/user/reset-auth",
        &session,
        Some(json!({})),
    )
    .await;
    within_one_second("signing out everywhere", || async {
        sent_to_login(b, "/orgs/acme", &cookie, "account-reset").await
            && api_status(b, "/orgs/acme", &session).await == 401
            && host(b, "acme-prod", Some(&session)).await.0 == 401
    })
    .await;
    login_page_says(b, "/orgs/acme", &cookie, "You signed out everywhere").await;
    // A new login is let in on B at once.
    let fresh = api_login(a, "ann").await;
    assert_eq!(api_status(b, "/orgs/acme", &fresh).await, 200);

    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_reset_and_member_removal_hold_on_the_other_replica() {
    let r = Replicas::start("org-auth").await;
    let (a, b) = (&r.a, &r.b);
    let ann = signup_and_login(&api(a), "ann").await;
    let bob = signup_and_login(&api(a), "bob").await;
    acme_prod(&r, &ann).await;
    api_do(
        a,
        Method::POST,
        "/orgs/acme/members",
        &ann,
        Some(json!({"user": "bob", "role": "member"})),
    )
    .await;
    api_do(a, Method::POST, "/user/invitations/acme/accept", &bob, None).await;

    // Org reset through A: ann's console session and bob's token are refused by B.
    let cookie = console_login(&web(b), "ann").await;
    cached_on_b(b, "the org's sessions", || async {
        console_get(&web(b), "/orgs/acme", &cookie).await.0 == 200
            && api_status(b, "/orgs/acme", &bob).await == 200
            && host(b, "acme-prod", Some(&bob)).await.0 == 200
    })
    .await;
    api_do(
        a,
        Method::POST,
        "/orgs/acme/reset-auth",
        &ann,
        Some(json!({})),
    )
    .await;
    within_one_second("the org reset", || async {
        sent_to_login(b, "/orgs/acme", &cookie, "auth-reset").await
            && api_status(b, "/orgs/acme", &bob).await == 401
            && host(b, "acme-prod", Some(&bob)).await.0 == 401
    })
    .await;
    login_page_says(
        b,
        "/orgs/acme",
        &cookie,
        "Authentication for the organization &#34;acme&#34; was reset",
    )
    .await;
    // The reset is the org's only: the same session still reaches the account.
    assert_eq!(
        console_get(&web(b), "/settings/profile", &cookie).await.0,
        200
    );

    // Member removal through A: bob's console session and token find no org on B.
    let ann = api_login(a, "ann").await;
    let bob = api_login(a, "bob").await;
    let bob_cookie = console_login(&web(b), "bob").await;
    cached_on_b(b, "bob's membership", || async {
        console_get(&web(b), "/orgs/acme", &bob_cookie).await.0 == 200
            && api_status(b, "/orgs/acme", &bob).await == 200
            && host(b, "acme-prod", Some(&bob)).await.0 == 200
    })
    .await;
    api_do(a, Method::DELETE, "/orgs/acme/members/bob", &ann, None).await;
    within_one_second("the member removal", || async {
        console_get(&web(b), "/orgs/acme", &bob_cookie).await.0 == 404
            && api_status(b, "/orgs/acme", &bob).await == 404
            && host(b, "acme-prod", Some(&bob)).await.0 == 404
    })
    .await;
    // Only bob lost the org.
    assert_eq!(api_status(b, "/orgs/acme", &ann).await, 200);

    r.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_and_delete_hold_in_the_other_replicas_console_and_workspace_hosts() {
    let r = Replicas::start("names").await;
    let (a, b) = (&r.a, &r.b);
    let ann = signup_and_login(&api(a), "ann").await;
    acme_prod(&r, &ann).await;
    let cookie = console_login(&web(b), "ann").await;

    // Rename through A: B's console and workspace hosts send the old name to the new.
    cached_on_b(b, "the org under its first handle", || async {
        console_get(&web(b), "/orgs/acme", &cookie).await.0 == 200
            && host(b, "acme-prod", Some(&ann)).await.0 == 200
            && dns(b, "acme-prod").await == ResponseCode::NoError
    })
    .await;
    api_do(
        a,
        Method::POST,
        "/orgs/acme/handle",
        &ann,
        Some(json!({"handle": "acme-inc"})),
    )
    .await;
    within_one_second("the rename", || async {
        let (page, to, _) = console_get(&web(b), "/orgs/acme", &cookie).await;
        let (old_host, host_to) = host(b, "acme-prod", Some(&ann)).await;
        page == 308
            && to.as_deref() == Some("/orgs/acme-inc")
            && console_get(&web(b), "/orgs/acme-inc", &cookie).await.0 == 200
            && old_host == 308
            && host_to.is_some_and(|l| l.contains("://acme-inc-prod.plinth.localhost"))
            && host(b, "acme-inc-prod", Some(&ann)).await.0 == 200
            && dns(b, "acme-inc-prod").await == ResponseCode::NoError
    })
    .await;

    // Delete through A: B's console, workspace hosts, API and DNS forget the org.
    cached_on_b(b, "the org under its new handle", || async {
        console_get(&web(b), "/orgs/acme-inc", &cookie).await.0 == 200
            && host(b, "acme-inc-prod", Some(&ann)).await.0 == 200
            && api_status(b, "/orgs/acme-inc", &ann).await == 200
    })
    .await;
    api_do(
        a,
        Method::DELETE,
        "/orgs/acme-inc?confirm=acme-inc",
        &ann,
        None,
    )
    .await;
    within_one_second("the deletion", || async {
        console_get(&web(b), "/orgs/acme-inc", &cookie).await.0 == 404
            && host(b, "acme-inc-prod", Some(&ann)).await.0 == 404
            && host(b, "acme-inc-prod", None).await.0 == 404
            && api_status(b, "/orgs/acme-inc", &ann).await == 404
            && dns(b, "acme-inc-prod").await == ResponseCode::NXDomain
    })
    .await;

    r.stop().await;
}
