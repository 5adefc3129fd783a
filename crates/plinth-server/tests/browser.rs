//! The console in a real browser: Debian's Chromium, headless, driven by chromedriver.
//! Today the console is the `/device` page; these tests approve and deny a CLI login by
//! typing and clicking, as a person would. They need `chromium` and `chromium-driver`
//! (`.ci/run` installs them) and fail, loudly, without them.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use serde_json::json;
use thirtyfour::prelude::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const CLI: &str = "plinth-cli";

/// A chromedriver on a free port and a headless browser on a fresh profile; both go away
/// when the test ends, whatever its outcome.
struct Browser {
    driver: Option<WebDriver>,
    chromedriver: Child,
    profile: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "browser tests need Debian's chromium and chromium-driver: \
             apt-get install -y chromium chromium-driver"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let chromedriver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile =
            std::env::temp_dir().join(format!("plinth-chromium-{}-{port}", std::process::id()));
        let mut browser = Self {
            driver: None,
            chromedriver,
            profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap();
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", browser.profile.display()),
        ] {
            caps.add_arg(arg).unwrap();
        }
        // A fresh profile otherwise opens the new-tab page first, which can stall.
        caps.add_experimental_option(
            "prefs",
            json!({"session.restore_on_startup": 4, "session.startup_urls": ["about:blank"]}),
        )
        .unwrap();
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps)
            .await
            .expect("a browser session");
        browser.driver = Some(driver);
        browser
    }

    fn driver(&self) -> &WebDriver {
        self.driver.as_ref().expect("started")
    }

    async fn quit(mut self) {
        if let Some(driver) = self.driver.take() {
            let _ = driver.quit().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test never reached `quit`: dropping the session closes the browser
        // (thirtyfour does it synchronously), which needs chromedriver still running.
        drop(self.driver.take());
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

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
    let app = TestApp::new(Backend::Sqlite).await;
    app.user("bob").await;
    let browser = Browser::start().await;

    let grant = decide_in_browser(&app, &browser, "approve").await;
    heading(&browser, "CLI login approved").await;
    let token = app
        .device_token(grant["device_code"].as_str().unwrap(), CLI)
        .await;
    token.assert_status(200);
    let me = app
        .get("/api/v1/user", token.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.body["handle"], "bob");

    let grant = decide_in_browser(&app, &browser, "deny").await;
    heading(&browser, "CLI login denied").await;
    let refused = app
        .device_token(grant["device_code"].as_str().unwrap(), CLI)
        .await;
    assert_eq!(refused.body["error"], "access_denied");
    browser.quit().await;
}

#[tokio::test]
async fn a_wrong_password_keeps_the_form_and_decides_nothing() {
    let app = TestApp::new(Backend::Sqlite).await;
    app.user("bob").await;
    let browser = Browser::start().await;
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
    browser.quit().await;
}
