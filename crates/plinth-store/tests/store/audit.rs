use std::collections::BTreeSet;

use plinth_store::test_support::{Backend, TestDb};
use plinth_store::{AuditQuery, NewAuditEntry, Store, org_chain};
use time::Duration;

use crate::common::{now, raw_pool, setup};

const ACTIONS: [&str; 4] = [
    "org.update",
    "org.member.invite",
    "org.member.update",
    "workspace.create",
];

fn entry(chain: &str, i: usize) -> NewAuditEntry {
    NewAuditEntry {
        chain: chain.to_owned(),
        org_id: Some("o1".into()),
        org_handle: Some("acme".into()),
        actor_id: Some(format!("u{}", i % 2)),
        actor_handle: Some(if i.is_multiple_of(2) { "ann" } else { "bob" }.into()),
        actor_ip: Some("127.0.0.1".into()),
        user_agent: Some("test".into()),
        action: ACTIONS[i % ACTIONS.len()].to_owned(),
        target_type: Some("user".into()),
        target_id: Some(format!("t{}", i % 3)),
        target_handle: Some(format!("target{}", i % 3)),
        data: format!("{{\"i\":{i}}}"),
        request_id: Some(format!("r{i}")),
    }
}

async fn append(store: &Store, chain: &str, n: usize) {
    for i in 0..n {
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(entry(chain, i), now()).await.unwrap();
        tx.commit().await.unwrap();
    }
}

fn query(chain: &str, limit: u32) -> AuditQuery {
    AuditQuery {
        chain: chain.to_owned(),
        limit,
        ..AuditQuery::default()
    }
}

async fn chain_links_and_verifies(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    let empty = store.verify_audit_chain(&chain).await.unwrap();
    assert!(empty.ok && empty.entries == 0 && empty.head.is_none());
    append(store, &chain, 5).await;
    // Another chain does not interfere.
    append(store, &org_chain("o2"), 2).await;
    let verdict = store.verify_audit_chain(&chain).await.unwrap();
    assert!(verdict.ok, "{verdict:?}");
    assert_eq!(verdict.entries, 5);
    let page = store.audit_page(&query(&chain, 100)).await.unwrap();
    let seqs: Vec<i64> = page.items.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [5, 4, 3, 2, 1], "newest first");
    assert_eq!(verdict.head.as_deref(), Some(page.items[0].hash.as_str()));
    for pair in page.items.windows(2) {
        assert_eq!(pair[0].prev_hash, pair[1].hash);
    }
    assert_eq!(page.items[4].prev_hash, plinth_core::GENESIS_HASH);
}

async fn a_dropped_transaction_leaves_no_entry(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    {
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(entry(&chain, 0), now()).await.unwrap();
    }
    assert!(
        store
            .audit_page(&query(&chain, 10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    append(store, &chain, 1).await;
    let page = store.audit_page(&query(&chain, 10)).await.unwrap();
    assert_eq!(
        page.items[0].seq, 1,
        "the rolled-back entry took no position"
    );
    assert!(store.verify_audit_chain(&chain).await.unwrap().ok);
}

/// A transaction dropped without its commit gives SQLite's write lock back at once, not
/// when the next write comes: another process (`plinth admin`) can write meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_transaction_gives_sqlites_write_lock_back_at_once() {
    let fixture = setup(Backend::Sqlite).await;
    let mut tx = fixture.store.begin().await.unwrap();
    tx.append_audit(entry(&org_chain("o1"), 0), now())
        .await
        .unwrap();
    drop(tx);
    // The rollback ran in `drop`.
    assert_write_lock_free(fixture.store.url(), "the dropped transaction gave it back").await;
    fixture.cleanup().await;
}

/// While another process holds SQLite's write lock, a write waits for it without holding
/// up the runtime's thread, and goes through once it is given back. The runtime has ONE
/// thread: the task that gives the lock back runs only if the waiting write lets it.
#[tokio::test(flavor = "current_thread")]
async fn a_write_waits_for_another_processs_lock_without_blocking_the_thread() {
    use sqlx::{Connection, Executor};
    let fixture = setup(Backend::Sqlite).await;
    let store = &fixture.store;
    let mut other = sqlx::AnyConnection::connect(store.url()).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    let chain = org_chain("o1");
    let write = async {
        let mut tx = store.begin().await?;
        tx.append_audit(entry(&chain, 0), now()).await?;
        tx.commit().await
    };
    let give_back = async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        other.execute("COMMIT").await.unwrap();
    };
    let (written, ()) = tokio::join!(write, give_back);
    written.expect("the write went through once the lock was given back");
    assert_eq!(store.audit_head(&chain).await.unwrap(), 1);
    other.close().await.unwrap();
    fixture.cleanup().await;
}

/// Transactions that queue for the writer while one holds it commit in groups
/// (writer.rs): each member still stays or goes alone, and every chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_a_commit_group_each_stay_or_go_alone() {
    let fixture = setup(Backend::Sqlite).await;
    let store = fixture.store.clone();
    let mut first = store.begin().await.unwrap();
    first
        .append_audit(entry(&org_chain("o0"), 0), now())
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 1..=20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(entry(&org_chain(&format!("o{}", i % 4)), i), now())
                .await
                .unwrap();
            // Every fifth gives up: its entry must go, and only its.
            if i % 5 == 0 {
                drop(tx);
                return 0;
            }
            tx.commit().await.unwrap();
            1
        }));
    }
    // The others queue behind the first meanwhile.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    first.commit().await.unwrap();
    let mut kept = 0;
    for task in tasks {
        kept += task.await.unwrap();
    }
    assert_eq!(kept, 16);
    let mut entries = 0;
    for o in 0..4 {
        let chain = org_chain(&format!("o{o}"));
        let verdict = store.verify_audit_chain(&chain).await.unwrap();
        assert!(verdict.ok, "{chain}: {verdict:?}");
        entries += verdict.entries;
    }
    assert_eq!(entries, 17, "the first, and the 16 that committed");
    fixture.cleanup().await;
}

/// A commit left to its group is not lost when the caller stops waiting for it, and no
/// group is left holding SQLite's write lock: the one that ends the group commits it,
/// or a task does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_commit_is_finished_when_its_callers_go_away() {
    let fixture = setup(Backend::Sqlite).await;
    let store = fixture.store.clone();
    let (a, b, c) = (org_chain("a"), org_chain("b"), org_chain("c"));

    // The next caller takes the writer and gives up: its rollback ends the group.
    let mut first = store.begin().await.unwrap();
    first.append_audit(entry(&a, 0), now()).await.unwrap();
    let next = tokio::spawn({
        let store = store.clone();
        async move { store.begin().await.unwrap() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let committing = tokio::spawn(first.commit());
    drop(next.await.unwrap());
    committing.await.unwrap().unwrap();
    assert_eq!(store.audit_head(&a).await.unwrap(), 1);

    // The caller's wait is dropped after its work joined the group: still committed.
    let mut first = store.begin().await.unwrap();
    first.append_audit(entry(&b, 0), now()).await.unwrap();
    let next = tokio::spawn({
        let store = store.clone();
        let c = c.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(entry(&c, 0), now()).await.unwrap();
            tx.commit().await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let mut commit = Box::pin(first.commit());
    tokio::select! {
        biased;
        _ = &mut commit => {}
        () = std::future::ready(()) => {}
    }
    drop(commit);
    next.await.unwrap().unwrap();
    // Whichever way the group ended, it has ended.
    for _ in 0..100 {
        if store.audit_head(&b).await.unwrap() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(store.audit_head(&b).await.unwrap(), 1);
    assert_eq!(store.audit_head(&c).await.unwrap(), 1);
    assert_write_lock_free(store.url(), "no group holds it").await;
    fixture.cleanup().await;
}

/// A commit left to a caller who then gave up before taking the writer: the member
/// commits its group itself. One thread, so the caller is cancelled after the commit
/// counted on it and before it ran.
#[tokio::test(flavor = "current_thread")]
async fn a_group_whose_next_caller_never_comes_is_committed_by_its_member() {
    let fixture = setup(Backend::Sqlite).await;
    let store = fixture.store.clone();
    let chain = org_chain("a");
    let mut first = store.begin().await.unwrap();
    first.append_audit(entry(&chain, 0), now()).await.unwrap();
    let next = tokio::spawn({
        let store = store.clone();
        async move { store.begin().await.map(drop) }
    });
    // The caller is now waiting for the writer.
    tokio::task::yield_now().await;
    let mut commit = Box::pin(first.commit());
    tokio::select! {
        biased;
        _ = &mut commit => panic!("the commit was left to the waiting caller"),
        () = std::future::ready(()) => {}
    }
    next.abort();
    commit.await.expect("the member committed its group");
    assert_eq!(store.audit_head(&chain).await.unwrap(), 1);
    assert_write_lock_free(store.url(), "the group ended").await;
    fixture.cleanup().await;
}

/// Another connection, one that never waits, gets SQLite's write lock at once.
async fn assert_write_lock_free(url: &str, why: &str) {
    use sqlx::{Connection, Executor};
    let mut other = sqlx::AnyConnection::connect(url).await.unwrap();
    other.execute("PRAGMA busy_timeout = 0").await.unwrap();
    if let Err(e) = other.execute("BEGIN IMMEDIATE").await {
        panic!("the write lock is held ({why}): {e}");
    }
    other.execute("ROLLBACK").await.unwrap();
    other.close().await.unwrap();
}

fn len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Waits until the database file grows past `since` bytes: only a checkpoint writes pages
/// into it.
async fn checkpointed(db: &std::path::Path, since: u64) {
    for _ in 0..200 {
        if len(db) > since {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no checkpoint reached the database file in 10 s");
}

/// The writer leaves checkpoints to a thread of its own: what its commits put in the log
/// reaches the database file with no further write, and the log's file is written again
/// from its start instead of growing with every write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_run_beside_the_writer() {
    let fixture = setup(Backend::Sqlite).await;
    let store = &fixture.store;
    let db = plinth_store::sqlite_path(store.url()).unwrap();
    let wal = plinth_store::sibling(&db, "-wal");
    let chain = org_chain("o1");
    let file_before = len(&db);
    append(store, &chain, 300).await;
    let wal_after_first = len(&wal);
    checkpointed(&db, file_before).await;
    let file_before = len(&db);
    append(store, &chain, 300).await;
    let wal_after_second = len(&wal);
    assert!(
        wal_after_second * 2 < wal_after_first * 3,
        "the log grew from {wal_after_first} to {wal_after_second} bytes: not rewritten"
    );
    checkpointed(&db, file_before).await;
    assert!(store.verify_audit_chain(&chain).await.unwrap().ok);
    fixture.cleanup().await;
}

/// Entries appended to one chain in one transaction link to each other, and the head
/// ends at the last.
async fn appends_to_one_chain_in_one_transaction_link(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    append(store, &chain, 1).await;
    let mut tx = store.begin().await.unwrap();
    for i in 1..4 {
        tx.append_audit(entry(&chain, i), now()).await.unwrap();
    }
    tx.commit().await.unwrap();
    append(store, &chain, 1).await;
    assert_eq!(store.audit_head(&chain).await.unwrap(), 5);
    let verdict = store.verify_audit_chain(&chain).await.unwrap();
    assert!(verdict.ok, "{verdict:?}");
    assert_eq!(verdict.entries, 5);
}

/// A commit whose future is dropped after it was sent (a request cancelled at that
/// moment) may or may not have happened; either way the next write finds the connection
/// usable and links to whatever the chain holds.
async fn a_commit_dropped_in_flight_leaves_a_usable_writer(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    append(store, &chain, 1).await;
    let mut tx = store.begin().await.unwrap();
    tx.append_audit(entry(&chain, 1), now()).await.unwrap();
    // Polled once, so the command is on its way, then dropped.
    let _ = tokio::time::timeout(std::time::Duration::ZERO, tx.commit()).await;
    append(store, &chain, 1).await;
    let verdict = store.verify_audit_chain(&chain).await.unwrap();
    assert!(verdict.ok, "{verdict:?}");
    let head = store.audit_head(&chain).await.unwrap();
    assert!(head == 2 || head == 3, "head {head}");
    assert_eq!(verdict.entries, head as u64);
}

/// Entries another connection appends (a `plinth admin` in another process, on SQLite)
/// are linked to: the writer's copy of the chain heads does not outlive them.
async fn appends_through_another_connection_are_linked_to(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    append(store, &chain, 2).await;
    let other = Store::connect(store.url()).await.unwrap();
    append(&other, &chain, 2).await;
    other.close().await;
    append(store, &chain, 1).await;
    let verdict = store.verify_audit_chain(&chain).await.unwrap();
    assert!(verdict.ok, "{verdict:?}");
    assert_eq!(verdict.entries, 5);
    let page = store.audit_page(&query(&chain, 10)).await.unwrap();
    let seqs: Vec<i64> = page.items.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [5, 4, 3, 2, 1]);
}

/// A transaction whose append fails undoes all of it (its other chain's entry too),
/// whether the failure comes at the append or at the commit, and the next write on the
/// same connection starts clean and links right.
async fn a_failed_transaction_undoes_all_of_it_and_the_next_write_works(fixture: &TestDb) {
    let store = &fixture.store;
    let (blocked, other) = (org_chain("o1"), org_chain("o2"));
    append(store, &blocked, 2).await;
    append(store, &other, 1).await;
    // A row in the position the next entry takes, behind the store's back.
    let pool = raw_pool(fixture).await;
    let rogue = "INSERT INTO audit_log (id, chain, seq, created_at, action, data, prev_hash, hash) \
                 VALUES ('rogue', $1, 3, 0, 'x', '{}', 'p', 'h')";
    sqlx::query(rogue)
        .bind(&blocked)
        .execute(&pool)
        .await
        .unwrap();

    let mut tx = store.begin().await.unwrap();
    tx.append_audit(entry(&other, 1), now()).await.unwrap();
    // The entry's insert fails where it runs: at once on SQLite's writer, at the commit on
    // a connection that queues it.
    let outcome = match tx.append_audit(entry(&blocked, 2), now()).await {
        Ok(_) => tx.commit().await,
        Err(e) => {
            drop(tx);
            Err(e)
        }
    };
    outcome.expect_err("the entry's position is taken: the transaction fails");
    assert_eq!(
        store.audit_head(&other).await.unwrap(),
        1,
        "nothing of it stayed"
    );
    assert_eq!(store.audit_head(&blocked).await.unwrap(), 2);

    sqlx::query("DELETE FROM audit_log WHERE id = 'rogue'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    append(store, &other, 1).await;
    append(store, &blocked, 1).await;
    for chain in [&blocked, &other] {
        let verdict = store.verify_audit_chain(chain).await.unwrap();
        assert!(verdict.ok, "{chain}: {verdict:?}");
    }
    assert_eq!(store.audit_head(&other).await.unwrap(), 2);
    assert_eq!(store.audit_head(&blocked).await.unwrap(), 3);
}

/// Each tampering by SQL is reported at the right place.
async fn tampering_is_detected(fixture: &TestDb) {
    let store = &fixture.store;
    let pool = raw_pool(fixture).await;
    let cases: [(&str, &str, i64); 5] = [
        (
            "edit",
            "UPDATE audit_log SET data = '{\"i\":99}' WHERE chain = $1 AND seq = 3",
            3,
        ),
        (
            "actor",
            "UPDATE audit_log SET actor_handle = 'mallory' WHERE chain = $1 AND seq = 2",
            2,
        ),
        (
            "delete",
            "DELETE FROM audit_log WHERE chain = $1 AND seq = 4",
            4,
        ),
        (
            "delete newest",
            "DELETE FROM audit_log WHERE chain = $1 AND seq = 6",
            6,
        ),
        // Swapping two entries' times and positions: their hashes no longer match.
        (
            "reorder",
            "UPDATE audit_log SET seq = CASE seq WHEN 2 THEN 1002 ELSE 1003 END \
             WHERE chain = $1 AND seq IN (2, 3)",
            0,
        ),
    ];
    for (i, (name, sql, broken_at)) in cases.into_iter().enumerate() {
        let chain = org_chain(&format!("tamper{i}"));
        append(store, &chain, 6).await;
        assert!(store.verify_audit_chain(&chain).await.unwrap().ok);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&chain)
            .execute(&pool)
            .await
            .unwrap();
        if name == "reorder" {
            for (from, to) in [(1002, 3), (1003, 2)] {
                sqlx::query("UPDATE audit_log SET seq = $1 WHERE chain = $2 AND seq = $3")
                    .bind(to)
                    .bind(&chain)
                    .bind(from)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
        let verdict = store.verify_audit_chain(&chain).await.unwrap();
        assert!(!verdict.ok, "{name}: {verdict:?}");
        let broken = verdict.first_broken.expect("a broken link");
        let expected = if name == "reorder" { 2 } else { broken_at };
        assert_eq!(broken.seq, expected, "{name}: {broken:?}");
    }
    pool.close().await;
}

/// Every limit from 1 to 7 walks a filtered log once, newest first, nothing twice.
async fn filtered_paging_yields_each_entry_once(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    append(store, &chain, 30).await;
    let filters = [
        (
            Some(vec![
                "org.member.invite".to_owned(),
                "org.member.update".to_owned(),
            ]),
            None,
            None,
        ),
        (None, Some("bob"), None),
        (None, None, Some("target1")),
        (None, None, Some("t2")),
        (Some(vec!["org.update".to_owned()]), Some("ann"), None),
    ];
    for (actions, actor, target) in filters {
        let base = AuditQuery {
            actions: actions.clone(),
            actor_handle: actor.map(str::to_owned),
            target: target.map(str::to_owned),
            ..query(&chain, 100)
        };
        let all: Vec<i64> = store
            .audit_page(&base)
            .await
            .unwrap()
            .items
            .iter()
            .map(|e| e.seq)
            .collect();
        assert!(!all.is_empty());
        for e in store.audit_page(&base).await.unwrap().items {
            if let Some(actions) = &actions {
                assert!(actions.contains(&e.action));
            }
            if let Some(actor) = actor {
                assert_eq!(e.actor_handle.as_deref(), Some(actor));
            }
            if let Some(target) = target {
                assert!(
                    e.target_handle.as_deref() == Some(target)
                        || e.target_id.as_deref() == Some(target)
                );
            }
        }
        for limit in 1..=7u32 {
            let mut seen = Vec::new();
            let mut before = None;
            loop {
                let page = store
                    .audit_page(&AuditQuery {
                        before_seq: before,
                        limit,
                        ..base.clone()
                    })
                    .await
                    .unwrap();
                assert!(page.items.len() <= limit as usize);
                seen.extend(page.items.iter().map(|e| e.seq));
                match page.next_before {
                    Some(next) => before = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, all, "limit {limit}");
        }
    }
    let none = AuditQuery {
        actions: Some(Vec::new()),
        ..query(&chain, 10)
    };
    assert!(store.audit_page(&none).await.unwrap().items.is_empty());
}

async fn time_range_filters(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    let t0 = now() - Duration::hours(3);
    for (i, at) in [t0, t0 + Duration::hours(1), t0 + Duration::hours(2)]
        .into_iter()
        .enumerate()
    {
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(entry(&chain, i), at).await.unwrap();
        tx.commit().await.unwrap();
    }
    let us = |t: time::OffsetDateTime| plinth_store::time_to_micros(t);
    let q = AuditQuery {
        since_us: Some(us(t0 + Duration::hours(1))),
        until_us: Some(us(t0 + Duration::hours(2))),
        ..query(&chain, 10)
    };
    let seqs: Vec<i64> = store
        .audit_page(&q)
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [2], "since is inclusive, until exclusive");
}

/// Retention removes old entries and moves the checkpoint: verify stays green, and
/// tampering after the checkpoint is still caught.
async fn retention_keeps_the_chain_verifiable(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    let old = now() - Duration::days(40);
    for i in 0..4 {
        let mut tx = store.begin().await.unwrap();
        tx.append_audit(entry(&chain, i), old).await.unwrap();
        tx.commit().await.unwrap();
    }
    append(store, &chain, 3).await;
    let removed = store
        .purge_audit_before(now() - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(removed, 4);
    let verdict = store.verify_audit_chain(&chain).await.unwrap();
    assert!(verdict.ok, "{verdict:?}");
    assert_eq!(verdict.entries, 3);
    let seqs: Vec<i64> = store
        .audit_page(&query(&chain, 10))
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [7, 6, 5]);
    // Appending continues the chain after a purge.
    append(store, &chain, 1).await;
    assert!(store.verify_audit_chain(&chain).await.unwrap().ok);
    let pool = raw_pool(fixture).await;
    sqlx::query("DELETE FROM audit_log WHERE chain = $1 AND seq = 5")
        .bind(&chain)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let verdict = store.verify_audit_chain(&chain).await.unwrap();
    assert_eq!(verdict.first_broken.map(|b| b.seq), Some(5));
}

/// Someone who can write the database deletes the newest entries and moves the head
/// back: the chain alone still verifies, a head saved earlier shows the cut.
async fn truncation_is_detected_against_a_saved_head(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    append(store, &chain, 6).await;
    let saved = store.verify_audit_chain(&chain).await.unwrap();
    let saved_head = saved.head.clone().unwrap();
    let at_four = store.audit_page(&query(&chain, 10)).await.unwrap().items;
    let head_four = at_four.iter().find(|e| e.seq == 4).unwrap().hash.clone();
    // Later appends keep both saved heads in the chain.
    append(store, &chain, 2).await;
    for (head, seq) in [(&saved_head, 6), (&head_four, 4)] {
        let verdict = store
            .verify_audit_chain_from(&chain, Some(head))
            .await
            .unwrap();
        assert!(verdict.ok, "{verdict:?}");
        assert_eq!(verdict.known_head_seq, Some(Some(seq)));
    }

    let pool = raw_pool(fixture).await;
    sqlx::query("DELETE FROM audit_log WHERE chain = $1 AND seq > 4")
        .bind(&chain)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_chains SET head_seq = 4, head_hash = $2 WHERE chain = $1")
        .bind(&chain)
        .bind(&head_four)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let alone = store.verify_audit_chain(&chain).await.unwrap();
    assert!(
        alone.ok,
        "a consistent truncation passes on its own: {alone:?}"
    );
    assert_eq!(alone.entries, 4);
    let against = store
        .verify_audit_chain_from(&chain, Some(&saved_head))
        .await
        .unwrap();
    assert!(!against.ok, "{against:?}");
    assert_eq!(against.known_head_seq, Some(None));
    assert!(
        against
            .first_broken
            .unwrap()
            .reason
            .contains("no longer in the chain")
    );
}

/// Concurrent writers queue on the chain head instead of forking the chain.
async fn concurrent_appends_never_fork(fixture: &TestDb) {
    let store = fixture.store.clone();
    let chain = org_chain("busy");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        let chain = chain.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(entry(&chain, i), now()).await.unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let page = store.audit_page(&query(&chain, 100)).await.unwrap();
    let seqs: BTreeSet<i64> = page.items.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=20).collect());
    assert!(store.verify_audit_chain(&chain).await.unwrap().ok);
}

async fn counts_entries_for_usage(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    append(store, &chain, 3).await;
    let t = plinth_store::time_to_micros(now());
    assert_eq!(
        store
            .count_audit_entries(&chain, t - 60_000_000, t + 1)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .count_audit_entries(&chain, t + 1, t + 2)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.audit_chains().await.unwrap(), vec![chain]);
}

/// The packed read (one JSON array a row, for the export) gives back exactly what the
/// plain read does, NULLs, quotes, newlines and non-ASCII included.
async fn packed_pages_equal_plain_pages(fixture: &TestDb) {
    let store = &fixture.store;
    let chain = org_chain("o1");
    append(store, &chain, 5).await;
    let mut odd = entry(&chain, 5);
    odd.actor_handle = None;
    odd.user_agent = Some("Mozilla/5.0 \"quoted\", comma\nnew line \\ back ☃ 日本".into());
    odd.data = r#"{"display_name":{"before":"a\"b","after":"é\n"}}"#.into();
    odd.request_id = None;
    let mut tx = store.begin().await.unwrap();
    tx.append_audit(odd, now()).await.unwrap();
    tx.commit().await.unwrap();
    for q in [
        query(&chain, 100),
        query(&chain, 2),
        AuditQuery {
            actions: Some(vec!["org.update".into(), "workspace.create".into()]),
            target: Some("target1".into()),
            ..query(&chain, 100)
        },
    ] {
        let plain = store.audit_page(&q).await.unwrap();
        let packed = store.audit_page_packed(&q).await.unwrap();
        assert_eq!(plain.items, packed.items);
        assert_eq!(plain.next_before, packed.next_before);
    }
}

plinth_store::on_both_backends!(setup =>
    truncation_is_detected_against_a_saved_head,
    packed_pages_equal_plain_pages,
    chain_links_and_verifies,
    a_dropped_transaction_leaves_no_entry,
    appends_through_another_connection_are_linked_to,
    appends_to_one_chain_in_one_transaction_link,
    a_commit_dropped_in_flight_leaves_a_usable_writer,
    a_failed_transaction_undoes_all_of_it_and_the_next_write_works,
    tampering_is_detected,
    filtered_paging_yields_each_entry_once,
    time_range_filters,
    retention_keeps_the_chain_verifiable,
    concurrent_appends_never_fork,
    counts_entries_for_usage,
);
