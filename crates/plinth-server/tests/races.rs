//! Races: the same change asked for at once from several clients. Each has exactly one
//! winner (or the outcomes a serial order allows), the losers get the problem that order
//! explains, and the audit log tells the same story: one entry per change that happened,
//! none for a refusal, and a chain that verifies. On both backends. (`org_settings.rs`
//! and `members.rs` race renames and demotions for their answers; here the audit log's
//! side is checked too.)

use plinth_server::testing::{TestApp, TestResponse};
use plinth_store::test_support::Backend;
use plinth_store::{AuditQuery, org_chain, user_chain};
use serde_json::{Value, json};

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    renames_to_one_handle_have_one_winner_and_one_entry,
    owners_demoting_each_other_leave_one_owner_and_one_entry,
    the_token_limit_holds_under_concurrent_creation,
    delete_against_rename_ends_in_an_order_the_log_tells,
    accept_against_cancel_of_one_invitation_has_one_winner,
    concurrent_workspace_creation_with_one_handle_has_one_winner,
);

/// Sends all `requests` at once (each on the shared client's pool) and returns the
/// answers in the order given.
async fn at_once(
    app: &TestApp,
    requests: Vec<(reqwest::Method, String, String, Option<Value>)>,
) -> Vec<TestResponse> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(method, path, token, body)| {
            let client = app.client.clone();
            let url = format!("{}{path}", app.base);
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let mut request = client.request(method, url).bearer_auth(token);
                if let Some(body) = body {
                    request = request.json(&body);
                }
                barrier.wait().await;
                TestResponse::read(request.send().await.expect("request sent")).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    answers
}

fn statuses(answers: &[TestResponse]) -> Vec<u16> {
    answers.iter().map(|a| a.status.as_u16()).collect()
}

/// Every action in `chain`, oldest first, after checking the chain verifies.
async fn story(app: &TestApp, chain: String) -> Vec<String> {
    let store = &app.state().store;
    let verdict = store.verify_audit_chain_from(&chain, None).await.unwrap();
    assert!(verdict.ok, "{chain}: {verdict:?}");
    let mut actions = Vec::new();
    let mut before_seq = None;
    loop {
        let page = store
            .audit_page(&AuditQuery {
                chain: chain.clone(),
                actions: None,
                actor_handle: None,
                target: None,
                since_us: None,
                until_us: None,
                before_seq,
                from_seq: None,
                limit: 100,
            })
            .await
            .unwrap();
        actions.extend(page.items.iter().map(|e| e.action.clone()));
        match page.next_before {
            Some(seq) => before_seq = Some(seq),
            None => break,
        }
    }
    actions.reverse();
    actions
}

fn count(story: &[String], action: &str) -> usize {
    story.iter().filter(|a| *a == action).count()
}

async fn renames_to_one_handle_have_one_winner_and_one_entry(app: &TestApp) {
    let ann = app.user("ann").await;
    let mut ids = Vec::new();
    let mut requests = Vec::new();
    for i in 0..10 {
        let org = app.create_org(&ann, &format!("org{i}")).await;
        ids.push(org["id"].as_str().unwrap().to_owned());
        requests.push((
            reqwest::Method::POST,
            format!("/api/v1/orgs/org{i}/handle"),
            ann.clone(),
            Some(json!({"handle": "prize"})),
        ));
    }
    let answers = at_once(app, requests).await;
    let codes = statuses(&answers);
    assert_eq!(codes.iter().filter(|s| **s == 200).count(), 1, "{codes:?}");
    for answer in answers.iter().filter(|a| a.status != 200) {
        answer.assert_problem(409, "handle-taken");
    }
    let winner = codes.iter().position(|s| *s == 200).unwrap();
    for (i, id) in ids.iter().enumerate() {
        let story = story(app, org_chain(id)).await;
        assert_eq!(
            count(&story, "org.handle.update"),
            usize::from(i == winner),
            "org{i}: {story:?}"
        );
    }
}

async fn owners_demoting_each_other_leave_one_owner_and_one_entry(app: &TestApp) {
    let ann = app.user("ann").await;
    let org = app.create_org(&ann, "acme").await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let bob = app.member(&ann, "acme", "bob", "owner").await;
    let before = count(&story(app, org_chain(&org_id)).await, "org.member.update");
    let body = Some(json!({"role": "member"}));
    let answers = at_once(
        app,
        vec![
            (
                reqwest::Method::PATCH,
                "/api/v1/orgs/acme/members/bob".to_owned(),
                ann.clone(),
                body.clone(),
            ),
            (
                reqwest::Method::PATCH,
                "/api/v1/orgs/acme/members/ann".to_owned(),
                bob.clone(),
                body,
            ),
        ],
    )
    .await;
    let codes = statuses(&answers);
    assert_eq!(codes.iter().filter(|s| **s == 200).count(), 1, "{codes:?}");
    let story = story(app, org_chain(&org_id)).await;
    assert_eq!(count(&story, "org.member.update") - before, 1, "{story:?}");
}

async fn the_token_limit_holds_under_concurrent_creation(app: &TestApp) {
    let ann = app.user("ann").await;
    let user_id = app.get("/api/v1/user", &ann).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let requests = (0..16)
        .map(|i| {
            (
                reqwest::Method::POST,
                "/api/v1/user/tokens".to_owned(),
                ann.clone(),
                Some(json!({"title": format!("t{i}")})),
            )
        })
        .collect();
    let answers = at_once(app, requests).await;
    let codes = statuses(&answers);
    assert_eq!(codes.iter().filter(|s| **s == 201).count(), 10, "{codes:?}");
    for answer in answers.iter().filter(|a| a.status != 201) {
        answer.assert_problem(409, "conflict");
    }
    let listed = app.get("/api/v1/user/tokens?limit=100", &ann).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 10);
    let story = story(app, user_chain(&user_id)).await;
    assert_eq!(count(&story, "token.create"), 10, "{story:?}");
}

async fn delete_against_rename_ends_in_an_order_the_log_tells(app: &TestApp) {
    let ann = app.user("ann").await;
    for round in 0..3 {
        let handle = format!("acme{round}");
        let org = app.create_org(&ann, &handle).await;
        let org_id = org["id"].as_str().unwrap().to_owned();
        let answers = at_once(
            app,
            vec![
                (
                    reqwest::Method::DELETE,
                    format!("/api/v1/orgs/{handle}?confirm={handle}"),
                    ann.clone(),
                    None,
                ),
                (
                    reqwest::Method::POST,
                    format!("/api/v1/orgs/{handle}/handle"),
                    ann.clone(),
                    Some(json!({"handle": format!("renamed{round}")})),
                ),
            ],
        )
        .await;
        let (deleted, renamed) = (&answers[0], &answers[1]);
        let story = story(app, org_chain(&org_id)).await;
        let deletes = count(&story, "org.delete");
        let renames = count(&story, "org.handle.update");
        // Either the rename came first (both succeed; then the delete by the old
        // handle found the org through its reservation) or the delete did (the rename
        // finds no org). The log holds exactly the changes that answered 2xx.
        assert_eq!(
            deletes,
            usize::from(deleted.status.is_success()),
            "{}: {}",
            deleted.status,
            deleted.text
        );
        assert_eq!(
            renames,
            usize::from(renamed.status.is_success()),
            "{}: {}",
            renamed.status,
            renamed.text
        );
        if deletes == 1 && renames == 1 {
            assert_eq!(story.last().map(String::as_str), Some("org.delete"));
        }
        for answer in &answers {
            assert!(
                !answer.status.is_server_error(),
                "{}: {}",
                answer.status,
                answer.text
            );
        }
        // Whatever happened, the org is gone from the list afterwards if deleted.
        let listed = app.get("/api/v1/orgs?limit=100", &ann).await;
        let live = listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == org_id.as_str());
        assert_eq!(live, deletes == 0);
    }
}

async fn accept_against_cancel_of_one_invitation_has_one_winner(app: &TestApp) {
    let ann = app.user("ann").await;
    let org = app.create_org(&ann, "acme").await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let bob = app.user("bob").await;
    for _ in 0..3 {
        app.invite(&ann, "acme", "bob", "member")
            .await
            .assert_status(201);
        let answers = at_once(
            app,
            vec![
                (
                    reqwest::Method::POST,
                    "/api/v1/user/invitations/acme/accept".to_owned(),
                    bob.clone(),
                    None,
                ),
                (
                    reqwest::Method::DELETE,
                    "/api/v1/orgs/acme/members/bob".to_owned(),
                    ann.clone(),
                    None,
                ),
            ],
        )
        .await;
        let (accepted, cancelled) = (&answers[0], &answers[1]);
        assert!(
            !accepted.status.is_server_error() && !cancelled.status.is_server_error(),
            "{} {} / {} {}",
            accepted.status,
            accepted.text,
            cancelled.status,
            cancelled.text
        );
        let members = app.get("/api/v1/orgs/acme/members?limit=100", &ann).await;
        let bob_there = members.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user"]["handle"] == "bob");
        // Accept first then the removal: both succeed and bob is gone. Cancel first:
        // the accept finds no invitation. Bob is a member only if nothing removed him.
        if cancelled.status.is_success() {
            assert!(!bob_there);
        } else {
            assert!(accepted.status.is_success());
            assert!(bob_there);
            app.delete("/api/v1/orgs/acme/members/bob", &ann)
                .await
                .assert_status(204);
        }
        let story = story(app, org_chain(&org_id)).await;
        let last_two: Vec<&str> = story.iter().rev().take(2).map(String::as_str).collect();
        if accepted.status.is_success() {
            assert_eq!(
                last_two,
                ["org.member.delete", "org.member.accept"],
                "{story:?}"
            );
        } else {
            assert_eq!(
                last_two,
                ["org.member.delete", "org.member.invite"],
                "{story:?}"
            );
        }
    }
}

async fn concurrent_workspace_creation_with_one_handle_has_one_winner(app: &TestApp) {
    let ann = app.user("ann").await;
    let org = app.create_org(&ann, "acme").await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let requests = (0..12)
        .map(|_| {
            (
                reqwest::Method::POST,
                "/api/v1/orgs/acme/workspaces".to_owned(),
                ann.clone(),
                Some(json!({"handle": "prod"})),
            )
        })
        .collect();
    let answers = at_once(app, requests).await;
    let codes = statuses(&answers);
    assert_eq!(codes.iter().filter(|s| **s == 201).count(), 1, "{codes:?}");
    for answer in answers.iter().filter(|a| a.status != 201) {
        assert_eq!(answer.status, 409, "{}", answer.text);
    }
    let listed = app.get("/api/v1/orgs/acme/workspaces", &ann).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let story = story(app, org_chain(&org_id)).await;
    assert_eq!(count(&story, "workspace.create"), 1, "{story:?}");
}
