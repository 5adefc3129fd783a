//! The invalidation log (DESIGN.md §5): rows written inside write transactions, read by
//! a feed that catches up whatever wake-ups it missed, and no NOTIFY from a transaction.

use plinth_store::test_support::{Backend, TestDb};
use plinth_store::{InvalidationFeed, Store};

use crate::common::setup;

async fn log(store: &Store, origin: &str, payloads: &[String]) {
    let mut tx = store.begin().await.unwrap();
    for payload in payloads {
        tx.log_invalidation(origin, payload).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn payloads(rows: &[plinth_store::LoggedInvalidation]) -> Vec<&str> {
    rows.iter().map(|r| r.payload.as_str()).collect()
}

/// A feed started now reads only what is logged after; rows appear when their
/// transaction commits and never when it rolls back; nothing is read twice; a reader
/// that was not told about any of it (no wake-up at all) still finds every row.
async fn a_feed_reads_committed_rows_once_in_order(fixture: &TestDb) {
    let store = &fixture.store;
    log(store, "earlier", &["before:1".to_owned()]).await;
    let mut feed = InvalidationFeed::start(store).await.unwrap();
    let start = feed.position();
    assert!(start > 0);
    assert!(feed.read(store).await.unwrap().rows.is_empty());

    let mut open = store.begin().await.unwrap();
    open.log_invalidation("a", "org:1").await.unwrap();
    // Not committed yet: another connection sees nothing.
    let read = feed.read(store).await.unwrap();
    assert!(read.rows.is_empty() && !read.lost);
    open.commit().await.unwrap();

    let mut dropped = store.begin().await.unwrap();
    dropped.log_invalidation("a", "org:never").await.unwrap();
    // Sent with the next statement (on PostgreSQL, taking an id), then rolled back.
    dropped.org_for_update("none").await.unwrap();
    drop(dropped);
    log(store, "b", &["user:2".to_owned(), "token:3".to_owned()]).await;

    let read = feed.read(store).await.unwrap();
    assert!(!read.lost);
    assert_eq!(payloads(&read.rows), ["org:1", "user:2", "token:3"]);
    assert_eq!(read.rows[0].origin, "a");
    assert_eq!(read.rows[1].origin, "b");
    assert!(read.rows.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(feed.position(), read.rows[2].id);
    assert!(feed.read(store).await.unwrap().rows.is_empty(), "read once");

    // More than one page of rows (a replica that was busy, or asleep for a while).
    // And more rows in one transaction than one command carries (deferred.rs).
    let many: Vec<String> = (0..4_000).map(|i| format!("token:{i}")).collect();
    log(store, "c", &many).await;
    let read = feed.read(store).await.unwrap();
    assert!(!read.lost);
    assert_eq!(read.rows.len(), 4_000);
    assert_eq!(
        payloads(&read.rows),
        many.iter().map(String::as_str).collect::<Vec<_>>()
    );
    // PostgreSQL's sequence gave the rolled-back row an id; the feed waits a while for
    // it, in case it was a transaction still open. SQLite reuses the id.
    let rolled_back = match fixture.store.backend() {
        Backend::Sqlite => 0,
        Backend::Postgres => 1,
    };
    assert_eq!(feed.gaps(), rolled_back);
}

/// Pruning keeps the row at its bound, so a reader at that row reads on normally; a
/// reader behind the bound is told it lost rows (and must reload), then reads on.
async fn a_feed_pruned_past_is_told_so(fixture: &TestDb) {
    let store = &fixture.store;
    log(store, "a", &["user:0".to_owned()]).await;
    let mut behind = InvalidationFeed::start(store).await.unwrap();
    let rows: Vec<String> = (1..=5).map(|i| format!("user:{i}")).collect();
    log(store, "a", &rows).await;
    let mut current = InvalidationFeed::start(store).await.unwrap();
    let head = current.position();

    assert_eq!(store.prune_invalidation_log(head).await.unwrap(), 5);
    let (newest, oldest) = store.invalidation_log_bounds().await.unwrap();
    assert_eq!((newest, oldest), (head, head), "the bound row itself stays");

    log(store, "a", &["user:6".to_owned()]).await;
    let read = current.read(store).await.unwrap();
    assert!(!read.lost);
    assert_eq!(payloads(&read.rows), ["user:6"]);

    let read = behind.read(store).await.unwrap();
    assert!(
        read.lost,
        "user:1..4 were pruned before this reader saw them"
    );
    assert!(read.rows.is_empty());
    assert_eq!(behind.position(), current.position());
    log(store, "a", &["user:7".to_owned()]).await;
    let read = behind.read(store).await.unwrap();
    assert!(!read.lost);
    assert_eq!(payloads(&read.rows), ["user:7"]);
}

/// A database restored from an older backup has a log behind the reader: it must reload.
async fn a_log_behind_the_feed_is_lost(fixture: &TestDb) {
    let store = &fixture.store;
    log(store, "a", &["user:1".to_owned()]).await;
    let mut feed = InvalidationFeed::start(store).await.unwrap();
    fixture.execute("DELETE FROM invalidation_log", &[]).await;
    let read = feed.read(store).await.unwrap();
    assert!(read.lost);
    assert_eq!(feed.position(), 0);
}

plinth_store::on_both_backends!(setup =>
    a_feed_reads_committed_rows_once_in_order,
    a_feed_pruned_past_is_told_so,
    a_log_behind_the_feed_is_lost,
);

/// PostgreSQL hands out ids at insert: a transaction can commit id N after id N+1 is
/// visible. The feed keeps waiting for N and reads it when it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_lower_id_committed_later_is_not_missed() {
    let fixture = setup(Backend::Postgres).await;
    let store = &fixture.store;
    let mut feed = InvalidationFeed::start(store).await.unwrap();

    let mut slow = store.begin().await.unwrap();
    slow.log_invalidation("a", "org:slow").await.unwrap();
    // Its insert goes out with the transaction's next statement, which takes its id now.
    slow.org_for_update("none").await.unwrap();
    log(store, "b", &["org:fast".to_owned()]).await;
    let read = feed.read(store).await.unwrap();
    assert_eq!(payloads(&read.rows), ["org:fast"]);
    assert_eq!(feed.gaps(), 1, "the slow transaction's id is awaited");

    slow.commit().await.unwrap();
    let read = feed.read(store).await.unwrap();
    assert_eq!(payloads(&read.rows), ["org:slow"]);
    assert_eq!(feed.gaps(), 0);
    assert!(feed.read(store).await.unwrap().rows.is_empty());

    // A reader starting while such a transaction is open waits for it too: the names it
    // loads next cannot have seen that change.
    let mut open = store.begin().await.unwrap();
    open.log_invalidation("a", "org:open").await.unwrap();
    log(store, "b", &["org:after".to_owned()]).await;
    let mut late = InvalidationFeed::start(store).await.unwrap();
    open.commit().await.unwrap();
    let read = late.read(store).await.unwrap();
    assert_eq!(payloads(&read.rows), ["org:open"]);
    fixture.cleanup().await;
}

/// A write transaction issues no NOTIFY (PostgreSQL would make its commit wait for the
/// database-wide notification lock): a listener's first notification after a committed
/// transaction that logged invalidations is the one sent afterwards, outside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_write_transaction_sends_no_notification() {
    let fixture = setup(Backend::Postgres).await;
    let store = &fixture.store;
    let mut listener = store
        .listen()
        .await
        .unwrap()
        .expect("a listener on PostgreSQL");

    let mut tx = store.begin().await.unwrap();
    tx.log_invalidation("a", "org:1").await.unwrap();
    tx.log_invalidation("a", "user:2").await.unwrap();
    tx.commit().await.unwrap();
    store.wake_replicas("after-commit").await.unwrap();

    let first = listener.recv().await.unwrap();
    assert_eq!(first.payload(), "after-commit");
    fixture.cleanup().await;
}

#[tokio::test]
async fn sqlite_has_no_listener_and_wakes_nobody() {
    let fixture = setup(Backend::Sqlite).await;
    assert!(fixture.store.listen().await.unwrap().is_none());
    fixture.store.wake_replicas("x").await.unwrap();
    fixture.cleanup().await;
}
