//! The `/device` page in a real browser: Debian's Chromium, headless, driven by
//! chromedriver. These tests approve and deny a CLI login by typing and clicking, as a
//! person would (`browser_console/` walks the rest of the console). They need
//! `chromium` and `chromium-driver` (`.ci/run` installs them) and fail, loudly, without
//! them.

mod common;

use std::time::{Duration, Instant};

use common::browser::{Browser, in_browser};
use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use thirtyfour::prelude::*;

const CLI: &str = "plinth-cli";

/// Opens the link the CLI printed, signs in as bob and clicks `button`; answers the
/// page's heading.
async fn decide_in_browser(app: &TestApp, browser: &Browser, button: &str) -> serde_json::Value {
    let grant = app.device_code(CLI).await;
    let driver = browser.driver();
    driver
        .goto(grant["verification_uri_complete"].as_str().unwrap())
        .await
        .unwrap();
    let code = driver.find(By::Id("user_code")).await.unwrap();
    assert_eq!(
        code.value().await.unwrap().as_deref(),
        grant["user_code"].as_str(),
        "the link fills the code in"
    );
    driver
        .find(By::Id("login"))
        .await
        .unwrap()
        .send_keys("bob")
        .await
        .unwrap();
    driver
        .find(By::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    driver
        .find(By::Css(format!("button[value={button}]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    grant
}

/// Waits for the page the last click loaded to say `text` (a navigation may be under way:
/// reading the page can fail or show the old one for a moment).
async fn heading(browser: &Browser, text: &str) {
    let wanted = format!("<h1>{text}</h1>");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(source) = browser.driver().source().await
            && source.contains(&wanted)
        {
            return;
        }
        assert!(Instant::now() < deadline, "no heading {text:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_person_approves_a_cli_login_in_the_browser() {
    in_browser(|browser| async move {
        let browser = &*browser;
        let app = TestApp::new(Backend::Sqlite).await;
        app.user("bob").await;

        let grant = decide_in_browser(&app, browser, "approve").await;
        heading(browser, "CLI login approved").await;
        browser.screenshot("device-approved").await;
        let token = app
            .device_token(grant["device_code"].as_str().unwrap(), CLI)
            .await;
        token.assert_status(200);
        let me = app
            .get("/api/v1/user", token.body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(me.body["handle"], "bob");

        let grant = decide_in_browser(&app, browser, "deny").await;
        heading(browser, "CLI login denied").await;
        let refused = app
            .device_token(grant["device_code"].as_str().unwrap(), CLI)
            .await;
        assert_eq!(refused.body["error"], "access_denied");
        app.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_keeps_the_form_and_decides_nothing() {
    in_browser(|browser| async move {
        let browser = &*browser;
        let app = TestApp::new(Backend::Sqlite).await;
        app.user("bob").await;
        let grant = app.device_code(CLI).await;
        let driver = browser.driver();
        driver.goto(format!("{}/device", app.base)).await.unwrap();
        let typed = grant["user_code"].as_str().unwrap().to_lowercase();
        for (id, text) in [
            ("user_code", typed.as_str()),
            ("login", "bob"),
            ("password", "not it at all"),
        ] {
            driver
                .find(By::Id(id))
                .await
                .unwrap()
                .send_keys(text)
                .await
                .unwrap();
        }
        driver
            .find(By::Css("button[value=approve]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let alert = driver
            .query(By::Css("[role=alert]"))
            .first()
            .await
            .expect("an error on the page");
        assert!(
            alert
                .text()
                .await
                .unwrap()
                .contains("Wrong login or password")
        );
        browser.screenshot("device-wrong-password").await;
        // The code (normalized) and the login stay; the password does not.
        let value = |id: &'static str| async move {
            driver
                .find(By::Id(id))
                .await
                .unwrap()
                .value()
                .await
                .unwrap()
        };
        assert_eq!(
            value("user_code").await.as_deref(),
            grant["user_code"].as_str()
        );
        assert_eq!(value("login").await.as_deref(), Some("bob"));
        assert_eq!(value("password").await.as_deref(), Some(""));
        let pending = app
            .device_token(grant["device_code"].as_str().unwrap(), CLI)
            .await;
        assert_eq!(pending.body["error"], "authorization_pending");
        app.cleanup().await;
    })
    .await;
}
