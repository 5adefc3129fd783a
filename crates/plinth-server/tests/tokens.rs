//! User tokens and every way a token can be refused, on SQLite and PostgreSQL.

use std::time::Duration;

use plinth_core::{TokenKind, TokenSecret};
use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::json;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    token_lifecycle,
    secret_is_shown_once,
    token_fields_are_validated,
    at_most_ten_user_tokens,
    list_pages_by_key,
    garbage_tokens_are_unauthenticated,
    inactive_and_deleted_tokens_are_revoked,
    logged_out_tokens_are_revoked,
    expired_tokens_are_refused,
    sign_out_everywhere_resets_every_token,
    user_tokens_cannot_manage_tokens,
    last_used_is_recorded_without_a_write_per_request,
    warm_requests_do_not_touch_the_database,
    other_users_tokens_are_not_found,
);

async fn token_lifecycle(app: &TestApp) {
    let session = app.user("ann").await;
    let created = app
        .post(
            "/api/v1/user/tokens",
            &session,
            json!({"title": "deploy", "description": "CI deploys", "expires_in_days": 7}),
        )
        .await;
    created.assert_status(201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let secret = created.body["token"].as_str().unwrap().to_owned();
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["last4"], secret[secret.len() - 4..]);
    assert!(created.body["expires_at"].is_string());

    let updated = app
        .patch(
            &format!("/api/v1/user/tokens/{id}"),
            &session,
            json!({"title": "deploy-prod", "description": ""}),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["title"], "deploy-prod");
    assert!(updated.body["description"].is_null());

    app.get("/api/v1/user", &secret).await.assert_status(200);
    app.delete(&format!("/api/v1/user/tokens/{id}"), &session)
        .await
        .assert_status(204);
    app.delete(&format!("/api/v1/user/tokens/{id}"), &session)
        .await
        .assert_problem(404, "not-found");
    let list = app.get("/api/v1/user/tokens", &session).await;
    list.assert_status(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
}

async fn secret_is_shown_once(app: &TestApp) {
    let session = app.user("ann").await;
    let (_, secret) = app.user_token(&session, "once").await;
    let list = app.get("/api/v1/user/tokens", &session).await;
    assert!(!list.text.contains(&secret));
    assert!(list.body["items"][0].get("token").is_none());
    // Not in the database either: only its SHA-256 is stored.
    let hash = TokenSecret::parse(&secret).unwrap().hash().to_hex();
    let stored = app
        .state()
        .store
        .token_by_hash(&TokenSecret::parse(&secret).unwrap().hash())
        .await
        .unwrap();
    assert!(stored.is_some(), "found by hash {hash}");
}

async fn token_fields_are_validated(app: &TestApp) {
    let session = app.user("ann").await;
    let cases = [
        (json!({"title": ""}), "title"),
        (json!({"title": "x".repeat(101)}), "title"),
        (
            json!({"title": "ok", "description": "d".repeat(1001)}),
            "description",
        ),
        (
            json!({"title": "ok", "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"title": "ok", "expires_in_days": 3651}),
            "expires_in_days",
        ),
        (
            json!({"title": "ok", "expires_in_days": -1}),
            "expires_in_days",
        ),
        (json!({"title": 5}), "title"),
        (json!({"title": "ok", "scope": "all"}), "scope"),
    ];
    for (body, field) in cases {
        let res = app
            .post("/api/v1/user/tokens", &session, body.clone())
            .await;
        res.assert_problem(400, "validation");
        assert!(res.text.contains(field), "{body}: {}", res.text);
    }
    let (id, _) = app.user_token(&session, "t").await;
    app.patch(
        &format!("/api/v1/user/tokens/{id}"),
        &session,
        json!({"status": "paused"}),
    )
    .await
    .assert_problem(400, "validation");
    let list = app.get("/api/v1/user/tokens", &session).await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "only the valid one"
    );
}

async fn at_most_ten_user_tokens(app: &TestApp) {
    let session = app.user("ann").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(app.user_token(&session, &format!("t{i}")).await.0);
    }
    app.post(
        "/api/v1/user/tokens",
        &session,
        json!({"title": "eleventh"}),
    )
    .await
    .assert_problem(409, "conflict");
    app.delete(&format!("/api/v1/user/tokens/{}", ids[0]), &session)
        .await
        .assert_status(204);
    app.user_token(&session, "after delete").await;
}

async fn list_pages_by_key(app: &TestApp) {
    let session = app.user("ann").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(app.user_token(&session, &format!("t{i}")).await.0);
    }
    ids.reverse(); // newest first
    for limit in 1..=7 {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/user/tokens?limit={limit}&cursor={c}"),
                None => format!("/api/v1/user/tokens?limit={limit}"),
            };
            let page = app.get(&path, &session).await;
            page.assert_status(200);
            let items = page.body["items"].as_array().unwrap();
            assert!(items.len() <= limit);
            seen.extend(items.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, ids, "limit {limit}");
    }
    for bad in [
        "limit=0",
        "limit=101",
        "limit=x",
        "cursor=%%%",
        "cursor=bm90LWEtY3Vyc29yIQ",
        "page=2",
    ] {
        let res = app
            .get(&format!("/api/v1/user/tokens?{bad}"), &session)
            .await;
        // A well-formed cursor that names no token just gives an empty page.
        if bad.starts_with("cursor=bm90") {
            res.assert_status(200);
        } else {
            res.assert_problem(400, "validation");
        }
    }
}

async fn garbage_tokens_are_unauthenticated(app: &TestApp) {
    let session = app.user("ann").await;
    let mut bad_checksum = session.clone();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == 'a' { 'b' } else { 'a' });
    let unknown = TokenSecret::generate(TokenKind::User);
    for token in [
        "",
        "garbage",
        "plt_",
        "Bearer",
        bad_checksum.as_str(),
        unknown.expose(),
    ] {
        app.get("/api/v1/user", token)
            .await
            .assert_problem(401, "unauthenticated");
    }
    app.request(Method::GET, "/api/v1/user", None, None)
        .await
        .assert_problem(401, "unauthenticated");
    let basic = app
        .client
        .get(format!("{}/api/v1/user", app.base))
        .header("authorization", format!("Basic {session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
}

async fn inactive_and_deleted_tokens_are_revoked(app: &TestApp) {
    let session = app.user("ann").await;
    let (id, secret) = app.user_token(&session, "t").await;
    app.get("/api/v1/user", &secret).await.assert_status(200);
    app.patch(
        &format!("/api/v1/user/tokens/{id}"),
        &session,
        json!({"status": "inactive"}),
    )
    .await
    .assert_status(200);
    app.get("/api/v1/user", &secret)
        .await
        .assert_problem(401, "token-revoked");
    app.patch(
        &format!("/api/v1/user/tokens/{id}"),
        &session,
        json!({"status": "active"}),
    )
    .await
    .assert_status(200);
    app.get("/api/v1/user", &secret).await.assert_status(200);
    app.delete(&format!("/api/v1/user/tokens/{id}"), &session)
        .await
        .assert_status(204);
    app.get("/api/v1/user", &secret)
        .await
        .assert_problem(401, "token-revoked");
}

async fn logged_out_tokens_are_revoked(app: &TestApp) {
    let session = app.user("ann").await;
    let other = app.token_for("ann").await;
    app.request(Method::POST, "/api/v1/logout", Some(&session), None)
        .await
        .assert_status(204);
    app.get("/api/v1/user", &session)
        .await
        .assert_problem(401, "token-revoked");
    app.get("/api/v1/user", &other).await.assert_status(200);
    let (_, api) = app.user_token(&other, "api").await;
    app.request(Method::POST, "/api/v1/logout", Some(&api), None)
        .await
        .assert_problem(400, "validation");
}

async fn expired_tokens_are_refused(app: &TestApp) {
    let session = app.user("ann").await;
    let created = app
        .post(
            "/api/v1/user/tokens",
            &session,
            json!({"title": "short", "expires_in_days": 1}),
        )
        .await;
    let secret = created.body["token"].as_str().unwrap().to_owned();
    app.get("/api/v1/user", &secret).await.assert_status(200);
    app.state().advance_clock(Duration::from_secs(86_400 + 60));
    app.get("/api/v1/user", &secret)
        .await
        .assert_problem(401, "token-expired");
    // The 30-day login token is still good a day later, and not 31 days later.
    app.get("/api/v1/user", &session).await.assert_status(200);
    app.state().advance_clock(Duration::from_secs(30 * 86_400));
    app.get("/api/v1/user", &session)
        .await
        .assert_problem(401, "token-expired");
}

async fn sign_out_everywhere_resets_every_token(app: &TestApp) {
    let session = app.user("ann").await;
    let second = app.token_for("ann").await;
    let (_, api) = app.user_token(&session, "api").await;
    let bob = app.user("bob").await;
    for token in [&session, &second, &api] {
        app.get("/api/v1/user", token).await.assert_status(200);
    }
    app.request(Method::POST, "/api/v1/user/reset-auth", Some(&second), None)
        .await
        .assert_status(204);
    for token in [&session, &second, &api] {
        app.get("/api/v1/user", token)
            .await
            .assert_problem(401, "auth-reset");
    }
    app.get("/api/v1/user", &bob).await.assert_status(200);
    let fresh = app.token_for("ann").await;
    app.get("/api/v1/user", &fresh).await.assert_status(200);
    let (_, fresh_api) = app.user_token(&fresh, "new").await;
    app.get("/api/v1/user", &fresh_api).await.assert_status(200);
}

async fn user_tokens_cannot_manage_tokens(app: &TestApp) {
    let session = app.user("ann").await;
    let (id, api) = app.user_token(&session, "api").await;
    app.post("/api/v1/user/tokens", &api, json!({"title": "more"}))
        .await
        .assert_problem(403, "forbidden");
    app.delete(&format!("/api/v1/user/tokens/{id}"), &api)
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/user/tokens", &api)
        .await
        .assert_status(200);
}

async fn last_used_is_recorded_without_a_write_per_request(app: &TestApp) {
    let session = app.user("ann").await;
    let (id, api) = app.user_token(&session, "api").await;
    let token_row = |app: &TestApp| {
        let store = app.state().store.clone();
        let id = id.clone();
        async move {
            store
                .list_user_tokens(&store_user(&store).await, None, 10)
                .await
                .unwrap()
                .items
                .into_iter()
                .find(|t| t.id == id)
                .unwrap()
        }
    };
    for _ in 0..5 {
        app.get("/api/v1/user", &api).await.assert_status(200);
    }
    assert!(
        token_row(app).await.last_used_at.is_none(),
        "no write on the request path"
    );
    app.flush().await;
    let first = token_row(app)
        .await
        .last_used_at
        .expect("recorded by the flush");
    app.get("/api/v1/user", &api).await.assert_status(200);
    app.flush().await;
    assert_eq!(
        token_row(app).await.last_used_at,
        Some(first),
        "at most once a minute"
    );
    let listed = app.get("/api/v1/user/tokens", &session).await;
    assert!(listed.body["items"][0]["last_used_at"].is_string());
}

async fn store_user(store: &plinth_store::Store) -> String {
    store.user_by_login("ann").await.unwrap().unwrap().id
}

async fn warm_requests_do_not_touch_the_database(app: &TestApp) {
    let session = app.user("ann").await;
    let (_, api) = app.user_token(&session, "api").await;
    app.get("/api/v1/user", &api).await.assert_status(200);
    let misses = app.state().metrics.auth_cache_misses.get();
    for _ in 0..20 {
        app.get("/api/v1/user", &api).await.assert_status(200);
    }
    assert_eq!(app.state().metrics.auth_cache_misses.get(), misses);
    // The proof: with the database gone, a warm request still answers.
    app.state().store.close().await;
    app.get("/api/v1/user", &api).await.assert_status(200);
    // A cold one can't, and says so without a 500.
    let cold = app.login("ann", PASSWORD).await;
    cold.assert_problem(503, "unavailable");
}

async fn other_users_tokens_are_not_found(app: &TestApp) {
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let (id, _) = app.user_token(&ann, "mine").await;
    app.patch(
        &format!("/api/v1/user/tokens/{id}"),
        &bob,
        json!({"title": "x"}),
    )
    .await
    .assert_problem(404, "not-found");
    app.delete(&format!("/api/v1/user/tokens/{id}"), &bob)
        .await
        .assert_problem(404, "not-found");
    let list = app.get("/api/v1/user/tokens", &bob).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
}
