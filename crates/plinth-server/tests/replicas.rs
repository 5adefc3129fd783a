//! Two replicas on one PostgreSQL database: a change made through one is seen by the
//! other at once (the invalidation log, with a NOTIFY after commit to wake it), for the
//! org guard's caches and for DNS names, also when the wake-up never arrives; and the
//! usage each one counts adds up in the database.
//!
//! PostgreSQL only, on purpose: a SQLite database has exactly one server process, so
//! there is no second replica to tell.

use std::time::{Duration, Instant};

use plinth_server::testing::TestApp;
use plinth_server::{Running, start};
use plinth_store::test_support::Backend;

/// Polls `check` for up to 3 s: notifications arrive asynchronously.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(3);
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not reach the other replica"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn second_replica(app: &TestApp) -> Running {
    let mut settings = app.state().settings.clone();
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.dns_bind = "127.0.0.1:0".parse().unwrap();
    start(app.db.store.clone(), settings).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reach_the_other_replica() {
    let app = TestApp::new(Backend::Postgres).await;
    let other = second_replica(&app).await;
    let other_url = other.url();
    let client = reqwest::Client::new();
    let get = |path: &str, token: &str| {
        client
            .get(format!("{other_url}{path}"))
            .bearer_auth(token)
            .send()
    };

    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let bob = app.member(&ann, "acme", "bob", "member").await;
    // Warm replica B's caches with bob's membership.
    let res = get("/api/v1/orgs/acme", &bob).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);

    // Removed through replica A: replica B must stop letting bob in.
    app.delete("/api/v1/orgs/acme/members/bob", &ann)
        .await
        .assert_status(204);
    eventually("the membership removal", || async {
        get("/api/v1/orgs/acme", &bob)
            .await
            .unwrap()
            .status()
            .as_u16()
            == 404
    })
    .await;

    // A workspace created through A appears in B's in-memory names (workspace hosts
    // and DNS answer from the same directory), and disappears when deleted.
    app.create_workspace(&ann, "acme", "prod").await;
    eventually("the new workspace", || async {
        other.state.directory.get("acme-prod").is_some()
    })
    .await;
    app.delete("/api/v1/orgs/acme/workspaces/prod", &ann)
        .await
        .assert_status(204);
    eventually("the workspace deletion", || async {
        other.state.directory.get("acme-prod").is_none()
    })
    .await;

    other.shutdown().await.unwrap();
    app.cleanup().await;
}

/// The log, not the wake-up, carries what changed: a change logged and committed with no
/// NOTIFY at all, and changes made while the other replica's wake-up connection is cut,
/// still reach it (at its next poll of the log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_missed_wake_ups_catches_up_from_the_log() {
    use plinth_server::runtime::invalidate::{self, Invalidation};

    let app = TestApp::new(Backend::Postgres).await;
    let other = second_replica(&app).await;
    let other_url = other.url();
    let client = reqwest::Client::new();
    let status = |path: String, token: String| {
        let request = client.get(format!("{other_url}{path}")).bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let ann = app.user("ann").await;
    let org = app.create_org(&ann, "acme").await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    app.create_workspace(&ann, "acme", "prod").await;
    eventually("the new workspace", || async {
        other.state.directory.get("acme-prod").is_some()
    })
    .await;
    // Warm B's caches: the token, the org, the membership.
    assert_eq!(status("/api/v1/orgs/acme".into(), ann.clone()).await, 200);

    // An org reset written straight to the database, logged, committed, and nobody woken.
    let applied_before = other.state.metrics.invalidations_applied.get();
    let mut tx = app.db.store.begin().await.unwrap();
    let at = plinth_store::time_to_micros(app.state().now());
    assert!(tx.set_org_token_min_issued_at(&org_id, at).await.unwrap());
    invalidate::queue(&mut tx, &Invalidation::Org(org_id.clone()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // B applies it from the log (at its next poll: nothing woke it).
    eventually("the unannounced reset", || {
        let answer = status("/api/v1/orgs/acme".into(), ann.clone());
        let applied = other.state.metrics.invalidations_applied.get() > applied_before;
        async move { applied && answer.await == 401 }
    })
    .await;

    // Cut every wake-up connection to this database (B's among them); the rename made
    // meanwhile still reaches B, from the log.
    let cut = app
        .db
        .execute_count(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
               AND query LIKE 'LISTEN%'",
            &[],
        )
        .await;
    assert!(
        cut >= 2,
        "both replicas were listening ({cut} connections cut)"
    );
    let fresh = app.token_for("ann").await;
    app.post(
        "/api/v1/orgs/acme/handle",
        &fresh,
        serde_json::json!({"handle": "acme-inc"}),
    )
    .await
    .assert_status(200);
    eventually("the rename", || async {
        other.state.directory.get("acme-inc-prod").is_some()
            && other.state.directory.get("acme-prod").is_none()
    })
    .await;
    assert_eq!(
        status("/api/v1/orgs/acme-inc".into(), fresh.clone()).await,
        200
    );

    other.shutdown().await.unwrap();
    app.cleanup().await;
}

/// Each replica counts its own traffic in memory; their flushes add up (counters are
/// additive upserts) and their snapshots agree (they overwrite with the same figures).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_of_two_replicas_adds_up() {
    let app = TestApp::new(Backend::Postgres).await;
    let other = second_replica(&app).await;
    let client = reqwest::Client::new();

    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_workspace(&ann, "acme", "prod").await;
    eventually("the new workspace", || async {
        other.state.directory.get("acme-prod").is_some()
    })
    .await;
    let flush_both = || async {
        app.flush_usage().await;
        plinth_server::usage::tasks::flush_usage(&other.state).await;
        plinth_server::usage::tasks::snapshot_usage(&other.state).await;
    };
    flush_both().await;
    let before = app.usage(&ann, "acme", "").await;
    before.assert_status(200);
    let api_before = before.body["totals"]["api_requests"].as_i64().unwrap();

    for _ in 0..2 {
        app.get("/api/v1/orgs/acme", &ann).await.assert_status(200);
    }
    for _ in 0..3 {
        let res = client
            .get(format!("{}/api/v1/orgs/acme", other.url()))
            .bearer_auth(&ann)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    app.get_host("acme-prod.plinth.localhost", "/", None)
        .await
        .assert_status(200);
    for _ in 0..2 {
        let res = client
            .get(format!("{}/", other.url()))
            .header("host", "acme-prod.plinth.localhost")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    flush_both().await;

    let after = app.usage(&ann, "acme", "").await;
    after.assert_status(200);
    // The first report was an API call too.
    assert_eq!(after.body["totals"]["api_requests"], api_before + 1 + 5);
    assert_eq!(after.body["totals"]["workspace_requests"], 3);
    assert_eq!(after.body["totals"]["members"], 1);
    assert_eq!(after.body["totals"]["workspaces"], 1);

    other.shutdown().await.unwrap();
    app.cleanup().await;
}
