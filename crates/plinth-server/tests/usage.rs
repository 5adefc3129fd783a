//! Usage: real traffic (org API calls, workspace hosts, DNS over UDP) counted in memory,
//! flushed, and read back through `GET /orgs/{org}/usage`, on both backends.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_server::proto::op::{Message, Query, ResponseCode};
use hickory_server::proto::rr::{Name, RecordType};
use plinth_server::testing::{TestApp, TestResponse};
use plinth_store::test_support::Backend;
use reqwest::Method;
use serde_json::{Value, json};
use time::macros::{format_description, time};
use time::{Date, OffsetDateTime};
use tokio::net::UdpSocket;

/// The background flush and snapshot are pushed out of reach, so each test decides when
/// usage reaches the database.
async fn app(backend: Backend) -> TestApp {
    TestApp::with_settings(backend, |s| {
        s.flush_every = Duration::from_secs(3600);
        s.usage_snapshot_every = Duration::from_secs(3600);
    })
    .await
}

mod retention {
    use super::*;

    /// Five days of usage kept (`--usage-retention-days 5`).
    async fn app(backend: Backend) -> TestApp {
        TestApp::with_settings(backend, |s| {
            s.flush_every = Duration::from_secs(3600);
            s.usage_snapshot_every = Duration::from_secs(3600);
            s.usage_retention_days = Some(5);
        })
        .await
    }

    plinth_store::on_both_backends!(app => the_purge_pass_applies_usage_retention);
}

plinth_store::on_both_backends!(app =>
    counts_real_traffic_per_org_workspace_and_day,
    metering_writes_nothing_on_the_request_path,
    days_follow_utc_and_snapshots_are_daily,
    deleted_workspaces_keep_their_usage,
    renamed_org_keeps_its_usage,
    ranges_and_bad_input,
    only_owners_see_usage,
    csv_download,
    an_idle_org_writes_no_rows,
);

fn day(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap()
}

/// Moves the server's clock forward to `at` (it can only go forward).
fn set_clock(app: &TestApp, at: OffsetDateTime) {
    let now = app.state().now();
    assert!(at > now, "the test clock only moves forward");
    app.state()
        .advance_clock(Duration::try_from(at - now).expect("a positive duration"));
}

/// Moves the server's clock to noon (UTC) of the next day, so a test's traffic lands on
/// one known day however long it takes: answers that day.
fn next_day_at_noon(app: &TestApp) -> Date {
    let tomorrow = app.state().now().date().next_day().unwrap();
    set_clock(app, tomorrow.with_time(time!(12:00)).assume_utc());
    tomorrow
}

async fn dns_query(server: SocketAddr, name: &str) -> ResponseCode {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut message = Message::query();
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    socket
        .send_to(&message.to_vec().unwrap(), server)
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let (len, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .expect("a UDP answer within 5 s")
        .unwrap();
    Message::from_vec(&buf[..len])
        .unwrap()
        .metadata
        .response_code
}

async fn visit(app: &TestApp, host: &str, times: usize) {
    for _ in 0..times {
        app.get_host(host, "/", None).await.assert_status(200);
    }
}

async fn ask_dns(app: &TestApp, name: &str, times: usize) {
    for _ in 0..times {
        assert_eq!(
            dns_query(app.server.dns_udp_addr, name).await,
            ResponseCode::NoError
        );
    }
}

async fn touch_org(app: &TestApp, token: &str, org: &str, times: usize) {
    for _ in 0..times {
        app.get(&format!("/api/v1/orgs/{org}"), token)
            .await
            .assert_status(200);
    }
}

fn figures(report: &Value, date: &str) -> Value {
    report["daily"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date)
        .unwrap_or_else(|| panic!("{date} in {report}"))
        .clone()
}

fn zero_day(date: &str) -> Value {
    json!({"date": date, "api_requests": 0, "workspace_requests": 0, "dns_queries": 0,
           "members": 0, "workspaces": 0, "audit_events": 0})
}

async fn counts_real_traffic_per_org_workspace_and_day(app: &TestApp) {
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    app.create_org(&ann, "acme").await;
    app.create_org(&bob, "globex").await;
    let prod = app.create_workspace(&ann, "acme", "prod").await;
    let dev = app.create_workspace(&ann, "acme", "dev").await;
    app.create_workspace(&bob, "globex", "prod").await;
    let setup_day = app.state().now().date();
    app.flush_usage().await;

    let d = next_day_at_noon(app);
    touch_org(app, &ann, "acme", 3).await;
    touch_org(app, &bob, "globex", 1).await;
    visit(app, "acme-prod.plinth.localhost", 4).await;
    visit(app, "ACME-DEV.plinth.localhost:8080", 1).await;
    visit(app, "globex-prod.plinth.localhost", 2).await;
    ask_dns(app, "acme-prod.plinth.localhost.", 2).await;
    ask_dns(app, "acme-dev.plinth.localhost.", 1).await;
    // Names that are not the org's are not its usage.
    assert_eq!(
        dns_query(app.server.dns_udp_addr, "acme-nope.plinth.localhost.").await,
        ResponseCode::NXDomain
    );
    app.get_host("acme-nope.plinth.localhost", "/", None)
        .await
        .assert_status(404);
    app.flush_usage().await;

    let range = format!("?from={}&to={}", day(d), day(d));
    let report = app.usage(&ann, "acme", &range).await;
    report.assert_status(200);
    let report = &report.body;
    assert_eq!(report["from"], day(d));
    assert_eq!(report["to"], day(d));
    let expected = json!({"date": day(d), "api_requests": 3, "workspace_requests": 5,
        "dns_queries": 3, "members": 1, "workspaces": 2, "audit_events": 0});
    assert_eq!(report["daily"], json!([expected]));
    assert_eq!(
        report["totals"],
        json!({"api_requests": 3, "workspace_requests": 5, "dns_queries": 3,
               "members": 1, "workspaces": 2, "audit_events": 0})
    );
    assert_eq!(
        report["workspaces"],
        json!([
            {"workspace_id": dev["id"], "handle": "dev", "workspace_requests": 1, "dns_queries": 1},
            {"workspace_id": prod["id"], "handle": "prod", "workspace_requests": 4, "dns_queries": 2},
        ])
    );

    // The report itself was an API call on the org; it shows after the next flush. The
    // setup day carries the two workspace creations (org creation is not under /orgs/{org}).
    app.flush_usage().await;
    let both = app
        .usage(
            &ann,
            "acme",
            &format!("?from={}&to={}", day(setup_day), day(d)),
        )
        .await;
    both.assert_status(200);
    assert_eq!(figures(&both.body, &day(setup_day))["api_requests"], 2);
    assert_eq!(figures(&both.body, &day(d))["api_requests"], 4);
    assert_eq!(both.body["totals"]["api_requests"], 6);

    // Another org's traffic is its own.
    let globex = app.usage(&bob, "globex", &range).await;
    globex.assert_status(200);
    assert_eq!(
        globex.body["daily"],
        json!([{"date": day(d), "api_requests": 1, "workspace_requests": 2,
                "dns_queries": 0, "members": 1, "workspaces": 1, "audit_events": 0}])
    );

    // Default range: the last 30 days, today included, every day present.
    let default = app.usage(&ann, "acme", "").await;
    default.assert_status(200);
    let daily = default.body["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30);
    let first = d - time::Duration::days(29);
    assert_eq!(default.body["from"], day(first));
    assert_eq!(default.body["to"], day(d));
    assert_eq!(daily[0], zero_day(&day(first)));
    assert_eq!(daily[29]["date"], day(d));
    let dates: Vec<_> = daily.iter().map(|d| d["date"].clone()).collect();
    let mut sorted = dates.clone();
    sorted.sort_by_key(|d| d.as_str().unwrap().to_owned());
    sorted.dedup();
    assert_eq!(dates, sorted, "oldest first, one row a day");
}

async fn metering_writes_nothing_on_the_request_path(app: &TestApp) {
    let ann = app.user("ann").await;
    let acme = app.create_org(&ann, "acme").await;
    let org_id = acme["id"].as_str().unwrap();
    app.create_workspace(&ann, "acme", "prod").await;
    app.flush_usage().await;
    let stored = || async { app.db.store.usage(org_id, "0000-01-01", "9999-12-31").await };
    let before = stored().await.unwrap();
    assert_eq!(app.state().usage.pending(), 0);

    // Counts accumulate in memory; the table does not move until a flush.
    touch_org(app, &ann, "acme", 2).await;
    visit(app, "acme-prod.plinth.localhost", 2).await;
    ask_dns(app, "acme-prod.plinth.localhost.", 2).await;
    assert_eq!(app.state().usage.pending(), 6);
    assert_eq!(stored().await.unwrap(), before);

    // With the database gone, warm requests are still answered and counted: the request
    // path runs no statement at all.
    app.state().store.close().await;
    touch_org(app, &ann, "acme", 1).await;
    visit(app, "acme-prod.plinth.localhost", 1).await;
    ask_dns(app, "acme-prod.plinth.localhost.", 1).await;
    assert_eq!(app.state().usage.pending(), 9);
    // A failed flush keeps its counts for the next one.
    assert!(app.state().usage.flush(&app.state().store).await.is_err());
    assert_eq!(app.state().usage.pending(), 9);
}

async fn days_follow_utc_and_snapshots_are_daily(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_workspace(&ann, "acme", "prod").await;
    let d1 = next_day_at_noon(app);
    let d2 = d1.next_day().unwrap();
    app.flush_usage().await;

    // Half a minute before midnight (UTC) of d1, then just after it.
    set_clock(app, d1.with_time(time!(23:59:30)).assume_utc());
    touch_org(app, &ann, "acme", 2).await;
    visit(app, "acme-prod.plinth.localhost", 1).await;
    set_clock(app, d2.with_time(time!(00:00:30)).assume_utc());
    touch_org(app, &ann, "acme", 1).await;
    ask_dns(app, "acme-prod.plinth.localhost.", 3).await;

    // d2's snapshot sees two members and two workspaces; d1 keeps what it had.
    app.member(&ann, "acme", "bob", "member").await;
    app.create_workspace(&ann, "acme", "dev").await;
    app.flush_usage().await;

    let range = format!("?from={}&to={}", day(d1), day(d2));
    let report = app.usage(&ann, "acme", &range).await;
    report.assert_status(200);
    assert_eq!(
        report.body["daily"],
        json!([
            {"date": day(d1), "api_requests": 2, "workspace_requests": 1, "dns_queries": 0,
             "members": 1, "workspaces": 1, "audit_events": 0},
            // One call, then bob's invitation and the creation of dev (his acceptance is
            // not under /orgs/{org}, so not the org's API usage).
            // Three audit entries on d2: the invitation, its acceptance, dev's creation.
            {"date": day(d2), "api_requests": 3, "workspace_requests": 0, "dns_queries": 3,
             "members": 2, "workspaces": 2, "audit_events": 3},
        ])
    );
    // A count of the day's entries, not a level: it adds up over days.
    assert_eq!(report.body["totals"]["audit_events"], 3);
    // Snapshots do not add up over days: the totals carry the latest day's.
    assert_eq!(report.body["totals"]["members"], 2);
    assert_eq!(report.body["totals"]["workspaces"], 2);
    assert_eq!(report.body["totals"]["api_requests"], 5);

    // A later snapshot the same day overwrites it.
    app.delete("/api/v1/orgs/acme/members/bob", &ann)
        .await
        .assert_status(204);
    app.flush_usage().await;
    let again = app.usage(&ann, "acme", &range).await;
    assert_eq!(figures(&again.body, &day(d2))["members"], 1);
    assert_eq!(figures(&again.body, &day(d1))["members"], 1);
    assert_eq!(again.body["totals"]["members"], 1);
    // A day outside the range does not leak into it.
    let only_d1 = app
        .usage(&ann, "acme", &format!("?from={}&to={}", day(d1), day(d1)))
        .await;
    assert_eq!(only_d1.body["totals"]["api_requests"], 2);
    assert_eq!(only_d1.body["totals"]["workspaces"], 1);
}

async fn deleted_workspaces_keep_their_usage(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let prod = app.create_workspace(&ann, "acme", "prod").await;
    let dev = app.create_workspace(&ann, "acme", "dev").await;
    let d = next_day_at_noon(app);
    visit(app, "acme-prod.plinth.localhost", 3).await;
    ask_dns(app, "acme-prod.plinth.localhost.", 2).await;
    visit(app, "acme-dev.plinth.localhost", 1).await;
    app.flush_usage().await;

    app.delete("/api/v1/orgs/acme/workspaces/prod", &ann)
        .await
        .assert_status(204);
    // Gone: no longer answered, no longer counted.
    app.get_host("acme-prod.plinth.localhost", "/", None)
        .await
        .assert_status(404);
    assert_eq!(
        dns_query(app.server.dns_udp_addr, "acme-prod.plinth.localhost.").await,
        ResponseCode::NXDomain
    );
    app.flush_usage().await;

    let report = app
        .usage(&ann, "acme", &format!("?from={}&to={}", day(d), day(d)))
        .await;
    report.assert_status(200);
    assert_eq!(report.body["totals"]["workspace_requests"], 4);
    assert_eq!(report.body["totals"]["dns_queries"], 2);
    assert_eq!(report.body["totals"]["workspaces"], 1);
    assert_eq!(
        report.body["workspaces"],
        json!([
            {"workspace_id": dev["id"], "handle": "dev",
             "workspace_requests": 1, "dns_queries": 0},
            {"workspace_id": prod["id"], "handle": null, "workspace_requests": 3, "dns_queries": 2},
        ])
    );
}

/// Usage is keyed by org id: it continues under the org's new handle.
async fn renamed_org_keeps_its_usage(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_workspace(&ann, "acme", "prod").await;
    let d = next_day_at_noon(app);
    touch_org(app, &ann, "acme", 2).await;
    visit(app, "acme-prod.plinth.localhost", 2).await;
    app.flush_usage().await;

    // The rename is itself an API call on the org: the third.
    app.post(
        "/api/v1/orgs/acme/handle",
        &ann,
        json!({"handle": "initech"}),
    )
    .await
    .assert_status(200);
    visit(app, "initech-prod.plinth.localhost", 1).await;
    touch_org(app, &ann, "initech", 1).await;
    app.flush_usage().await;
    let range = format!("?from={}&to={}", day(d), day(d));
    let report = app.usage(&ann, "initech", &range).await;
    report.assert_status(200);
    assert_eq!(report.body["totals"]["api_requests"], 4);
    assert_eq!(report.body["totals"]["workspace_requests"], 3);
    assert_eq!(report.body["workspaces"][0]["handle"], "prod");
    assert_eq!(report.body["workspaces"][0]["workspace_requests"], 3);
    // Under the old handle, during the grace period: a redirect to the new one.
    let old = app.usage(&ann, "acme", &range).await;
    old.assert_problem(308, "moved");
    assert!(
        old.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/api/v1/orgs/initech/usage")
    );
}

#[track_caller]
fn assert_invalid(response: &TestResponse, field: &str) {
    response.assert_problem(400, "validation");
    assert_eq!(
        response.body["errors"][0]["field"], field,
        "{}",
        response.text
    );
}

async fn ranges_and_bad_input(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;

    let year = app
        .usage(&ann, "acme", "?from=2024-01-01&to=2024-12-31")
        .await;
    year.assert_status(200);
    assert_eq!(year.body["daily"].as_array().unwrap().len(), 366);
    assert_eq!(year.body["daily"][59], zero_day("2024-02-29"));
    let one = app
        .usage(&ann, "acme", "?from=2026-03-01&to=2026-03-01")
        .await;
    assert_eq!(one.body["daily"], json!([zero_day("2026-03-01")]));
    // `from` alone: up to today; `to` alone: the 30 days before it.
    let to_only = app.usage(&ann, "acme", "?to=2026-03-30").await;
    assert_eq!(to_only.body["from"], "2026-03-01");
    let today = day(app.state().now().date());
    let from_only = app.usage(&ann, "acme", &format!("?from={today}")).await;
    assert_eq!(from_only.body["to"], today);
    let explicit = app.usage(&ann, "acme", "?to=2026-03-30&format=json").await;
    assert_eq!(explicit.body, to_only.body);
    // The calendar's last day is fine; the first cannot have 30 days before it.
    let last = app
        .usage(&ann, "acme", "?from=9999-12-31&to=9999-12-31")
        .await;
    last.assert_status(200);
    assert_eq!(last.body["daily"], json!([zero_day("9999-12-31")]));

    for (query, field) in [
        ("?from=2026-03-02&to=2026-03-01", "from"),
        ("?from=2024-01-01&to=2025-01-01", "from"),
        ("?from=2026-02-30", "from"),
        ("?from=yesterday", "from"),
        ("?from=2026-3-1", "from"),
        ("?from=", "from"),
        ("?to=2026-13-01", "to"),
        ("?to=%00", "to"),
        ("?format=xml", "format"),
        ("?format=", "format"),
        ("?format=CSV%20", "format"),
        ("?limit=5", "limit"),
    ] {
        let answer = app.usage(&ann, "acme", query).await;
        assert!(
            answer.status == 400,
            "{query}: {} {}",
            answer.status,
            answer.text
        );
        if field == "limit" {
            answer.assert_problem(400, "validation");
        } else {
            assert_invalid(&answer, field);
        }
    }
}

async fn only_owners_see_usage(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    let member = app.member(&ann, "acme", "bob", "member").await;
    let stranger = app.user("cyd").await;
    let invitee = app.user("dee").await;
    app.invite(&ann, "acme", "dee", "member")
        .await
        .assert_status(201);
    let other_owner = app.user("eve").await;
    app.create_org(&other_owner, "globex").await;

    let path = "/api/v1/orgs/acme/usage";
    app.request(Method::GET, path, None, None)
        .await
        .assert_problem(401, "unauthenticated");
    app.usage(&stranger, "acme", "")
        .await
        .assert_problem(404, "not-found");
    app.usage(&invitee, "acme", "")
        .await
        .assert_problem(404, "not-found");
    app.usage(&other_owner, "acme", "")
        .await
        .assert_problem(404, "not-found");
    app.usage(&member, "acme", "")
        .await
        .assert_problem(403, "forbidden");
    app.usage(&ann, "acme", "").await.assert_status(200);
    // The guard answers before the query is read: a stranger's bad query is still a 404.
    app.usage(&stranger, "acme", "?from=nope")
        .await
        .assert_problem(404, "not-found");
    app.usage(&member, "acme", "?format=csv")
        .await
        .assert_problem(403, "forbidden");
    app.usage(&ann, "no-such-org", "")
        .await
        .assert_problem(404, "not-found");
}

async fn csv_download(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_workspace(&ann, "acme", "prod").await;
    let d = next_day_at_noon(app);
    let before = d.previous_day().unwrap();
    visit(app, "acme-prod.plinth.localhost", 2).await;
    ask_dns(app, "acme-prod.plinth.localhost.", 1).await;
    touch_org(app, &ann, "acme", 1).await;
    app.flush_usage().await;

    let (from, to) = (day(before), day(d));
    let expected = format!(
        "date,api_requests,workspace_requests,dns_queries,members,workspaces,audit_events\n\
         {from},1,0,0,0,0,0\n\
         {to},1,2,1,1,1,0\n"
    );
    let csv = app
        .usage(&ann, "acme", &format!("?from={from}&to={to}&format=csv"))
        .await;
    csv.assert_status(200);
    assert_eq!(csv.text, expected);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers["content-disposition"],
        format!("attachment; filename=\"acme-usage-{from}-{to}.csv\"").as_str()
    );

    // `Accept: text/csv` asks for the same; `?format=json` beats it.
    let url = format!("{}/api/v1/orgs/acme/usage?from={from}&to={to}", app.base);
    let accepted = app
        .client
        .get(&url)
        .bearer_auth(&ann)
        .header("accept", "application/json;q=0.5, text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(
        accepted.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(accepted.text().await.unwrap(), expected);
    let refused = app
        .client
        .get(&url)
        .bearer_auth(&ann)
        .header("accept", "text/csv;q=0, application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.headers()["content-type"], "application/json");
    let json = app
        .client
        .get(format!("{url}&format=json"))
        .bearer_auth(&ann)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(json.headers()["content-type"], "application/json");
    let body: Value = json.json().await.unwrap();
    assert_eq!(body["daily"].as_array().unwrap().len(), 2);
}

/// Storage grows with activity, not with orgs × days: an org where nothing happens
/// writes no row however many days of snapshots pass, and its report still has every
/// day, the levels carried from the day they last changed.
async fn an_idle_org_writes_no_rows(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_workspace(&ann, "acme", "prod").await;
    let first = next_day_at_noon(app);
    app.flush_usage().await;
    let rows = || async { app.db.store.usage_row_count().await.unwrap() };
    // The first snapshot writes the two levels; the day's audit entries were the day
    // before (creation), and no request has been made since.
    let start = rows().await;
    assert_eq!(
        start,
        2 + 1,
        "members, workspaces, and the setup day's audit count"
    );

    let mut last = first;
    for _ in 0..10 {
        last = next_day_at_noon(app);
        app.flush_usage().await;
        app.flush_usage().await;
    }
    assert_eq!(rows().await, start, "ten idle days wrote nothing");

    let range = format!("?from={}&to={}", day(first), day(last));
    let report = app.usage(&ann, "acme", &range).await;
    report.assert_status(200);
    let daily = report.body["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 11);
    for d in daily {
        assert_eq!(
            d,
            &json!({"date": d["date"], "api_requests": 0, "workspace_requests": 0,
                    "dns_queries": 0, "members": 1, "workspaces": 1, "audit_events": 0})
        );
    }
    // The report was an API call: the next flush writes that one counter row.
    app.flush_usage().await;
    assert_eq!(rows().await, start + 1);

    // A change writes the changed level and the day's audit count, once.
    app.create_workspace(&ann, "acme", "dev").await;
    app.flush_usage().await;
    app.flush_usage().await;
    // The creation's API call adds to the day's counter row written above.
    assert_eq!(rows().await, start + 1 + 2, "workspaces, audit_events");
    let report = app
        .usage(
            &ann,
            "acme",
            &format!("?from={}&to={}", day(first), day(last)),
        )
        .await;
    assert_eq!(figures(&report.body, &day(first))["workspaces"], 1);
    assert_eq!(figures(&report.body, &day(last))["workspaces"], 2);
    assert_eq!(report.body["totals"]["workspaces"], 2);
    // A range that starts after the last change still reads it.
    let later = next_day_at_noon(app);
    let report = app
        .usage(
            &ann,
            "acme",
            &format!("?from={}&to={}", day(later), day(later)),
        )
        .await;
    assert_eq!(figures(&report.body, &day(later))["members"], 1);
    assert_eq!(figures(&report.body, &day(later))["workspaces"], 2);

    // Retention: everything before `later` goes except the levels it still reads.
    let purged = app.db.store.purge_usage_before(&day(later)).await.unwrap();
    assert!(purged > 0);
    let report = app
        .usage(
            &ann,
            "acme",
            &format!("?from={}&to={}", day(first), day(later)),
        )
        .await;
    assert_eq!(report.body["totals"]["api_requests"], 0);
    assert_eq!(report.body["totals"]["audit_events"], 0);
    assert_eq!(figures(&report.body, &day(later))["members"], 1);
    assert_eq!(figures(&report.body, &day(later))["workspaces"], 2);
}

/// The hourly purge pass removes the days past `--usage-retention-days` and keeps the
/// levels the kept days read; without the setting it keeps everything (the other tests).
async fn the_purge_pass_applies_usage_retention(app: &TestApp) {
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;
    app.create_workspace(&ann, "acme", "prod").await;
    let first = next_day_at_noon(app);
    // A day of traffic: the report calls themselves are counted API requests.
    app.usage(&ann, "acme", "").await;
    app.flush_usage().await;
    let mut last = first;
    for _ in 0..10 {
        last = next_day_at_noon(app);
        app.flush_usage().await;
    }
    let range = format!("?from={}&to={}", day(first), day(last));
    let before = app.usage(&ann, "acme", &range).await;
    assert!(
        figures(&before.body, &day(first))["api_requests"]
            .as_i64()
            .unwrap()
            > 0
    );
    let rows_before = app.db.store.usage_row_count().await.unwrap();

    plinth_server::runtime::server::purge_expired(app.state()).await;

    assert!(app.db.store.usage_row_count().await.unwrap() < rows_before);
    let after = app.usage(&ann, "acme", &range).await;
    assert_eq!(
        figures(&after.body, &day(first))["api_requests"],
        0,
        "past retention"
    );
    // The levels are still read on every kept day.
    assert_eq!(figures(&after.body, &day(last))["members"], 1);
    assert_eq!(figures(&after.body, &day(last))["workspaces"], 1);
    // A second pass finds nothing more to remove.
    let rows = app.db.store.usage_row_count().await.unwrap();
    plinth_server::runtime::server::purge_expired(app.state()).await;
    assert_eq!(app.db.store.usage_row_count().await.unwrap(), rows);
}
