use plinth_core::{Email, Handle};
use plinth_store::test_support::TestDb;
use plinth_store::{ConflictOn, StoreError, UserUpdate};
use time::Duration;

use crate::common::{add_user, assert_same_user, new_user, now, raw_pool, setup};

async fn insert_then_read_by_id_and_login(fixture: &TestDb) {
    let store = &fixture.store;
    let at = now();
    let mut tx = store.begin().await.unwrap();
    let user = tx
        .insert_user(new_user("Alice-B", " Alice.B@Example.COM "), at)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(user.handle.as_str(), "alice-b");
    assert_eq!(user.email.as_str(), "alice.b@example.com");
    assert_eq!(user.avatar_url, None);
    assert_eq!(user.token_min_issued_at, 0);
    assert_eq!((user.created_at, user.updated_at), (at, at));
    assert!(uuid::Uuid::parse_str(&user.id).is_ok(), "id {}", user.id);

    let by_id = store.user_by_id(&user.id).await.unwrap().expect("by id");
    assert_same_user(&by_id, &user);

    for login in [
        "alice-b",
        "ALICE-B",
        "Alice-b",
        "  alice-b\t",
        "alice.b@example.com",
        "Alice.B@EXAMPLE.com",
        " alice.b@example.com ",
    ] {
        let found = store
            .user_by_login(login)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("login {login:?} finds the user"));
        assert_same_user(&found, &user);
    }
    for login in ["alice", "alice-b@example.com", "bob@example.com", ""] {
        assert!(
            store.user_by_login(login).await.unwrap().is_none(),
            "login {login:?} finds nobody"
        );
    }
    assert!(store.user_by_id("no-such-id").await.unwrap().is_none());
}

async fn duplicate_handle_or_email_conflicts(fixture: &TestDb) {
    let store = &fixture.store;
    let alice = add_user(store, "alice").await;

    // Same handle (in another case), another email.
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_user(new_user("ALICE", "other@example.com"), now())
        .await
        .expect_err("duplicate handle");
    assert!(
        matches!(err, StoreError::Conflict(ConflictOn::Handle)),
        "{err:?}"
    );
    drop(tx);

    // Same handle and same email: the handle is reported.
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_user(new_user("alice", "alice@example.com"), now())
        .await
        .expect_err("duplicate handle and email");
    assert!(
        matches!(err, StoreError::Conflict(ConflictOn::Handle)),
        "{err:?}"
    );
    drop(tx);

    // Another handle, same email (in another case).
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_user(new_user("alice2", "ALICE@example.com"), now())
        .await
        .expect_err("duplicate email");
    assert!(
        matches!(err, StoreError::Conflict(ConflictOn::Email)),
        "{err:?}"
    );
    drop(tx);
    // The failed insert claimed no handle.
    assert!(
        !store
            .handle_taken(&Handle::parse("alice2").unwrap(), now())
            .await
            .unwrap()
    );

    // A handle held by an organization (one namespace) is taken for users too.
    let pool = raw_pool(fixture).await;
    sqlx::query(
        "INSERT INTO handles (handle, owner_kind, owner_id) VALUES ('acme', 'org', 'org-1')",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_user(new_user("acme", "acme@example.com"), now())
        .await
        .expect_err("handle of an org");
    assert!(
        matches!(err, StoreError::Conflict(ConflictOn::Handle)),
        "{err:?}"
    );
    drop(tx);

    // Nothing of the failed attempts is left; the store still works.
    let found = store
        .user_by_login("alice@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, alice.id);
    assert!(
        store
            .user_by_login("other@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.user_by_login("acme").await.unwrap().is_none());
    add_user(store, "bob").await;
}

async fn dropped_transaction_leaves_nothing(fixture: &TestDb) {
    let store = &fixture.store;
    let mut tx = store.begin().await.unwrap();
    let user = tx
        .insert_user(new_user("carol", "carol@example.com"), now())
        .await
        .unwrap();
    // Seen inside the transaction…
    assert!(tx.user_for_update(&user.id).await.unwrap().is_some());
    drop(tx);

    // …and nowhere after it is dropped.
    assert!(store.user_by_id(&user.id).await.unwrap().is_none());
    assert!(store.user_by_login("carol").await.unwrap().is_none());
    assert!(
        store
            .user_by_login("carol@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .handle_taken(&Handle::parse("carol").unwrap(), now())
            .await
            .unwrap()
    );

    // The same handle and email can be used afterwards, and the writer lock is free.
    let carol = add_user(store, "carol").await;
    assert_ne!(carol.id, user.id);
    assert!(store.user_by_login("carol").await.unwrap().is_some());
}

async fn update_user_changes_only_what_is_given(fixture: &TestDb) {
    let store = &fixture.store;
    let dave = add_user(store, "dave").await;
    let later = dave.created_at + Duration::minutes(5);

    // Display name and avatar.
    let mut tx = store.begin().await.unwrap();
    let updated = tx
        .update_user(
            &dave.id,
            UserUpdate {
                display_name: Some("Dave D.".to_owned()),
                avatar_url: Some(Some("https://example.com/dave.png".to_owned())),
                email: None,
            },
            later,
        )
        .await
        .unwrap()
        .expect("dave exists");
    tx.commit().await.unwrap();
    assert_eq!(updated.display_name, "Dave D.");
    assert_eq!(
        updated.avatar_url.as_deref(),
        Some("https://example.com/dave.png")
    );
    assert_eq!(updated.email, dave.email);
    assert_eq!(updated.created_at, dave.created_at);
    assert_eq!(updated.updated_at, later);
    let read = store.user_by_id(&dave.id).await.unwrap().unwrap();
    assert_same_user(&read, &updated);

    // An empty update changes nothing but updated_at.
    let even_later = later + Duration::minutes(5);
    let mut tx = store.begin().await.unwrap();
    let same = tx
        .update_user(&dave.id, UserUpdate::default(), even_later)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(same.display_name, "Dave D.");
    assert_eq!(same.avatar_url, updated.avatar_url);
    assert_eq!(same.updated_at, even_later);

    // Some(None) clears the avatar; the display name stays.
    let mut tx = store.begin().await.unwrap();
    let cleared = tx
        .update_user(
            &dave.id,
            UserUpdate {
                avatar_url: Some(None),
                ..UserUpdate::default()
            },
            even_later,
        )
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(cleared.avatar_url, None);
    assert_eq!(cleared.display_name, "Dave D.");
    let read = store.user_by_id(&dave.id).await.unwrap().unwrap();
    assert_same_user(&read, &cleared);

    // Email: the new one logs in, the old one no longer does.
    let mut tx = store.begin().await.unwrap();
    let moved = tx
        .update_user(
            &dave.id,
            UserUpdate {
                email: Some(Email::parse("Dave@New.example").unwrap()),
                ..UserUpdate::default()
            },
            even_later,
        )
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(moved.email.as_str(), "dave@new.example");
    let found = store
        .user_by_login("DAVE@new.example")
        .await
        .unwrap()
        .unwrap();
    assert_same_user(&found, &moved);
    assert!(
        store
            .user_by_login("dave@example.com")
            .await
            .unwrap()
            .is_none()
    );

    // Taking someone else's email is a conflict, and changes nothing.
    let erin = add_user(store, "erin").await;
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .update_user(
            &erin.id,
            UserUpdate {
                display_name: Some("Erin".to_owned()),
                email: Some(Email::parse("dave@new.example").unwrap()),
                ..UserUpdate::default()
            },
            even_later,
        )
        .await
        .expect_err("email of another user");
    assert!(
        matches!(err, StoreError::Conflict(ConflictOn::Email)),
        "{err:?}"
    );
    drop(tx);
    let read = store.user_by_id(&erin.id).await.unwrap().unwrap();
    assert_same_user(&read, &erin);

    // An unknown id is None.
    let mut tx = store.begin().await.unwrap();
    let none = tx
        .update_user("no-such-id", UserUpdate::default(), even_later)
        .await
        .unwrap();
    assert!(none.is_none());
}

async fn token_min_issued_at_is_set(fixture: &TestDb) {
    let store = &fixture.store;
    let frank = add_user(store, "frank").await;
    let grace = add_user(store, "grace").await;
    let at = 1_700_000_000_123_456;

    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.set_user_token_min_issued_at(&frank.id, at)
            .await
            .unwrap()
    );
    assert!(
        !tx.set_user_token_min_issued_at("no-such-id", at)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    let read = store.user_by_id(&frank.id).await.unwrap().unwrap();
    assert_eq!(read.token_min_issued_at, at);
    // Nothing else moved, and other users are untouched.
    assert_eq!(read.updated_at, frank.updated_at);
    let other = store.user_by_id(&grace.id).await.unwrap().unwrap();
    assert_eq!(other.token_min_issued_at, 0);

    // Rolled back: unchanged.
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.set_user_token_min_issued_at(&frank.id, at + 1)
            .await
            .unwrap()
    );
    drop(tx);
    let read = store.user_by_id(&frank.id).await.unwrap().unwrap();
    assert_eq!(read.token_min_issued_at, at);
}

async fn handle_taken_sees_users(fixture: &TestDb) {
    let store = &fixture.store;
    let heidi = Handle::parse("heidi").unwrap();
    assert!(!store.handle_taken(&heidi, now()).await.unwrap());
    add_user(store, "heidi").await;
    assert!(store.handle_taken(&heidi, now()).await.unwrap());
    assert!(
        store
            .handle_taken(&Handle::parse("HEIDI").unwrap(), now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .handle_taken(&Handle::parse("heidi2").unwrap(), now())
            .await
            .unwrap()
    );
}

async fn login_by_handle_folds_ascii_only(fixture: &TestDb) {
    let store = &fixture.store;
    let k = add_user(store, "k").await;
    let found = store
        .user_by_login(" K ")
        .await
        .unwrap()
        .expect("K folds to k");
    assert_eq!(found.id, k.id);
    // U+212A KELVIN SIGN lowercases to an ASCII `k` in Unicode, but is not a handle.
    assert!(store.user_by_login("\u{212A}").await.unwrap().is_none());
}

plinth_store::on_both_backends!(setup =>
    insert_then_read_by_id_and_login,
    duplicate_handle_or_email_conflicts,
    dropped_transaction_leaves_nothing,
    update_user_changes_only_what_is_given,
    token_min_issued_at_is_set,
    handle_taken_sees_users,
    login_by_handle_folds_ascii_only,
);
