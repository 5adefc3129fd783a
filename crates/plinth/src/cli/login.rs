//! `plinth login` (the OAuth 2.0 device flow of RFC 8628), `logout`, `whoami`.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};

use super::credentials::{self, Credentials};
use super::{Client, ClientArgs, DEFAULT_HOST, Output};

const CLIENT_ID: &str = "plinth-cli";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The server and token to use: flags and `PLINTH_*` first, then the saved login.
pub fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let saved = credentials::load()?;
    let env_token = std::env::var("PLINTH_TOKEN").ok().filter(|t| !t.is_empty());
    let host = args
        .host
        .clone()
        .or_else(|| saved.as_ref().map(|c| c.host.clone()))
        .unwrap_or_else(|| DEFAULT_HOST.to_owned());
    // A saved token only goes to the server it came from.
    let token = env_token.or_else(|| {
        saved
            .filter(|c| c.host.trim_end_matches('/') == host.trim_end_matches('/'))
            .map(|c| c.token)
    });
    Client::new(&host, token)
}

pub fn login(args: &ClientArgs, no_browser: bool) -> anyhow::Result<()> {
    let host = args.host.clone().unwrap_or_else(|| DEFAULT_HOST.to_owned());
    let client = Client::new(&host, None)?;
    let grant = client
        .post_form("/device/code", &[("client_id", CLIENT_ID)])?
        .ok()
        .context("starting the login")?;
    let text = |key: &str| -> anyhow::Result<String> {
        grant[key]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("the server's answer has no {key}"))
    };
    let device_code = text("device_code")?;
    let user_code = text("user_code")?;
    let verification_uri = text("verification_uri")?;
    let complete = text("verification_uri_complete")?;
    let mut interval = grant["interval"].as_u64().unwrap_or(5).max(1);

    let mut err = std::io::stderr();
    // The complete link carries the code, so the person only has to check it and
    // approve; the short one is for typing the code by hand on another device.
    writeln!(
        err,
        "To sign in, open {complete}\nand check that it shows the code {user_code} \
         (or open {verification_uri} and enter the code)."
    )?;
    if !no_browser && open_browser(&complete) {
        writeln!(err, "(opened your browser at {complete})")?;
    }
    writeln!(err, "Waiting for approval…")?;
    // The code is also the one line on stdout, for scripts that drive the login.
    println!("{user_code}");
    std::io::stdout().flush()?;

    let token = loop {
        std::thread::sleep(Duration::from_secs(interval));
        let super::Answer { status, body } = client.post_form(
            "/device/token",
            &[
                ("grant_type", GRANT_TYPE),
                ("device_code", device_code.as_str()),
                ("client_id", CLIENT_ID),
            ],
        )?;
        if status == 200 {
            break body["access_token"]
                .as_str()
                .context("the server's answer has no access_token")?
                .to_owned();
        }
        match body["error"].as_str() {
            Some("authorization_pending") => {}
            // RFC 8628 §3.5: wait five seconds more from now on.
            Some("slow_down") => interval += 5,
            Some("access_denied") => bail!("the login was denied"),
            Some("expired_token") => {
                bail!("the code expired before it was approved; run `plinth login` again")
            }
            Some(other) => bail!(
                "the login failed: {other}: {}",
                body["error_description"].as_str().unwrap_or("")
            ),
            None => return Err(super::problem_error(status, &body)),
        }
    };

    let client = Client::new(&host, Some(token.clone()))?;
    let me = client.get("/user")?.ok()?;
    let handle = me["handle"].as_str().unwrap_or_default().to_owned();
    let path = credentials::save(&Credentials {
        host: client.host.clone(),
        token,
        handle: handle.clone(),
    })?;
    writeln!(
        err,
        "Logged in to {} as @{handle}; the login is saved in {}",
        client.host,
        path.display()
    )?;
    if std::env::var_os("PLINTH_TOKEN").is_some() {
        writeln!(
            err,
            "Note: PLINTH_TOKEN is set, and it overrides this login until you unset it."
        )?;
    }
    Ok(())
}

/// Best effort: a terminal without a desktop still has the printed link.
fn open_browser(url: &str) -> bool {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

/// Ends the saved login on the server and forgets it here.
pub fn logout() -> anyhow::Result<()> {
    let Some(saved) = credentials::load()? else {
        eprintln!("Not logged in.");
        return Ok(());
    };
    // The token goes back to the server that issued it, whatever --host says.
    let client = Client::new(&saved.host, Some(saved.token))?;
    // A token the server refuses already (expired, reset) is as good as logged out.
    let answer = client.post_empty("/logout")?;
    if answer.status != 401 {
        answer.ok().context("logging out on the server")?;
    }
    credentials::remove()?;
    eprintln!("Logged out of {}.", client.host);
    Ok(())
}

pub fn whoami(args: &ClientArgs) -> anyhow::Result<()> {
    let client = client(args)?;
    if client.token.is_none() {
        return Err(super::failure(
            super::exit::NOT_SIGNED_IN,
            format!("not logged in to {}: run `plinth login`", client.host),
        ));
    }
    let me = client.get("/user")?.ok()?;
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&me)?),
        Output::Table => super::print_table(
            &["HANDLE", "NAME", "EMAIL"],
            &[vec![
                super::field(&me, "handle"),
                super::field(&me, "display_name"),
                super::field(&me, "email"),
            ]],
        ),
    }
    Ok(())
}
