//! Two `plinth serve` processes on one PostgreSQL database: reset authentication,
//! rename and delete made through one are refused / answered by the other within 1 s
//! (the invalidation log, with a NOTIFY after commit to wake it), in its API and in its DNS
//! answers.
//!
//! PostgreSQL only, on purpose: a SQLite database has exactly one server process.

mod common;

use common::{call, serve, signup_and_login, temp_dir, within_one_second};
use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::{RData, RecordType};
use plinth_server::testing::dns::udp_query;
use plinth_store::test_support::{Backend, TestDb};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_rename_and_delete_reach_the_other_process_within_a_second() {
    let db = TestDb::new(Backend::Postgres).await;
    let args = [
        "--bind",
        "127.0.0.1:0",
        "--dns-bind",
        "127.0.0.1:0",
        "--database-url",
        db.url.as_str(),
    ];
    let dir_a = temp_dir("replica-a");
    let dir_b = temp_dir("replica-b");
    let a = serve(&dir_a, &args);
    let b = serve(&dir_b, &args);
    let api_a = format!("http://127.0.0.1:{}/api/v1", a.port);
    let api_b = format!("http://127.0.0.1:{}/api/v1", b.port);
    let status = |api: String, path: &'static str, token: String| async move {
        call(Method::GET, format!("{api}{path}"), Some(&token), None)
            .await
            .0
    };

    signup_and_login(&api_a, "ann").await;
    let login = || async {
        let (_, body) = call(
            Method::POST,
            format!("{api_a}/login"),
            None,
            Some(json!({"login": "ann", "password": "correct horse"})),
        )
        .await;
        body["token"].as_str().unwrap().to_owned()
    };
    let old = login().await;
    let post = |path: String, token: String, body: serde_json::Value| async move {
        call(Method::POST, path, Some(&token), Some(body)).await.0
    };
    assert_eq!(
        post(
            format!("{api_a}/orgs"),
            old.clone(),
            json!({"handle": "acme"})
        )
        .await,
        201
    );
    assert_eq!(
        post(
            format!("{api_a}/orgs/acme/workspaces"),
            old.clone(),
            json!({"handle": "prod"})
        )
        .await,
        201
    );
    // Warm B: its caches hold the token, the org and the membership.
    within_one_second("the new workspace", || async {
        let answer = udp_query(b.dns, "acme-prod.plinth.localhost.", RecordType::A).await;
        answer.metadata.response_code == ResponseCode::NoError
    })
    .await;
    assert_eq!(status(api_b.clone(), "/orgs/acme", old.clone()).await, 200);

    // Reset on A: B refuses the old token.
    assert_eq!(
        post(
            format!("{api_a}/orgs/acme/reset-auth"),
            old.clone(),
            json!({})
        )
        .await,
        204
    );
    within_one_second("the reset", || {
        let (api, old) = (api_b.clone(), old.clone());
        async move { status(api, "/orgs/acme", old).await == 401 }
    })
    .await;
    let fresh = login().await;
    assert_eq!(
        status(api_b.clone(), "/orgs/acme", fresh.clone()).await,
        200
    );

    // Rename on A: B answers the new name, a CNAME for the old one, and 308s.
    assert_eq!(
        post(
            format!("{api_a}/orgs/acme/handle"),
            fresh.clone(),
            json!({"handle": "acme-inc"})
        )
        .await,
        200
    );
    within_one_second("the rename", || async {
        let new = udp_query(b.dns, "acme-inc-prod.plinth.localhost.", RecordType::A).await;
        let old = udp_query(b.dns, "acme-prod.plinth.localhost.", RecordType::A).await;
        new.metadata.response_code == ResponseCode::NoError
            && old
                .answers
                .iter()
                .any(|r| matches!(&r.data, RData::CNAME(c) if c.0.to_string() == "acme-inc-prod.plinth.localhost."))
    })
    .await;
    assert_eq!(
        status(api_b.clone(), "/orgs/acme-inc", fresh.clone()).await,
        200
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let moved = client
        .get(format!("{api_b}/orgs/acme"))
        .bearer_auth(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 308);
    assert_eq!(moved.headers()["location"], "/api/v1/orgs/acme-inc");

    // Delete on A: B's DNS and API forget the org.
    let (code, _) = call(
        Method::DELETE,
        format!("{api_a}/orgs/acme-inc?confirm=acme-inc"),
        Some(&fresh),
        None,
    )
    .await;
    assert_eq!(code, 204);
    within_one_second("the deletion", || {
        let (api, fresh) = (api_b.clone(), fresh.clone());
        async move {
            let answer = udp_query(b.dns, "acme-inc-prod.plinth.localhost.", RecordType::A).await;
            answer.metadata.response_code == ResponseCode::NXDomain
                && status(api, "/orgs/acme-inc", fresh).await == 404
        }
    })
    .await;

    drop(a);
    drop(b);
    db.cleanup().await;
    let _ = std::fs::remove_dir_all(dir_a);
    let _ = std::fs::remove_dir_all(dir_b);
}
