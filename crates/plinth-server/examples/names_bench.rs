//! Workspace-name benchmark (not a test): what an org rename costs beside few names and
//! beside many, through the real HTTP API of a running server, and what loading all the
//! names costs at start.
//!
//! ```text
//! cargo run --release -p plinth-server --example names_bench -- sqlite 100000
//! cargo run --release -p plinth-server --example names_bench -- postgres 100000
//! ```
//!
//! The second argument is the number of extra orgs, each with 10 workspaces (100,000 orgs
//! make 1,000,000 names), written straight to the database in bulk.

use std::time::{Duration, Instant};

use plinth_server::testing::TestApp;
use plinth_store::test_support::Backend;
use serde_json::json;

/// Renames timed in each case (the org's handle goes back and forth, ending where it began).
const RENAMES: usize = 20;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = match args.get(1).map(String::as_str) {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let orgs: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let app = TestApp::new(backend).await;
    let owner = app.user("owner").await;
    app.create_org(&owner, "acme").await;
    for i in 0..10 {
        app.create_workspace(&owner, "acme", &format!("ws{i}"))
            .await;
    }

    let small = renames(&app, &owner).await;
    println!(
        "{backend:?}, {:>9} names: rename median {:.2} ms, p90 {:.2} ms, {} name rows read",
        app.state().directory.len(),
        small.median_ms,
        small.p90_ms,
        small.rows
    );

    let started = Instant::now();
    seed(&app, orgs).await;
    println!(
        "{backend:?}: wrote {orgs} orgs with 10 workspaces each in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rss_before = rss_kib();
    let started = Instant::now();
    app.state().directory.reload(&app.db.store).await.unwrap();
    println!(
        "{backend:?}: loading {} names (what start-up does) took {:.2} s; RSS {} -> {} MiB",
        app.state().directory.len(),
        started.elapsed().as_secs_f64(),
        rss_before / 1024,
        rss_kib() / 1024
    );

    let large = renames(&app, &owner).await;
    println!(
        "{backend:?}, {:>9} names: rename median {:.2} ms, p90 {:.2} ms, {} name rows read",
        app.state().directory.len(),
        large.median_ms,
        large.p90_ms,
        large.rows
    );
    app.cleanup().await;
}

struct Timing {
    median_ms: f64,
    p90_ms: f64,
    /// Name rows one rename read into the directory.
    rows: u64,
}

async fn renames(app: &TestApp, token: &str) -> Timing {
    let mut took = Vec::new();
    let mut rows = 0;
    let (mut from, mut to) = ("acme", "acme-b");
    for _ in 0..RENAMES {
        let before = app.state().directory.rows_read();
        let started = Instant::now();
        app.post(
            &format!("/api/v1/orgs/{from}/handle"),
            token,
            json!({ "handle": to }),
        )
        .await
        .assert_status(200);
        took.push(started.elapsed());
        rows = app.state().directory.rows_read() - before;
        assert!(app.state().directory.get(&format!("{to}-ws0")).is_some());
        std::mem::swap(&mut from, &mut to);
    }
    took.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Timing {
        median_ms: ms(took[took.len() / 2]),
        p90_ms: ms(took[took.len() * 9 / 10]),
        rows,
    }
}

/// `orgs` orgs (`o{i}`) with workspaces `w0`..`w9`, in three statements; the sequence is a
/// recursive CTE, which both databases run.
async fn seed(app: &TestApp, orgs: u64) {
    let seq = format!(
        "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {})",
        orgs.saturating_sub(1)
    );
    let now = plinth_store::time_to_micros(app.state().now()).to_string();
    app.db
        .execute(
            &format!(
                "{seq} INSERT INTO orgs (id, handle, display_name, created_at, updated_at) \
                 SELECT 'org-' || i, 'o' || i, 'Org ' || i, {now}, {now} FROM seq"
            ),
            &[],
        )
        .await;
    app.db
        .execute(
            &format!(
                "{seq} INSERT INTO handles (handle, owner_kind, owner_id) \
                 SELECT 'o' || i, 'org', 'org-' || i FROM seq"
            ),
            &[],
        )
        .await;
    app.db
        .execute(
            &format!(
                "{seq}, ws(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM ws WHERE j < 9) \
                 INSERT INTO workspaces (id, org_id, handle, display_name, created_at, updated_at) \
                 SELECT 'ws-' || i || '-' || j, 'org-' || i, 'w' || j, 'W' || j, {now}, {now} \
                 FROM seq, ws"
            ),
            &[],
        )
        .await;
}

/// This process's resident memory, from /proc (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}
