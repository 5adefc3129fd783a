//! A headless Chromium driven through chromedriver (thirtyfour), and the steps a person
//! takes on a page: find things by their visible text or accessible name, type into the
//! input a label names, click, wait, and save screenshots at desktop and phone widths.
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without
//! them the tests fail loudly, never skip.

#![allow(dead_code)]

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::json;
use thirtyfour::prelude::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver on a free port and a headless browser on a fresh profile; both go away
/// when the test ends, whatever its outcome.
pub struct Browser {
    driver: Option<WebDriver>,
    chromedriver: Child,
    profile: PathBuf,
}

impl Browser {
    pub async fn start() -> Self {
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
            "--window-size=1280,900",
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

    pub fn driver(&self) -> &WebDriver {
        self.driver.as_ref().expect("started")
    }

    pub async fn quit(mut self) {
        if let Some(driver) = self.driver.take() {
            let _ = driver.quit().await;
        }
    }

    pub async fn goto(&self, url: &str) {
        self.driver().goto(url).await.expect("the page loads");
    }

    /// The first element `xpath` finds, waiting for it (a click may still be loading).
    pub async fn find(&self, xpath: &str) -> WebElement {
        self.driver()
            .query(By::XPath(xpath))
            .wait(Duration::from_secs(10), Duration::from_millis(50))
            .first()
            .await
            .unwrap_or_else(|e| panic!("nothing matches {xpath}: {e}"))
    }

    /// Whether `xpath` finds anything right now (no wait).
    pub async fn has(&self, xpath: &str) -> bool {
        !self
            .driver()
            .find_all(By::XPath(xpath))
            .await
            .unwrap_or_default()
            .is_empty()
    }

    /// Clicks the link, button or summary whose visible text (or aria-label) is `text`,
    /// inside `within` (an XPath prefix such as `//main` or `//nav[@aria-label='Settings']`).
    pub async fn click(&self, within: &str, text: &str) {
        let xpath = format!(
            "{within}//*[self::a or self::button or self::summary]\
             [normalize-space()={q} or @aria-label={q}]",
            q = literal(text)
        );
        self.find(&xpath).await.click().await.expect("a click");
    }

    /// Types `text` into the input labelled `label`, replacing what it held.
    pub async fn fill(&self, label: &str, text: &str) {
        let input = self
            .find(&format!(
                "//input[@id=//label[normalize-space()={}]/@for]",
                literal(label)
            ))
            .await;
        input.clear().await.expect("the input clears");
        input.send_keys(text).await.expect("typing");
    }

    /// The value of the input labelled `label`.
    pub async fn value(&self, label: &str) -> String {
        self.find(&format!(
            "//input[@id=//label[normalize-space()={}]/@for]",
            literal(label)
        ))
        .await
        .value()
        .await
        .unwrap()
        .unwrap_or_default()
    }

    /// Waits until the page's visible text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(body) = self.driver().find(By::Tag("body")).await
                && let Ok(shown) = body.text().await
                && shown.contains(text)
            {
                return;
            }
            if Instant::now() > deadline {
                let shown = self.text().await;
                panic!("the page never said {text:?}; it says:\n{shown}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        match self.driver().find(By::Tag("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the browser is at `path` (and query) on the server.
    pub async fn wait_for_path(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.driver().current_url().await.expect("a URL");
            let at = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            if at == path {
                return;
            }
            assert!(Instant::now() < deadline, "at {at}, not {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The value of the cookie `name`, HttpOnly ones included.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        self.driver()
            .get_all_cookies()
            .await
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.name == name)
            .map(|c| c.value)
    }

    pub async fn sign_out_locally(&self) {
        self.driver().delete_all_cookies().await.unwrap();
    }

    /// Saves the whole page as `target/screenshots/{name}-desktop.png` (1280 px wide) and
    /// `{name}-phone.png` (390 px, a phone's viewport).
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let cdp = self.driver().cdp();
        for (kind, width, height, mobile) in
            [("desktop", 1280, 900, false), ("phone", 390, 844, true)]
        {
            cdp.send_raw(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
            )
            .await
            .unwrap();
            let metrics = cdp
                .send_raw("Page.getLayoutMetrics", json!({}))
                .await
                .unwrap();
            let full = metrics["cssContentSize"]["height"]
                .as_f64()
                .unwrap_or(f64::from(height))
                .max(f64::from(height));
            let shot = cdp
                .send_raw(
                    "Page.captureScreenshot",
                    json!({
                        "format": "png",
                        "captureBeyondViewport": true,
                        "clip": {"x": 0, "y": 0, "width": width, "height": full, "scale": 1},
                    }),
                )
                .await
                .unwrap();
            let png = base64::engine::general_purpose::STANDARD
                .decode(shot["data"].as_str().expect("png data"))
                .unwrap();
            std::fs::write(dir.join(format!("{name}-{kind}.png")), png).unwrap();
        }
        cdp.send_raw("Emulation.clearDeviceMetricsOverride", json!({}))
            .await
            .unwrap();
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

/// Runs `test` with a fresh browser and always quits it properly afterwards, pass or
/// fail. A browser dropped by a panic falls back to thirtyfour's synchronous teardown,
/// which stalls here for two minutes; a panic inside the spawned task is caught by its
/// `JoinHandle` instead, and raised again once the browser is gone.
pub async fn in_browser<Fut>(test: impl FnOnce(Arc<Browser>) -> Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let browser = Arc::new(Browser::start().await);
    let outcome = tokio::spawn(test(Arc::clone(&browser))).await;
    if let Ok(browser) = Arc::try_unwrap(browser) {
        browser.quit().await;
    }
    if let Err(err) = outcome {
        match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("the browser test did not finish: {err}"),
        }
    }
}

/// `target/screenshots` of this workspace (or of `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("screenshots")
}

/// `text` as an XPath string literal.
pub fn literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
