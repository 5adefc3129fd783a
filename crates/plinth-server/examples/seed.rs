//! Bulk seeding for the scale benchmarks (not a test, not the API): fills a database
//! with `--orgs N` orgs of `--workspaces-per-org M` workspaces each, straight through SQL
//! in large multi-row `INSERT`s, so 1,000,000 live names take about a minute instead of
//! the hours a million API calls would.
//!
//! ```text
//! cargo run --release -p plinth-server --example seed -- \
//!     --database-url sqlite://./scale.db --orgs 100000 --workspaces-per-org 10
//! ```
//!
//! Org `i` is `s{i}` (display name `Org {i}`), owned by user `u{i}` (`u{i}@example.com`,
//! password `correct horse battery`: one real argon2id hash, computed once and shared)
//! through an active owner membership, as `POST /orgs` leaves it. Its workspaces are
//! `w0`…`w{M-1}`, so the DNS labels are `s{i}-w{j}`. The `handles` table holds every
//! user and org handle, as the services write them. No audit entries and no usage rows
//! are written: a seeded org's audit chain is empty (it verifies), and its first change
//! through the API starts it. The database is migrated first; it must hold no `s…`/`u…`
//! handles of its own (a second run into the same database fails on the first duplicate
//! and leaves the batches written before it).

use std::fmt::Write as _;
use std::time::Instant;

use plinth_core::Password;
use plinth_server::auth::password::PasswordHashing;
use plinth_store::{Store, new_id, time_to_micros};
use sqlx::any::install_default_drivers;
use sqlx::{AnyConnection, Connection, Executor};

/// Orgs per statement (each statement writes `ORGS_PER_BATCH × M` workspaces).
const ORGS_PER_BATCH: usize = 1_000;
/// Batches per transaction.
const BATCHES_PER_TX: usize = 10;

struct Args {
    database_url: String,
    orgs: usize,
    workspaces_per_org: usize,
}

fn args() -> Result<Args, String> {
    let mut database_url = None;
    let mut orgs = 100_000;
    let mut workspaces_per_org = 10;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => database_url = Some(value()?),
            "--orgs" => orgs = value()?.parse().map_err(|e| format!("--orgs: {e}"))?,
            "--workspaces-per-org" => {
                workspaces_per_org = value()?
                    .parse()
                    .map_err(|e| format!("--workspaces-per-org: {e}"))?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        database_url: database_url.ok_or("--database-url is required")?,
        orgs,
        workspaces_per_org,
    })
}

#[tokio::main]
async fn main() {
    let args = match args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}\nusage: seed --database-url URL [--orgs N] [--workspaces-per-org M]");
            std::process::exit(2);
        }
    };
    let store = Store::connect(&args.database_url)
        .await
        .expect("connect to the database");
    store.migrate().await.expect("migrate");
    // The same connection URL the store settled on (a SQLite file gets `mode=rwc`).
    let url = store.url().to_owned();
    store.close().await;

    let hashing = PasswordHashing::new(1);
    let password_hash = hashing
        .hash(Password::parse_new("correct horse battery").expect("a valid password"))
        .await
        .expect("hash the seed password");

    install_default_drivers();
    let mut conn = AnyConnection::connect(&url).await.expect("connect");
    if url.starts_with("sqlite:") {
        // A bulk load that can be rerun from scratch needs no fsync per commit.
        conn.execute("PRAGMA synchronous = OFF")
            .await
            .expect("pragma");
    }
    let now = time_to_micros(time::OffsetDateTime::now_utc());
    let started = Instant::now();
    let mut written = 0;
    while written < args.orgs {
        let mut tx = conn.begin().await.expect("begin");
        for _ in 0..BATCHES_PER_TX {
            if written >= args.orgs {
                break;
            }
            let count = ORGS_PER_BATCH.min(args.orgs - written);
            for sql in batch(written, count, args.workspaces_per_org, &password_hash, now) {
                tx.execute(sqlx::AssertSqlSafe(sql))
                    .await
                    .expect("insert a batch");
            }
            written += count;
        }
        tx.commit().await.expect("commit");
        eprintln!(
            "{written} orgs, {} workspaces ({:.0} s)",
            written * args.workspaces_per_org,
            started.elapsed().as_secs_f64()
        );
    }
    if url.starts_with("postgres") {
        conn.execute("ANALYZE").await.expect("analyze");
    }
    println!(
        "seeded {} orgs and {} workspaces in {:.1} s",
        args.orgs,
        args.orgs * args.workspaces_per_org,
        started.elapsed().as_secs_f64()
    );
}

/// The statements for orgs `first..first + count`: every value is generated here (ids,
/// `s{i}`, `w{j}`, the PHC hash string, which has no quote), so literals are safe and no
/// statement runs into a bind-parameter limit.
fn batch(
    first: usize,
    count: usize,
    workspaces_per_org: usize,
    password_hash: &str,
    now: i64,
) -> Vec<String> {
    assert!(!password_hash.contains('\''), "a PHC string has no quote");
    let mut users = String::from(
        "INSERT INTO users (id, handle, email, display_name, avatar_url, password_hash, \
         token_min_issued_at, created_at, updated_at) VALUES ",
    );
    let mut handles = String::from("INSERT INTO handles (handle, owner_kind, owner_id) VALUES ");
    let mut orgs = String::from(
        "INSERT INTO orgs (id, handle, display_name, avatar_url, token_min_issued_at, \
         created_at, updated_at) VALUES ",
    );
    let mut memberships = String::from(
        "INSERT INTO memberships (id, org_id, user_id, role, status, invited_by, created_at) \
         VALUES ",
    );
    let mut workspaces = String::from(
        "INSERT INTO workspaces (id, org_id, handle, display_name, created_at, updated_at) \
         VALUES ",
    );
    for i in first..first + count {
        let sep = if i == first { "" } else { "," };
        let (user_id, org_id) = (new_id(), new_id());
        let _ = write!(
            users,
            "{sep}('{user_id}','u{i}','u{i}@example.com','User {i}',NULL,'{password_hash}',0,{now},{now})"
        );
        let _ = write!(
            handles,
            "{sep}('u{i}','user','{user_id}'),('s{i}','org','{org_id}')"
        );
        let _ = write!(
            orgs,
            "{sep}('{org_id}','s{i}','Org {i}',NULL,0,{now},{now})"
        );
        let _ = write!(
            memberships,
            "{sep}('{}','{org_id}','{user_id}','owner','active',NULL,{now})",
            new_id()
        );
        for j in 0..workspaces_per_org {
            let sep = if i == first && j == 0 { "" } else { "," };
            let _ = write!(
                workspaces,
                "{sep}('{}','{org_id}','w{j}','Workspace {j}',{now},{now})",
                new_id()
            );
        }
    }
    let mut statements = vec![users, handles, orgs, memberships];
    if workspaces_per_org > 0 {
        statements.push(workspaces);
    }
    statements
}
