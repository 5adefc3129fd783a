//! The whole CLI login as a person does it: the real `plinth login --no-browser` prints
//! the link with its code, a signed-in browser (headless Chromium, the console's own
//! harness) opens it, sees the code, who asked and when, and clicks Approve; the CLI
//! then saves its login and `plinth whoami` works. Needs Debian's `chromium` and
//! `chromium-driver`, and fails without them.

#[path = "../../plinth-server/tests/common/browser.rs"]
mod browser;
mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use browser::in_browser;
use common::{serve, signup_and_login, temp_dir};

fn plinth(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plinth"));
    cmd.env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("PLINTH_HOST")
        .env_remove("PLINTH_TOKEN")
        .stdin(Stdio::null());
    cmd
}

#[tokio::test]
async fn a_cli_login_is_approved_in_a_signed_in_browser_then_whoami_works() {
    in_browser(|browser| async move {
        let b = &*browser;
        let dir = temp_dir("cli-browser");
        let server = serve(
            &dir,
            &["--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0"],
        );
        let host = format!("http://127.0.0.1:{}", server.port);
        // Links use the public URL (localhost on the bound port): the browser signs in
        // there, so its session cookie is the one the link's page sees.
        let public = format!("http://localhost:{}", server.port);
        signup_and_login(&format!("{host}/api/v1"), "bob").await;
        let home = dir.join("home");

        b.goto(&format!("{public}/login")).await;
        b.fill("Handle or email", "bob").await;
        b.fill("Password", "correct horse").await;
        b.click("//main", "Sign in").await;
        b.find("//summary[@aria-label='User menu']").await;

        let mut child = plinth(&home)
            .args(["login", "--no-browser", "--host", &host])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The first line on stderr is the link to open, with the code in it.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut said = String::new();
        stderr.read_line(&mut said).unwrap();
        let link = said
            .split_whitespace()
            .find(|word| word.contains("/device?user_code="))
            .unwrap_or_else(|| panic!("no link in {said:?}"))
            .to_owned();
        let mut code = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut code)
            .unwrap();
        let code = code.trim().to_owned();
        assert_eq!(link, format!("{public}/device?user_code={code}"));

        // The person only confirms: no code to type, no password.
        b.goto(&link).await;
        b.wait_for_text("Approve this CLI login?").await;
        let shown = b.text().await;
        assert!(shown.contains(&code), "{shown}");
        assert!(shown.contains("127.0.0.1"), "who asked: {shown}");
        assert!(shown.contains("plinth-cli/"), "its user agent: {shown}");
        assert!(!b.has("//input[@type='password']").await);
        b.screenshot("device-signed-in").await;
        b.click("//main", "Approve").await;
        b.wait_for_text("CLI login approved").await;

        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "plinth login did not finish");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        assert!(status.success(), "{rest}");
        assert!(rest.contains("as @bob"), "{rest}");

        let out = plinth(&home).arg("whoami").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.starts_with("bob\t"), "{stdout}");

        // The new CLI session is on the Security page, from where it was started.
        b.goto(&format!("{public}/settings/security")).await;
        b.wait_for_text("Your sessions").await;
        assert!(
            b.has("//tr[td/strong[normalize-space()='CLI']]").await,
            "{}",
            b.text().await
        );
        drop(server);
    })
    .await;
}
