use plinth_core::{Email, Handle, TokenKind, TokenSecret};
use plinth_store::test_support::{Backend, TestDb};
use plinth_store::{
    NewToken, NewUser, Store, TokenRecord, UserRecord, micros_to_time, time_to_micros,
};
use time::OffsetDateTime;

pub async fn setup(backend: Backend) -> TestDb {
    TestDb::new(backend).await
}

/// Now, at the microsecond precision the database keeps.
pub fn now() -> OffsetDateTime {
    micros_to_time(time_to_micros(OffsetDateTime::now_utc()))
}

pub fn new_user(handle: &str, email: &str) -> NewUser {
    NewUser {
        handle: Handle::parse(handle).expect("a valid handle"),
        email: Email::parse(email).expect("a valid email"),
        display_name: format!("User {handle}"),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$salt-{handle}$hash"),
    }
}

/// Creates and commits a user `{handle}` with email `{handle}@example.com`.
pub async fn add_user(store: &Store, handle: &str) -> UserRecord {
    let mut tx = store.begin().await.expect("begin");
    let user = tx
        .insert_user(new_user(handle, &format!("{handle}@example.com")), now())
        .await
        .expect("insert user");
    tx.commit().await.expect("commit");
    user
}

pub fn new_token(user_id: &str, kind: TokenKind, title: Option<&str>) -> (TokenSecret, NewToken) {
    let secret = TokenSecret::generate(kind);
    let new = NewToken {
        user_id: user_id.to_owned(),
        kind,
        hash: secret.hash(),
        last4: secret.last4(),
        title: title.map(str::to_owned),
        description: None,
        expires_at: None,
        authenticated_at: 0,
        origin: plinth_store::TokenOrigin::default(),
    };
    (secret, new)
}

/// Creates and commits a token, issued at `at`.
pub async fn add_token(
    store: &Store,
    user_id: &str,
    kind: TokenKind,
    title: Option<&str>,
    at: OffsetDateTime,
) -> (TokenSecret, TokenRecord) {
    let (secret, new) = new_token(user_id, kind, title);
    let mut tx = store.begin().await.expect("begin");
    let token = tx.insert_token(new, at).await.expect("insert token");
    tx.commit().await.expect("commit");
    (secret, token)
}

pub fn assert_same_user(got: &UserRecord, want: &UserRecord) {
    assert_eq!(got.id, want.id);
    assert_eq!(got.handle, want.handle);
    assert_eq!(got.email, want.email);
    assert_eq!(got.display_name, want.display_name);
    assert_eq!(got.avatar_url, want.avatar_url);
    assert_eq!(got.password_hash, want.password_hash);
    assert_eq!(got.token_min_issued_at, want.token_min_issued_at);
    assert_eq!(got.created_at, want.created_at);
    assert_eq!(got.updated_at, want.updated_at);
}

pub fn assert_same_token(got: &TokenRecord, want: &TokenRecord) {
    assert_eq!(got.id, want.id);
    assert_eq!(got.user_id, want.user_id);
    assert_eq!(got.kind, want.kind);
    assert_eq!(got.title, want.title);
    assert_eq!(got.description, want.description);
    assert_eq!(got.status, want.status);
    assert_eq!(got.last4, want.last4);
    assert_eq!(got.created_at, want.created_at);
    assert_eq!(got.authenticated_at, want.authenticated_at);
    assert_eq!(got.expires_at, want.expires_at);
    assert_eq!(got.last_used_at, want.last_used_at);
    assert_eq!(got.revoked_at, want.revoked_at);
    assert_eq!(got.origin, want.origin);
}

/// A second pool on the fixture's database, for SQL the store does not expose.
pub async fn raw_pool(fixture: &TestDb) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(fixture.store.url())
        .await
        .expect("a second connection to the test database")
}
