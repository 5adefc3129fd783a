//! The real `plinth` binary as a child process, for end-to-end tests.
#![allow(dead_code)] // each test file uses its own share of these

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Plinth {
    pub child: Child,
    pub port: u16,
    /// The DNS server's address (UDP and TCP), from the ready line.
    pub dns: std::net::SocketAddr,
    /// `http://ADDR/metrics`, or `off`, from the ready line.
    pub metrics: String,
    pub stderr_path: PathBuf,
}

impl Drop for Plinth {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new, empty folder of this test's own. Named by process and a counter: two tests of
/// one binary asking for the same name at once (the two crash tests) must never share
/// one, and the `remove_dir_all` below must never empty another test's. A name made of
/// `Instant::now().elapsed()` (a few dozen nanoseconds, the same for both) did both:
/// the PostgreSQL crash test deleted the SQLite one's database under its running
/// server, which then restarted on an empty file ("this token is not known").
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "plinth-e2e-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `plinth serve` in `dir` and waits for its "ready" line. Metrics go to a free
/// port unless `args` say otherwise, so that tests can run side by side.
pub fn serve(dir: &Path, args: &[&str]) -> Plinth {
    let stderr_path = dir.join("stderr.log");
    let mut args = args.to_vec();
    if !args.contains(&"--metrics-bind") {
        args.extend(["--metrics-bind", "127.0.0.1:0"]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .arg("serve")
        .args(&args)
        .current_dir(dir)
        .env_remove("PLINTH_DATABASE_URL")
        .env_remove("PLINTH_BIND")
        .env("PLINTH_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("plinth starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(line.starts_with("Plinth is ready"), "first line: {line:?}");
    let port = line
        .split(" HTTP on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse::<std::net::SocketAddr>().ok())
        .map(|addr| addr.port())
        .unwrap_or_else(|| panic!("the HTTP address in {line:?}"));
    let metrics = line
        .split(" metrics ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the metrics address in {line:?}"))
        .to_owned();
    let dns = line
        .split(" DNS ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("a DNS address in {line:?}"));
    Plinth {
        child,
        port,
        dns,
        metrics,
        stderr_path,
    }
}

pub async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("the server answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub fn sigterm_and_wait(mut plinth: Plinth) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &plinth.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = plinth.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "plinth did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Signs `handle` up (password "correct horse") through `api` and logs in: the token.
pub async fn signup_and_login(api: &str, handle: &str) -> String {
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{api}/signup"),
        None,
        Some(serde_json::json!({
            "handle": handle, "email": format!("{handle}@example.com"), "password": "correct horse",
        })),
    )
    .await;
    assert_eq!(status, 201);
    let (_, login) = call(
        reqwest::Method::POST,
        format!("{api}/login"),
        None,
        Some(serde_json::json!({"login": handle, "password": "correct horse"})),
    )
    .await;
    login["token"].as_str().expect("a token").to_owned()
}

/// A client that hands redirects back instead of following them: the tests look at
/// where the console and workspace hosts send a browser.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of cookie `name` set by `res`, if it sets one.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|cookie| {
            let (pair, _) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (key, value) = pair.split_once('=')?;
            (key.trim() == name).then(|| value.trim().to_owned())
        })
}

/// The first form's CSRF field in a console page.
pub fn csrf_field(html: &str) -> String {
    let marker = "name=csrf value=\"";
    let start = html.find(marker).expect("a form with a csrf field") + marker.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_owned()
}

/// Signs `handle` (password "correct horse") in through the console at `web` (the
/// server's root URL) as a browser does: the login form, its CSRF field and
/// pre-session cookie, the POST. The session cookie's value.
pub async fn console_login(web: &str, handle: &str) -> String {
    let client = no_redirects();
    let page = client.get(format!("{web}/login")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let presession = set_cookie(&page, "plinth_presession").expect("a pre-session cookie");
    let csrf = csrf_field(&page.text().await.unwrap());
    let res = client
        .post(format!("{web}/login"))
        .header(
            reqwest::header::COOKIE,
            format!("plinth_presession={presession}"),
        )
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", handle),
            ("password", "correct horse"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303, "the console login of {handle}");
    set_cookie(&res, "plinth_session").expect("a session cookie")
}

/// A console GET with the session cookie: the status, the `Location` and the body.
pub async fn console_get(web: &str, path: &str, session: &str) -> (u16, Option<String>, String) {
    let res = no_redirects()
        .get(format!("{web}{path}"))
        .header(reqwest::header::COOKIE, format!("plinth_session={session}"))
        .send()
        .await
        .expect("the server answers");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, location, res.text().await.unwrap_or_default())
}

/// `plinth_auth_cache_misses_total` from a `/metrics` URL: authentications that read
/// the database.
pub async fn auth_cache_misses(metrics: &str) -> u64 {
    let text = reqwest::get(metrics).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("plinth_auth_cache_misses_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no auth cache miss counter in {text}"))
}

/// Polls `check` until it holds, failing after 1 s: the bound for replicas.
pub async fn within_one_second<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what} did not reach the other replica within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
