//! The `/device` page in a real browser: Debian's Chromium, headless, driven by
//! chromedriver. These tests approve and deny a CLI login by clicking, as a person
//! would: signed out, the login page comes first and then comes back to the code
//! (`browser_console/` walks the rest of the console). They need `chromium` and
//! `chromium-driver` (`.ci/run` installs them) and fail, loudly, without them.

mod common;

use common::browser::{Browser, in_browser};
use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;

const CLI: &str = "plinth-cli";

async fn sign_in_here(b: &Browser, login: &str) {
    b.fill("Handle or email", login).await;
    b.fill("Password", PASSWORD).await;
    b.click("//main", "Sign in").await;
}

#[tokio::test]
async fn a_person_approves_a_cli_login_in_the_browser() {
    in_browser(|browser| async move {
        let b = &*browser;
        let app = TestApp::new(Backend::Sqlite).await;
        app.user("bob").await;

        // The link the CLI opens, signed out: sign in first, then back to the code.
        let grant = app.device_code(CLI).await;
        let code = grant["user_code"].as_str().unwrap();
        b.goto(grant["verification_uri_complete"].as_str().unwrap())
            .await;
        b.wait_for_text("Sign in to continue.").await;
        sign_in_here(b, "bob").await;
        b.wait_for_path(&format!("/device?user_code={code}")).await;
        b.wait_for_text("Approve this CLI login?").await;
        let shown = b.text().await;
        assert!(shown.contains(code), "{shown}");
        assert!(shown.contains("127.0.0.1"), "who asked: {shown}");
        b.click("//main", "Approve").await;
        b.wait_for_text("CLI login approved").await;
        b.screenshot("device-approved").await;
        let token = app
            .device_token(grant["device_code"].as_str().unwrap(), CLI)
            .await;
        token.assert_status(200);
        let me = app
            .get("/api/v1/user", token.body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(me.body["handle"], "bob");

        // Signed in already: straight to the question.
        let grant = app.device_code(CLI).await;
        b.goto(grant["verification_uri_complete"].as_str().unwrap())
            .await;
        b.wait_for_text("Approve this CLI login?").await;
        b.click("//main", "Deny").await;
        b.wait_for_text("CLI login denied").await;
        let refused = app
            .device_token(grant["device_code"].as_str().unwrap(), CLI)
            .await;
        assert_eq!(refused.body["error"], "access_denied");
        app.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn a_wrong_code_is_refused_and_decides_nothing() {
    in_browser(|browser| async move {
        let b = &*browser;
        let app = TestApp::new(Backend::Sqlite).await;
        app.user("bob").await;
        let grant = app.device_code(CLI).await;
        b.goto(&format!("{}/device", app.base)).await;
        sign_in_here(b, "bob").await;
        b.wait_for_text("Enter the code your terminal shows").await;
        let wrong = if grant["user_code"] == "BBBB-BBBB" {
            "cccccccc"
        } else {
            "bbbbbbbb"
        };
        b.fill("Code", wrong).await;
        b.click("//main", "Continue").await;
        b.wait_for_text("No CLI login is waiting for code").await;
        b.screenshot("device-wrong-code").await;
        // Typed by hand, lowercase and without the dash: the right one is found.
        let typed = grant["user_code"]
            .as_str()
            .unwrap()
            .replace('-', "")
            .to_lowercase();
        b.fill("Code", &typed).await;
        b.click("//main", "Continue").await;
        b.wait_for_text("Approve this CLI login?").await;
        assert!(
            b.text()
                .await
                .contains(grant["user_code"].as_str().unwrap())
        );
        let pending = app
            .device_token(grant["device_code"].as_str().unwrap(), CLI)
            .await;
        assert_eq!(pending.body["error"], "authorization_pending");
        app.cleanup().await;
    })
    .await;
}
