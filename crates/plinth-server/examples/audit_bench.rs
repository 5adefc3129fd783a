//! Audit log benchmark (not a test): fills one org's log with N entries, then times the
//! first filtered page, pages deep in the log, and the streamed export, through the real
//! HTTP API, and samples the process's memory during the export.
//!
//! ```text
//! cargo run --release -p plinth-server --example audit_bench -- sqlite 1000000
//! cargo run --release -p plinth-server --example audit_bench -- postgres 1000000
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use plinth_core::{AuditAction, ChainedFields};
use plinth_server::testing::TestApp;
use plinth_store::test_support::Backend;
use plinth_store::{new_id, time_to_micros};
use sqlx::Row;

const ROWS_PER_INSERT: usize = 500;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = match args.get(1).map(String::as_str) {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let n: usize = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let app = TestApp::new(backend).await;
    let owner = app.user("owner").await;
    let org = app.create_org(&owner, "acme").await;
    let org_id = org["id"].as_str().unwrap().to_owned();

    let started = Instant::now();
    fill(&app, &org_id, n).await;
    println!(
        "{backend:?}: filled {n} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let base = format!("{}/api/v1/orgs/acme/audit-log", app.base);
    let deep = format!("cursor={}", cursor(n as i64 / 2));
    let cases = [
        ("first page, no filter", String::new()),
        ("first page, action exact", "action=org.update".to_owned()),
        (
            "first page, action prefix",
            "action=org.member.*".to_owned(),
        ),
        ("first page, actor", "actor=user7".to_owned()),
        ("first page, target", "target=target42".to_owned()),
        ("first page, since", "since=2026-01-01T00:00:00Z".to_owned()),
        ("deep page (seq n/2), no filter", deep.clone()),
        (
            "deep page, action prefix",
            format!("{deep}&action=org.member.*"),
        ),
        ("deep page, actor", format!("{deep}&actor=user7")),
        ("deep page, target", format!("{deep}&target=target42")),
    ];
    println!("| query (limit 25) | median ms | p90 ms |");
    println!("| --- | --- | --- |");
    for (name, query) in cases {
        let url = format!("{base}?limit=25&{query}");
        let mut times = Vec::new();
        for i in 0..41 {
            let t = Instant::now();
            let res = app
                .client
                .get(&url)
                .bearer_auth(&owner)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{url}: {}", res.status());
            let body: serde_json::Value = res.json().await.unwrap();
            assert!(!body["items"].as_array().unwrap().is_empty(), "{url}");
            if i > 0 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.2} | {:.2} |",
            times[times.len() / 2],
            times[times.len() * 9 / 10]
        );
    }

    // The database alone, one reader, pages of 2,000 by keyset, no formatting: plain
    // rows (18 values each) and packed rows (one JSON array each, as the export reads).
    for packed in [false, true] {
        let t = Instant::now();
        let mut query = plinth_store::AuditQuery {
            chain: format!("org:{org_id}"),
            limit: 2000,
            ..Default::default()
        };
        let mut read = 0usize;
        loop {
            let page = if packed {
                app.db.store.audit_page_packed(&query).await.unwrap()
            } else {
                app.db.store.audit_page(&query).await.unwrap()
            };
            read += page.items.len();
            match page.next_before {
                Some(before) => query.before_seq = Some(before),
                None => break,
            }
        }
        println!(
            "store reads alone ({}): {read} rows in {:.2} s = {:.0} rows/s",
            if packed { "packed" } else { "plain" },
            t.elapsed().as_secs_f64(),
            read as f64 / t.elapsed().as_secs_f64()
        );
    }

    for format in ["csv", "jsonl"] {
        let rss_before = rss_kib("VmRSS:");
        let anon_before = rss_kib("RssAnon:");
        let anon_peak = Arc::new(AtomicU64::new(anon_before));
        let peak = Arc::new(AtomicU64::new(rss_before));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, anon_peak, done) = (peak.clone(), anon_peak.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib("VmRSS:"), Ordering::Relaxed);
                    anon_peak.fetch_max(rss_kib("RssAnon:"), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let t = Instant::now();
        let res = app
            .client
            .get(format!("{base}/export?format={format}"))
            .bearer_auth(&owner)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let mut stream = res.bytes_stream();
        let (mut lines, mut bytes) = (0u64, 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            bytes += chunk.len() as u64;
            lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        }
        let secs = t.elapsed().as_secs_f64();
        done.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        let rows = if format == "csv" { lines - 1 } else { lines };
        println!(
            "export {format}: {rows} rows, {:.0} MiB in {secs:.2} s = {:.0} rows/s; \
             VmRSS {} MiB before, peak {} MiB; heap (RssAnon) {} MiB before, peak {} MiB",
            bytes as f64 / 1048576.0,
            rows as f64 / secs,
            rss_before / 1024,
            peak.load(Ordering::Relaxed) / 1024,
            anon_before / 1024,
            anon_peak.load(Ordering::Relaxed) / 1024
        );
    }
    app.cleanup().await;
}

fn cursor(seq: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("a{seq}"))
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Appends `n` entries to the org's chain with correct hashes, in large multi-row inserts.
async fn fill(app: &TestApp, org_id: &str, n: usize) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(app.db.store.url())
        .await
        .unwrap();
    if app.db.store.backend() == Backend::Sqlite {
        sqlx::query("PRAGMA cache_size = -65536")
            .execute(&pool)
            .await
            .unwrap();
    }
    let chain = format!("org:{org_id}");
    let head = sqlx::query("SELECT head_seq, head_hash FROM audit_chains WHERE chain = $1")
        .bind(&chain)
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut seq: i64 = head.get("head_seq");
    let mut prev: String = head.get("head_hash");
    let start_us = time_to_micros(time::OffsetDateTime::now_utc()) - n as i64 * 1_000;
    let actions = AuditAction::ALL;
    let mut done = 0;
    while done < n {
        let count = ROWS_PER_INSERT.min(n - done);
        let mut sql = String::from(
            "INSERT INTO audit_log (id, chain, seq, created_at, org_id, org_handle, actor_id, \
             actor_handle, actor_ip, user_agent, action, target_type, target_id, target_handle, \
             data, request_id, prev_hash, hash) VALUES ",
        );
        let mut rows = Vec::with_capacity(count);
        for i in 0..count {
            let k = done + i;
            seq += 1;
            let row = (
                new_id(),
                seq,
                start_us + k as i64 * 1_000,
                format!("user{}", k % 50),
                actions[k % actions.len()].as_str(),
                format!("target{}", k % 1000),
                format!("{{\"display_name\":{{\"before\":\"a{k}\",\"after\":\"b{k}\"}}}}"),
            );
            let fields = ChainedFields {
                id: &row.0,
                chain: &chain,
                seq: row.1,
                created_at_us: row.2,
                org_id: Some(org_id),
                org_handle: Some("acme"),
                actor_id: Some(&row.3),
                actor_handle: Some(&row.3),
                actor_ip: Some("10.0.0.1"),
                user_agent: Some("bench/1.0"),
                action: row.4,
                target_type: Some("user"),
                target_id: Some(&row.5),
                target_handle: Some(&row.5),
                data: &row.6,
                request_id: None,
            };
            let hash = fields.hash(&prev);
            if i > 0 {
                sql.push(',');
            }
            let b = i * 18;
            sql.push('(');
            for c in 1..=18 {
                if c > 1 {
                    sql.push(',');
                }
                sql.push_str(&format!("${}", b + c));
            }
            sql.push(')');
            rows.push((row, prev.clone(), hash.clone()));
            prev = hash;
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for ((id, seq, at, actor, action, target, data), prev_hash, hash) in &rows {
            q = q
                .bind(id.as_str())
                .bind(chain.as_str())
                .bind(*seq)
                .bind(*at)
                .bind(org_id)
                .bind("acme")
                .bind(actor.as_str())
                .bind(actor.as_str())
                .bind("10.0.0.1")
                .bind("bench/1.0")
                .bind(*action)
                .bind("user")
                .bind(target.as_str())
                .bind(target.as_str())
                .bind(data.as_str())
                .bind(None::<String>)
                .bind(prev_hash.as_str())
                .bind(hash.as_str());
        }
        q.execute(&pool).await.unwrap();
        done += count;
    }
    sqlx::query("UPDATE audit_chains SET head_seq = $1, head_hash = $2 WHERE chain = $3")
        .bind(seq)
        .bind(&prev)
        .bind(&chain)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    pool.close().await;
}
