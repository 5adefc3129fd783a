//! Signup, login, logout, profile and sign-out-everywhere, on SQLite and PostgreSQL.

use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::json;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    signup_login_token_and_user,
    handles_are_validated,
    duplicates_are_refused,
    wrong_password_is_refused,
);

async fn signup_login_token_and_user(app: &TestApp) {
    let signup = app.signup("Ann", "Ann@Example.com", PASSWORD).await;
    signup.assert_status(201);
    assert_eq!(signup.body["handle"], "ann");
    assert_eq!(signup.body["email"], "ann@example.com");
    assert!(signup.body.get("password_hash").is_none());

    let login = app.login("ann@example.com", PASSWORD).await;
    login.assert_status(200);
    let session = login.body["token"].as_str().unwrap();
    assert!(session.starts_with("plt_"));
    assert_eq!(login.body["user"]["handle"], "ann");

    let (_, api_token) = app.user_token(session, "ci").await;
    assert!(api_token.starts_with("plu_"));
    let me = app.get("/api/v1/user", &api_token).await;
    me.assert_status(200);
    assert_eq!(me.body["handle"], "ann");
}

async fn handles_are_validated(app: &TestApp) {
    let long = "a".repeat(40);
    for bad in [
        "-a",
        "a-",
        "a--b",
        long.as_str(),
        "änn",
        "a_b",
        "a.b",
        "",
        "admin",
        "api",
    ] {
        let res = app.signup(bad, "x@example.com", PASSWORD).await;
        res.assert_problem(400, "validation");
        assert_eq!(
            res.body["errors"][0]["field"], "handle",
            "{bad:?}: {}",
            res.text
        );
    }
    app.signup("ok", "not-an-email", PASSWORD)
        .await
        .assert_problem(400, "validation");
    app.signup("ok", "ok@example.com", "short")
        .await
        .assert_problem(400, "validation");
    // Nothing was created by any of these.
    app.login("ok", PASSWORD)
        .await
        .assert_problem(401, "unauthenticated");
}

async fn duplicates_are_refused(app: &TestApp) {
    app.signup("ann", "ann@example.com", PASSWORD)
        .await
        .assert_status(201);
    app.signup("ANN", "other@example.com", PASSWORD)
        .await
        .assert_problem(409, "handle-taken");
    app.signup("bob", "ANN@example.com", PASSWORD)
        .await
        .assert_problem(409, "conflict");
}

async fn wrong_password_is_refused(app: &TestApp) {
    app.user("ann").await;
    app.login("ann", "wrong password")
        .await
        .assert_problem(401, "unauthenticated");
    app.login("nobody", PASSWORD)
        .await
        .assert_problem(401, "unauthenticated");
    let res = app
        .request(
            Method::POST,
            "/api/v1/login",
            None,
            Some(json!({"login": "ann"})),
        )
        .await;
    res.assert_problem(400, "validation");
}
