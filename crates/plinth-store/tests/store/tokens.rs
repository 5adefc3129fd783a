use std::collections::HashSet;

use plinth_core::{TokenHash, TokenKind, TokenSecret};
use plinth_store::test_support::{Backend, TestDb};
use plinth_store::{ConflictOn, NewToken, StoreError, TokenStatus, TokenUpdate};
use time::Duration;

use crate::common::{add_token, add_user, assert_same_token, new_token, now, raw_pool, setup};

async fn insert_then_find_by_hash(fixture: &TestDb) {
    let store = &fixture.store;
    let ivan = add_user(store, "ivan").await;
    let at = now();

    let secret = TokenSecret::generate(TokenKind::User);
    let expires = at + Duration::days(30);
    let mut tx = store.begin().await.unwrap();
    let token = tx
        .insert_token(
            NewToken {
                user_id: ivan.id.clone(),
                kind: TokenKind::User,
                hash: secret.hash(),
                last4: secret.last4(),
                title: Some("CI".to_owned()),
                description: Some("deploys from CI".to_owned()),
                expires_at: Some(expires),
                // Inherited from an older login session: not the issue time.
                authenticated_at: plinth_store::time_to_micros(at) - 5_000_000,
                origin: plinth_store::TokenOrigin {
                    ip: Some("203.0.113.7".to_owned()),
                    client: None,
                    user_agent: Some("curl/8".to_owned()),
                },
            },
            at,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(token.kind, TokenKind::User);
    assert_eq!(token.status, TokenStatus::Active);
    assert_eq!(token.last4, secret.last4());
    assert_eq!(token.created_at, at);
    assert_eq!(
        token.authenticated_at,
        plinth_store::time_to_micros(at) - 5_000_000
    );
    assert_eq!(token.expires_at, Some(expires));
    assert_eq!((token.last_used_at, token.revoked_at), (None, None));

    let found = store.token_by_hash(&secret.hash()).await.unwrap().unwrap();
    assert_same_token(&found, &token);
    let by_id = store
        .user_token(&ivan.id, &token.id)
        .await
        .unwrap()
        .unwrap();
    assert_same_token(&by_id, &token);

    // A temporary token, without title or expiry.
    let (temp_secret, temp) = add_token(store, &ivan.id, TokenKind::Temporary, None, at).await;
    let found = store
        .token_by_hash(&temp_secret.hash())
        .await
        .unwrap()
        .unwrap();
    assert_same_token(&found, &temp);
    assert_eq!(found.kind, TokenKind::Temporary);
    assert_eq!((found.title, found.expires_at), (None, None));
    // user_token is for user tokens only.
    assert!(
        store
            .user_token(&ivan.id, &temp.id)
            .await
            .unwrap()
            .is_none()
    );

    // Unknown hashes find nothing.
    assert!(
        store
            .token_by_hash(&TokenHash([0; 32]))
            .await
            .unwrap()
            .is_none()
    );
    let unseen = TokenSecret::generate(TokenKind::User);
    assert!(store.token_by_hash(&unseen.hash()).await.unwrap().is_none());

    // The same hash twice is a conflict on neither handle nor email.
    let (_, mut again) = new_token(&ivan.id, TokenKind::User, Some("again"));
    again.hash = secret.hash();
    let mut tx = store.begin().await.unwrap();
    let err = tx
        .insert_token(again, at)
        .await
        .expect_err("duplicate hash");
    assert!(
        matches!(err, StoreError::Conflict(ConflictOn::Other)),
        "{err:?}"
    );
}

async fn list_user_tokens_pages_newest_first(fixture: &TestDb) {
    let store = &fixture.store;
    let judy = add_user(store, "judy").await;
    let mallory = add_user(store, "mallory").await;
    let base = now() - Duration::hours(1);

    // Interleave what must not be listed with what must.
    let mut live = Vec::new();
    let mut at = base;
    let mut tick = || {
        at += Duration::seconds(1);
        at
    };
    let (_, temporary) = add_token(store, &judy.id, TokenKind::Temporary, None, tick()).await;
    for i in 0..7 {
        let title = format!("token {i}");
        let (_, token) = add_token(store, &judy.id, TokenKind::User, Some(&title), tick()).await;
        live.push(token);
        if i == 2 {
            let (_, revoked) =
                add_token(store, &judy.id, TokenKind::User, Some("revoked"), tick()).await;
            let mut tx = store.begin().await.unwrap();
            assert!(tx.revoke_token(&revoked.id, tick()).await.unwrap());
            tx.commit().await.unwrap();
        }
        if i == 4 {
            add_token(
                store,
                &mallory.id,
                TokenKind::User,
                Some("not judy's"),
                tick(),
            )
            .await;
        }
    }
    // An inactive token is still listed (it is not deleted).
    let mut tx = store.begin().await.unwrap();
    tx.update_user_token(
        &judy.id,
        &live[3].id,
        TokenUpdate {
            status: Some(TokenStatus::Inactive),
            ..TokenUpdate::default()
        },
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();

    let newest_first: Vec<String> = live.iter().rev().map(|t| t.id.clone()).collect();

    for limit in 1..=7u32 {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = store
                .list_user_tokens(&judy.id, after.as_deref(), limit)
                .await
                .unwrap();
            pages += 1;
            assert!(pages <= 7, "limit {limit}: does not terminate");
            assert!(
                !page.items.is_empty() && page.items.len() <= limit as usize,
                "limit {limit}: a page of {}",
                page.items.len()
            );
            for item in &page.items {
                assert_eq!(item.user_id, judy.id);
                assert_eq!(item.kind, TokenKind::User);
                assert_eq!(item.revoked_at, None);
            }
            seen.extend(page.items.iter().map(|t| t.id.clone()));
            match page.next_after {
                Some(next) => {
                    assert_eq!(
                        page.items.len(),
                        limit as usize,
                        "limit {limit}: short page"
                    );
                    assert_eq!(Some(&next), seen.last(), "the cursor is the last item");
                    after = Some(next);
                }
                None => break,
            }
        }
        assert_eq!(seen, newest_first, "limit {limit}");
        assert_eq!(
            pages,
            7_usize.div_ceil(limit as usize),
            "limit {limit}: pages"
        );
        assert!(!seen.contains(&temporary.id));
    }

    // Newest first is also by issue time, and records are complete.
    let page = store.list_user_tokens(&judy.id, None, 100).await.unwrap();
    assert!(page.next_after.is_none());
    assert!(
        page.items
            .windows(2)
            .all(|w| w[0].created_at > w[1].created_at)
    );
    let inactive = page.items.iter().find(|t| t.id == live[3].id).unwrap();
    assert_eq!(inactive.status, TokenStatus::Inactive);
    assert_eq!(inactive.title.as_deref(), Some("token 3"));

    // Another user's list holds only their token; an unknown user's is empty.
    let theirs = store.list_user_tokens(&mallory.id, None, 10).await.unwrap();
    assert_eq!(theirs.items.len(), 1);
    assert_eq!(theirs.items[0].title.as_deref(), Some("not judy's"));
    let nobody = store
        .list_user_tokens("no-such-id", None, 10)
        .await
        .unwrap();
    assert!(nobody.items.is_empty() && nobody.next_after.is_none());
}

async fn count_live_user_tokens_counts_only_live_user_tokens(fixture: &TestDb) {
    let store = &fixture.store;
    let ken = add_user(store, "ken").await;
    let other = add_user(store, "liz").await;
    let at = now();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_live_user_tokens(&ken.id).await.unwrap(), 0);
    drop(tx);

    let mut ids = Vec::new();
    for i in 0..3 {
        let (_, t) = add_token(store, &ken.id, TokenKind::User, Some(&format!("t{i}")), at).await;
        ids.push(t.id);
    }
    add_token(store, &ken.id, TokenKind::Temporary, None, at).await;
    add_token(store, &other.id, TokenKind::User, Some("other"), at).await;

    let mut tx = store.begin().await.unwrap();
    tx.user_for_update(&ken.id).await.unwrap().unwrap();
    assert_eq!(tx.count_live_user_tokens(&ken.id).await.unwrap(), 3);
    // Counts see the transaction's own writes.
    assert!(tx.revoke_token(&ids[0], at).await.unwrap());
    assert_eq!(tx.count_live_user_tokens(&ken.id).await.unwrap(), 2);
    let (_, new) = new_token(&ken.id, TokenKind::User, Some("t3"));
    tx.insert_token(new, at).await.unwrap();
    assert_eq!(tx.count_live_user_tokens(&ken.id).await.unwrap(), 3);
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_live_user_tokens(&ken.id).await.unwrap(), 3);
    assert_eq!(tx.count_live_user_tokens(&other.id).await.unwrap(), 1);
    assert_eq!(tx.count_live_user_tokens("no-such-id").await.unwrap(), 0);
}

async fn update_user_token_applies_to_own_live_tokens(fixture: &TestDb) {
    let store = &fixture.store;
    let mike = add_user(store, "mike").await;
    let nina = add_user(store, "nina").await;
    let at = now();

    let (secret, _) = new_token(&mike.id, TokenKind::User, None);
    let mut tx = store.begin().await.unwrap();
    let token = tx
        .insert_token(
            NewToken {
                user_id: mike.id.clone(),
                kind: TokenKind::User,
                hash: secret.hash(),
                last4: secret.last4(),
                title: Some("old title".to_owned()),
                description: Some("old description".to_owned()),
                expires_at: None,
                authenticated_at: plinth_store::time_to_micros(at),
                origin: plinth_store::TokenOrigin::default(),
            },
            at,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Status and title; the description stays.
    let mut tx = store.begin().await.unwrap();
    let updated = tx
        .update_user_token(
            &mike.id,
            &token.id,
            TokenUpdate {
                status: Some(TokenStatus::Inactive),
                title: Some("new title".to_owned()),
                description: None,
            },
        )
        .await
        .unwrap()
        .expect("mike's token");
    tx.commit().await.unwrap();
    assert_eq!(updated.status, TokenStatus::Inactive);
    assert_eq!(updated.title.as_deref(), Some("new title"));
    assert_eq!(updated.description.as_deref(), Some("old description"));
    assert_eq!(updated.created_at, token.created_at);
    let read = store
        .user_token(&mike.id, &token.id)
        .await
        .unwrap()
        .unwrap();
    assert_same_token(&read, &updated);

    // Clear the description, reactivate; the title stays.
    let mut tx = store.begin().await.unwrap();
    let updated = tx
        .update_user_token(
            &mike.id,
            &token.id,
            TokenUpdate {
                status: Some(TokenStatus::Active),
                title: None,
                description: Some(None),
            },
        )
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(updated.status, TokenStatus::Active);
    assert_eq!(updated.title.as_deref(), Some("new title"));
    assert_eq!(updated.description, None);
    let read = store.token_by_hash(&secret.hash()).await.unwrap().unwrap();
    assert_same_token(&read, &updated);

    let mut tx = store.begin().await.unwrap();
    // An unknown id.
    let none = tx
        .update_user_token(&mike.id, "no-such-id", TokenUpdate::default())
        .await
        .unwrap();
    assert!(none.is_none());
    // Another user's token: as if it did not exist, and untouched.
    let none = tx
        .update_user_token(
            &nina.id,
            &token.id,
            TokenUpdate {
                title: Some("hijacked".to_owned()),
                ..TokenUpdate::default()
            },
        )
        .await
        .unwrap();
    assert!(none.is_none());
    tx.commit().await.unwrap();
    let read = store
        .user_token(&mike.id, &token.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.title.as_deref(), Some("new title"));

    // Temporary and revoked tokens cannot be edited.
    let (_, temp) = add_token(store, &mike.id, TokenKind::Temporary, None, at).await;
    let (_, gone) = add_token(store, &mike.id, TokenKind::User, Some("gone"), at).await;
    let mut tx = store.begin().await.unwrap();
    assert!(tx.revoke_token(&gone.id, at).await.unwrap());
    for id in [&temp.id, &gone.id] {
        let none = tx
            .update_user_token(
                &mike.id,
                id,
                TokenUpdate {
                    title: Some("x".to_owned()),
                    ..TokenUpdate::default()
                },
            )
            .await
            .unwrap();
        assert!(none.is_none(), "token {id} is not editable");
    }
    tx.commit().await.unwrap();
}

async fn revoke_token_once(fixture: &TestDb) {
    let store = &fixture.store;
    let olga = add_user(store, "olga").await;
    let at = now();
    let (secret, token) = add_token(store, &olga.id, TokenKind::User, Some("t"), at).await;
    let (temp_secret, temp) = add_token(store, &olga.id, TokenKind::Temporary, None, at).await;
    let (_, kept) = add_token(store, &olga.id, TokenKind::User, Some("kept"), at).await;

    let revoked_at = at + Duration::minutes(1);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.revoke_token(&token.id, revoked_at).await.unwrap());
    assert!(!tx.revoke_token(&token.id, revoked_at).await.unwrap());
    assert!(tx.revoke_token(&temp.id, revoked_at).await.unwrap());
    assert!(!tx.revoke_token("no-such-id", revoked_at).await.unwrap());
    tx.commit().await.unwrap();

    // A later call neither succeeds nor moves the revocation time.
    let mut tx = store.begin().await.unwrap();
    assert!(
        !tx.revoke_token(&token.id, revoked_at + Duration::hours(1))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    // The row stays, so the token can be answered as revoked.
    let found = store.token_by_hash(&secret.hash()).await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(revoked_at));
    let found = store
        .token_by_hash(&temp_secret.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.revoked_at, Some(revoked_at));
    assert!(
        store
            .user_token(&olga.id, &token.id)
            .await
            .unwrap()
            .is_none()
    );
    let page = store.list_user_tokens(&olga.id, None, 10).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [kept.id.as_str()]);

    // A revocation rolled back did not happen.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.revoke_token(&kept.id, revoked_at).await.unwrap());
    drop(tx);
    let read = store.user_token(&olga.id, &kept.id).await.unwrap().unwrap();
    assert_eq!(read.revoked_at, None);
}

async fn touch_tokens_never_moves_back(fixture: &TestDb) {
    let store = &fixture.store;
    let pat = add_user(store, "pat").await;
    let at = now() - Duration::hours(2);
    let (a_secret, a) = add_token(store, &pat.id, TokenKind::User, Some("a"), at).await;
    let (b_secret, b) = add_token(store, &pat.id, TokenKind::Temporary, None, at).await;
    let (c_secret, _) = add_token(store, &pat.id, TokenKind::User, Some("c"), at).await;
    let last_used = |secret: TokenSecret| async move {
        store
            .token_by_hash(&secret.hash())
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };

    store.touch_tokens(&[]).await.unwrap();
    assert_eq!(last_used(a_secret.clone()).await, None);

    let t1 = at + Duration::minutes(10);
    store
        .touch_tokens(&[
            (a.id.clone(), t1),
            (b.id.clone(), t1 + Duration::seconds(1)),
            ("no-such-id".to_owned(), t1),
        ])
        .await
        .unwrap();
    assert_eq!(last_used(a_secret.clone()).await, Some(t1));
    assert_eq!(
        last_used(b_secret.clone()).await,
        Some(t1 + Duration::seconds(1))
    );
    assert_eq!(last_used(c_secret.clone()).await, None, "untouched");

    // Earlier or equal uses do not move it back.
    store
        .touch_tokens(&[
            (a.id.clone(), t1 - Duration::minutes(5)),
            (b.id.clone(), t1 + Duration::seconds(1)),
        ])
        .await
        .unwrap();
    assert_eq!(last_used(a_secret.clone()).await, Some(t1));
    assert_eq!(
        last_used(b_secret.clone()).await,
        Some(t1 + Duration::seconds(1))
    );

    // Later uses move it forward; within one batch the latest wins, in any order.
    let t2 = t1 + Duration::minutes(30);
    store
        .touch_tokens(&[
            (a.id.clone(), t2),
            (a.id.clone(), t2 - Duration::minutes(1)),
            (b.id.clone(), t2 - Duration::minutes(1)),
            (b.id.clone(), t2),
        ])
        .await
        .unwrap();
    assert_eq!(last_used(a_secret).await, Some(t2));
    assert_eq!(last_used(b_secret).await, Some(t2));

    // Touching changes nothing else.
    let read = store.user_token(&pat.id, &a.id).await.unwrap().unwrap();
    assert_eq!(read.status, TokenStatus::Active);
    assert_eq!(read.created_at, a.created_at);
    assert_eq!(read.revoked_at, None);
    let ids: HashSet<String> = store
        .list_user_tokens(&pat.id, None, 10)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids.len(), 2);
}

plinth_store::on_both_backends!(setup =>
    insert_then_find_by_hash,
    list_user_tokens_pages_newest_first,
    count_live_user_tokens_counts_only_live_user_tokens,
    update_user_token_applies_to_own_live_tokens,
    revoke_token_once,
    touch_tokens_never_moves_back,
    dead_tokens_are_purged_after_the_cutoff,
    live_sessions_are_the_ones_the_guard_accepts,
);

/// The Security page's list: live temporary tokens with where they came from; not user
/// tokens, not revoked, expired or reset ones, not another user's.
async fn live_sessions_are_the_ones_the_guard_accepts(fixture: &TestDb) {
    let store = &fixture.store;
    let ivan = add_user(store, "ivan").await;
    let other = add_user(store, "olga").await;
    let at = now();
    let session = |authenticated_at: i64, expires_at, client: &str| {
        let secret = TokenSecret::generate(TokenKind::Temporary);
        NewToken {
            user_id: ivan.id.clone(),
            kind: TokenKind::Temporary,
            hash: secret.hash(),
            last4: secret.last4(),
            title: None,
            description: None,
            expires_at,
            authenticated_at,
            origin: plinth_store::TokenOrigin {
                ip: Some("192.0.2.1".to_owned()),
                client: Some(client.to_owned()),
                user_agent: Some(format!("{client} agent")),
            },
        }
    };
    let us = plinth_store::time_to_micros(at);
    let mut tx = store.begin().await.unwrap();
    let before_reset = tx
        .insert_token(session(us - 10, Some(at + Duration::days(1)), "api"), at)
        .await
        .unwrap();
    let expired = tx
        .insert_token(session(us, Some(at - Duration::seconds(1)), "api"), at)
        .await
        .unwrap();
    let console = tx
        .insert_token(session(us, Some(at + Duration::days(30)), "console"), at)
        .await
        .unwrap();
    let cli = tx
        .insert_token(session(us, Some(at + Duration::days(30)), "cli"), at)
        .await
        .unwrap();
    let revoked = tx
        .insert_token(session(us, Some(at + Duration::days(30)), "cli"), at)
        .await
        .unwrap();
    assert!(tx.revoke_token(&revoked.id, at).await.unwrap());
    tx.commit().await.unwrap();
    add_token(store, &ivan.id, TokenKind::User, Some("api"), at).await;
    add_token(store, &other.id, TokenKind::Temporary, None, at).await;

    let live = store
        .list_live_sessions(&ivan.id, at, us - 5, 100)
        .await
        .unwrap();
    let ids: Vec<&str> = live.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [cli.id.as_str(), console.id.as_str()], "newest first");
    assert_same_token(&live[1], &console);
    assert_eq!(live[1].origin.client.as_deref(), Some("console"));
    assert_eq!(live[1].origin.ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(
        store
            .list_live_sessions(&ivan.id, at, us - 5, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    // Before the reset, the older session counts too; the expired one never does.
    let all = store
        .list_live_sessions(&ivan.id, at, 0, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|t| t.id != expired.id));
    assert!(all.iter().any(|t| t.id == before_reset.id));

    let mut tx = store.begin().await.unwrap();
    let found = tx.session_for_update(&ivan.id, &cli.id).await.unwrap();
    assert_eq!(found.map(|t| t.id), Some(cli.id.clone()));
    // Not another user's, not a revoked one.
    assert!(
        tx.session_for_update(&other.id, &cli.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tx.session_for_update(&ivan.id, &revoked.id)
            .await
            .unwrap()
            .is_none()
    );
    drop(tx);
}

async fn dead_tokens_are_purged_after_the_cutoff(fixture: &TestDb) {
    let store = &fixture.store;
    let ann = add_user(store, "ann").await;
    let at = now();
    let (live, _) = add_token(store, &ann.id, TokenKind::Temporary, None, at).await;
    let (expired_secret, mut expired) = new_token(&ann.id, TokenKind::Temporary, None);
    expired.expires_at = Some(at - Duration::days(40));
    let mut tx = store.begin().await.unwrap();
    tx.insert_token(expired, at - Duration::days(70))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (recent_secret, mut recent) = new_token(&ann.id, TokenKind::Temporary, None);
    recent.expires_at = Some(at - Duration::days(1));
    let mut tx = store.begin().await.unwrap();
    tx.insert_token(recent, at - Duration::days(31))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (revoked_secret, revoked) =
        add_token(store, &ann.id, TokenKind::User, Some("old"), at).await;
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.revoke_token(&revoked.id, at - Duration::days(35))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    let removed = store
        .purge_dead_tokens(at - Duration::days(30))
        .await
        .unwrap();
    assert_eq!(removed, 2);
    for (secret, kept) in [
        (&live, true),
        (&recent_secret, true),
        (&expired_secret, false),
        (&revoked_secret, false),
    ] {
        let found = store.token_by_hash(&secret.hash()).await.unwrap();
        assert_eq!(found.is_some(), kept);
    }
}

/// PostgreSQL compares text with the column's collation, by default the database's. Under
/// a linguistic one (en_US.UTF-8, ICU: the default of many installations, e.g. the official
/// Docker image) "~" sorts *before* digits and letters, so the "no cursor" sentinel of
/// `list_user_tokens` (and of `page::AFTER_ALL`) matches no id and the first page is empty.
/// The test database here is C.UTF-8, where the suite above cannot see it, so this test
/// gives the fixture's `tokens.id` such a collation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_list_user_tokens_under_a_linguistic_collation() {
    let fixture = setup(Backend::Postgres).await;
    let pool = raw_pool(&fixture).await;
    sqlx::query(r#"ALTER TABLE tokens ALTER COLUMN id TYPE TEXT COLLATE "en-US-x-icu""#)
        .execute(&pool)
        .await
        .expect("an ICU collation (PostgreSQL built with ICU)");
    pool.close().await;

    let store = &fixture.store;
    let quinn = add_user(store, "quinn").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (_, t) = add_token(
            store,
            &quinn.id,
            TokenKind::User,
            Some(&format!("t{i}")),
            now(),
        )
        .await;
        ids.push(t.id);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_user_tokens(&quinn.id, after.as_deref(), 2)
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|t| t.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every live user token, newest first");
    fixture.cleanup().await;
}
