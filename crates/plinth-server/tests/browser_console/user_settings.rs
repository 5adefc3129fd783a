//! Your Settings in a real browser: a token is created, shown once, used on the API by a
//! real HTTP client, deactivated on the page and then refused; signing out everywhere
//! ends another browser's session, which lands on the login page saying why. Elements
//! are found by visible text and accessible names; screenshots of each page.

use plinth_server::testing::TestApp;
use plinth_store::test_support::Backend;

use super::common::browser::{Browser, in_browser, literal};
use super::sign_in;

/// The select labelled `label`: picks the option whose text is `option`.
async fn choose(b: &Browser, label: &str, option: &str) {
    b.find(&format!(
        "//select[@id=//label[normalize-space()={}]/@for]/option[normalize-space()={}]",
        literal(label),
        literal(option)
    ))
    .await
    .click()
    .await
    .expect("the option is chosen");
}

#[tokio::test]
async fn a_token_is_shown_once_works_on_the_api_and_stops_when_deactivated() {
    in_browser(|browser| async move {
        let b = &*browser;
        let app = TestApp::new(Backend::Sqlite).await;
        let api = app.user("olivia").await;
        sign_in(b, &app, "olivia").await;

        // Your profile, from the user menu.
        b.click("//header", "User menu").await;
        b.click("//header", "Settings").await;
        b.wait_for_path("/settings/profile").await;
        assert!(
            b.has("//*[name()='svg' and @aria-label='olivia avatar']")
                .await,
            "the generated default avatar"
        );
        // Too long for a display name (the browser lets it through, the server does not).
        b.fill("Display Name", &"x".repeat(101)).await;
        b.click("//main", "Save").await;
        b.find(
            "//input[@aria-invalid='true' and @id=//label[normalize-space()='Display Name']/@for]",
        )
        .await;
        b.screenshot("user-profile-refused").await;
        b.fill("Display Name", "Olivia Owner").await;
        b.fill("Email", "olivia@corp.example").await;
        b.click("//main", "Save").await;
        b.wait_for_text("Profile saved.").await;
        assert_eq!(b.value("Display Name").await, "Olivia Owner");
        b.screenshot("user-profile").await;
        let me = app.get("/api/v1/user", &api).await;
        assert_eq!(me.body["email"], "olivia@corp.example");

        // Create a token: the secret once, in a read-only field.
        b.click("//nav[@aria-label='Your settings']", "Tokens")
            .await;
        b.wait_for_path("/settings/tokens").await;
        b.fill("Title", "deploy bot").await;
        b.fill("Description", "CI").await;
        choose(b, "Expiration", "7 days").await;
        b.click("//main", "Create token").await;
        b.wait_for_text("Token \"deploy bot\" created").await;
        let secret = b
            .value("Copy this token now: it will not be shown again")
            .await;
        assert!(secret.starts_with("plu_"), "{secret}");
        b.screenshot("user-token-created").await;

        // A real HTTP request on the API with it.
        let me = app.get("/api/v1/user", &secret).await;
        me.assert_status(200);
        assert_eq!(me.body["handle"], "olivia");

        // Shown once: the list again does not have it.
        b.goto(&format!("{}/settings/tokens", app.base)).await;
        b.wait_for_text("deploy bot").await;
        let source = b.driver().source().await.unwrap();
        assert!(!source.contains(&secret), "the secret is shown once");

        // Deactivated on the page: refused on the API.
        b.click("//main", "Deactivate token deploy bot").await;
        b.wait_for_text("Token \"deploy bot\" deactivated.").await;
        app.get("/api/v1/user", &secret)
            .await
            .assert_problem(401, "token-revoked");

        // Delete asks first.
        b.click("//main", "Delete token deploy bot").await;
        b.wait_for_text("Delete the token \"deploy bot\"?").await;
        b.screenshot("user-token-delete").await;
        b.click("//main", "Delete token").await;
        b.wait_for_text("Token \"deploy bot\" deleted.").await;
        assert!(!b.has("//td//strong[normalize-space()='deploy bot']").await);

        // The limit, explained where the form was.
        for i in 1..=10 {
            app.user_token(&api, &format!("script {i}")).await;
        }
        b.goto(&format!("{}/settings/tokens", app.base)).await;
        b.wait_for_text("You have 10 user tokens, the most one account can hold.")
            .await;
        assert!(!b.has("//button[normalize-space()='Create token']").await);
        b.screenshot("user-tokens-limit").await;
        app.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn signing_out_everywhere_ends_the_other_browser_session() {
    in_browser(|first| async move {
        in_browser(move |second| async move {
            let a = &*first;
            let b = &*second;
            let app = TestApp::new(Backend::Sqlite).await;
            app.user("olivia").await;
            sign_in(a, &app, "olivia").await;
            sign_in(b, &app, "olivia").await;

            b.goto(&format!("{}/settings/security", app.base)).await;
            b.wait_for_text("Your sessions").await;
            // Its own session is marked; the other browser's is listed too.
            assert!(b.has("//tr[.//*[normalize-space()='This session']]").await);
            assert_eq!(
                b.driver()
                    .find_all(thirtyfour::prelude::By::XPath(
                        "//tr[td/strong[normalize-space()='Console']]"
                    ))
                    .await
                    .unwrap()
                    .len(),
                2
            );
            b.screenshot("user-security").await;

            a.goto(&format!("{}/settings/security", app.base)).await;
            a.click("//section[h2='Sign out everywhere']", "Sign out everywhere")
                .await;
            a.wait_for_path("/settings/security/sign-out-everywhere")
                .await;
            a.wait_for_text("Everything that signs in as you stops working")
                .await;
            a.screenshot("user-sign-out-everywhere").await;
            a.click("//main//form", "Sign out everywhere").await;
            a.wait_for_text("You signed out everywhere, so this session ended.")
                .await;

            // The other browser's next page is the login page, with the reason.
            b.goto(&format!("{}/settings/profile", app.base)).await;
            b.wait_for_text("You signed out everywhere, so this session ended.")
                .await;
            assert!(b.has("//label[normalize-space()='Password']").await);
            b.screenshot("login-after-sign-out-everywhere").await;
            app.cleanup().await;
        })
        .await;
    })
    .await;
}
