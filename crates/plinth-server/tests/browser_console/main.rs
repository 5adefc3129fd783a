//! The console in a real browser, following the seed (`organization-settings.txt`)
//! literally: every element is found by its visible text or accessible name, as a
//! person reading the seed would find it. Every page is saved as a screenshot under
//! `target/screenshots/` at desktop and phone widths. Needs Debian's `chromium` and
//! `chromium-driver` and fails without them.

#[path = "../common/mod.rs"]
mod common;
mod members;
mod workspaces;

use common::browser::{Browser, in_browser, literal};
use plinth_server::testing::{PASSWORD, TestApp};
use plinth_store::test_support::Backend;
use reqwest::StatusCode;

mod user_settings;

/// The org entry named `display_name` in the open switcher.
fn switcher_entry(display_name: &str) -> String {
    format!(
        "//details[summary[@aria-label='Switch organization']]//a[span[normalize-space()={}]]",
        literal(display_name)
    )
}

const ORG_MENU: &str = "//nav[@aria-label='Organization']";
const SETTINGS_MENU: &str = "//nav[@aria-label='Settings']";

async fn sign_in(b: &Browser, app: &TestApp, login: &str) {
    b.goto(&format!("{}/login", app.base)).await;
    b.fill("Handle or email", login).await;
    b.fill("Password", PASSWORD).await;
    b.click("//main", "Sign in").await;
    b.find("//summary[@aria-label='User menu']").await;
}

/// GETs `path` as the browser's session (the console routes take the cookie, not a
/// bearer token); no redirect is followed.
async fn get_as(b: &Browser, app: &TestApp, path: &str) -> reqwest::Response {
    let session = b.cookie("plinth_session").await.expect("a session cookie");
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", app.base)
    };
    app.client
        .get(url)
        .header("cookie", format!("plinth_session={session}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_owner_follows_the_seed_to_profile_usage_and_audit_log() {
    in_browser(|browser| async move {
    let app = TestApp::new(Backend::Sqlite).await;
    let b = &*browser;

    // Sign up.
    b.goto(&format!("{}/", app.base)).await;
    b.screenshot("home-signed-out").await;
    b.click("//main", "Create an account").await;
    b.wait_for_path("/signup").await;
    b.fill("Handle", "olivia").await;
    b.fill("Display Name", "Olivia Owner").await;
    b.fill("Email", "olivia@example.com").await;
    b.fill("Password", PASSWORD).await;
    b.screenshot("signup").await;
    b.click("//main", "Sign up").await;
    b.wait_for_text("Welcome to Plinth").await;
    b.wait_for_text("You are not in any organization yet").await;
    b.screenshot("home-no-orgs").await;

    // Create an organization from the switcher.
    b.click("//header", "Switch organization").await;
    b.screenshot("switcher-empty").await;
    b.click("//header", "Create Organization").await;
    b.wait_for_path("/orgs/new").await;
    b.fill("Handle", "acme").await;
    b.fill("Display Name", "Acme Corporation").await;
    b.screenshot("create-organization").await;
    b.click("//main", "Create Organization").await;
    b.wait_for_path("/orgs/acme").await;
    b.wait_for_text("Organization \"acme\" created").await;

    // Real traffic to count: workspaces and API calls with a CLI-style login, and
    // requests to a workspace host.
    let token = app.token_for("olivia").await;
    app.create_workspace(&token, "acme", "prod").await;
    app.create_workspace(&token, "acme", "staging").await;
    for _ in 0..3 {
        app.get("/api/v1/orgs/acme", &token)
            .await
            .assert_status(200);
    }
    for _ in 0..4 {
        app.get_host("acme-prod.plinth.localhost", "/", None)
            .await
            .assert_status(200);
    }
    app.flush_usage().await;

    // "click the double arrow button from the navigation at the top of the page, select
    // the organization from the dropdown, and then select Settings from the menu on the
    // left."
    b.goto(&format!("{}/", app.base)).await;
    b.screenshot("home").await;
    b.click("//header", "Switch organization").await;
    b.screenshot("switcher").await;
    b.find(&switcher_entry("Acme Corporation"))
        .await
        .click()
        .await
        .unwrap();
    b.wait_for_path("/orgs/acme").await;
    b.wait_for_text("acme-prod.plinth.localhost").await;
    let link = b
        .find("//a[normalize-space()='acme-staging.plinth.localhost']")
        .await;
    let href = link.attr("href").await.unwrap().unwrap();
    assert!(
        href.starts_with("http://acme-staging.plinth.localhost:"),
        "{href}"
    );
    b.screenshot("org").await;
    b.click(ORG_MENU, "Settings").await;

    // Profile: Display Name and Avatar URL.
    b.click(SETTINGS_MENU, "Profile").await;
    b.wait_for_path("/orgs/acme/settings/profile").await;
    assert!(
        b.has("//*[name()='svg' and @aria-label='Acme Corporation avatar']")
            .await,
        "a drawn default avatar"
    );
    b.screenshot("profile").await;
    let avatar = format!("{}/static/favicon.svg", app.base);
    b.fill("Display Name", "Acme Inc").await;
    b.fill("Avatar URL", &avatar).await;
    b.click("//main", "Save").await;
    b.wait_for_text("Profile saved.").await;
    assert_eq!(b.value("Display Name").await, "Acme Inc");
    b.find(&format!(
        "//img[@alt='Acme Inc avatar' and @src={}]",
        literal(&avatar)
    ))
    .await;
    b.screenshot("profile-saved").await;
    let org = app.get("/api/v1/orgs/acme", &token).await;
    assert_eq!(org.body["display_name"], "Acme Inc");
    assert_eq!(org.body["avatar_url"], avatar.as_str());

    // Members.
    b.click(SETTINGS_MENU, "Members").await;
    b.wait_for_text("Olivia Owner").await;
    b.screenshot("members").await;

    // Usage: a chart per metric, with the traffic above counted.
    b.click(SETTINGS_MENU, "Usage").await;
    b.wait_for_path("/orgs/acme/settings/usage").await;
    let charts = b
        .driver()
        .find_all(thirtyfour::By::XPath("//figure[contains(@class, 'chart')]"))
        .await
        .unwrap();
    assert_eq!(charts.len(), 6);
    for metric in ["API requests", "Workspace requests", "Workspaces"] {
        let bar = format!(
            "//figure[figcaption/strong={}]//*[name()='rect' and @class='bar' and @height!='0.0']",
            literal(metric)
        );
        assert!(b.has(&bar).await, "{metric} has a bar today");
    }
    b.screenshot("usage").await;
    let csv_href = b
        .find("//a[normalize-space()='Download CSV']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let csv = get_as(b, &app, &csv_href).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("date,api_requests,workspace_requests"),
        "{csv}"
    );
    let today: Vec<i64> = csv
        .lines()
        .last()
        .unwrap()
        .split(',')
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(today[0] >= 3 && today[1] == 4, "{csv}");

    // Audit Log: what this test just did, the chain verified, the CSV.
    b.click(SETTINGS_MENU, "Audit Log").await;
    b.wait_for_text("Hash chain verified").await;
    for action in ["org.create", "org.update", "workspace.create"] {
        assert!(
            b.has(&format!("//table//code[text()={}]", literal(action)))
                .await,
            "{action} is listed"
        );
    }
    b.click("//table", "Details of #4").await;
    b.wait_for_text("\"Acme Inc\"").await;
    b.screenshot("audit-log").await;
    b.fill("Action", "org.update").await;
    b.click("//main", "Filter").await;
    b.wait_for_text("Clear").await;
    assert!(!b.has("//table//code[text()='org.create']").await);
    assert!(b.has("//table//code[text()='org.update']").await);
    for (button, kind, needle) in [
        ("Export CSV", "text/csv", "org.update"),
        (
            "Export JSON Lines",
            "application/jsonl",
            "\"action\":\"org.update\"",
        ),
    ] {
        let href = b
            .find(&format!("//a[normalize-space()={}]", literal(button)))
            .await
            .attr("href")
            .await
            .unwrap()
            .unwrap();
        let file = get_as(b, &app, &href).await;
        assert_eq!(file.status(), StatusCode::OK);
        assert!(
            file.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        let text = file.text().await.unwrap();
        assert!(
            text.contains(needle) && !text.contains("org.create"),
            "{text}"
        );
    }
    app.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn an_owner_changes_the_handle_resets_authentication_and_deletes_the_org() {
    in_browser(|browser| async move {
        let app = TestApp::new(Backend::Sqlite).await;
        let owner = app.user("olivia").await;
        app.create_org(&owner, "acme").await;
        app.create_workspace(&owner, "acme", "prod").await;
        app.create_workspace(&owner, "acme", "staging").await;
        app.member(&owner, "acme", "max", "member").await;
        app.user("nina").await;
        let b = &*browser;

        // A page that needs a login comes back after it.
        b.goto(&format!("{}/orgs/acme", app.base)).await;
        b.wait_for_path("/login?next=%2Forgs%2Facme").await;
        b.screenshot("login").await;
        b.fill("Handle or email", "olivia").await;
        b.fill("Password", PASSWORD).await;
        b.click("//main", "Sign in").await;
        b.wait_for_path("/orgs/acme").await;

        // Advanced: "Enter your new handle and click Save."
        b.click(ORG_MENU, "Settings").await;
        b.click(SETTINGS_MENU, "Advanced").await;
        b.wait_for_text("Updating Your Organization Handle").await;
        b.wait_for_text("Reset Authentication").await;
        b.screenshot("advanced").await;
        b.fill("New handle", "acme-labs").await;
        b.click("//section[h2='Updating Your Organization Handle']", "Save")
            .await;
        // Before anything changes: every DNS name, old → new.
        b.wait_for_text("Nothing has changed yet").await;
        for name in [
            "acme-prod.plinth.localhost",
            "acme-labs-prod.plinth.localhost",
            "acme-staging.plinth.localhost",
            "acme-labs-staging.plinth.localhost",
        ] {
            b.wait_for_text(name).await;
        }
        b.screenshot("handle-review").await;
        b.click("//main", "Save").await;
        b.wait_for_path("/orgs/acme-labs").await;
        b.wait_for_text("The handle is now \"acme-labs\"").await;
        b.wait_for_text("acme-labs-prod.plinth.localhost").await;
        b.screenshot("org-renamed").await;
        // The old console address redirects during the grace period.
        let moved = get_as(b, &app, "/orgs/acme/settings/usage?from=2026-01-01").await;
        assert_eq!(moved.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            moved.headers()["location"],
            "/orgs/acme-labs/settings/usage?from=2026-01-01"
        );
        b.goto(&format!("{}/orgs/acme/settings/audit-log", app.base))
            .await;
        b.wait_for_path("/orgs/acme-labs/settings/audit-log").await;
        b.wait_for_text("org.handle.update").await;

        // A member sees the org, not its Settings; a non-member sees nothing.
        b.sign_out_locally().await;
        sign_in(b, &app, "max").await;
        b.goto(&format!("{}/orgs/acme-labs", app.base)).await;
        // A member sees only the workspaces they have a role on: none here.
        b.wait_for_text("No workspaces that you can see").await;
        assert!(
            !b.has(&format!("{ORG_MENU}//a[normalize-space()='Settings']"))
                .await
        );
        b.screenshot("org-as-member").await;
        b.goto(&format!("{}/orgs/acme-labs/settings/profile", app.base))
            .await;
        b.wait_for_text("You can't open this page").await;
        b.screenshot("forbidden").await;
        assert_eq!(
            get_as(b, &app, "/orgs/acme-labs/settings/advanced")
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        b.sign_out_locally().await;
        sign_in(b, &app, "nina").await;
        b.goto(&format!("{}/orgs/acme-labs/settings/advanced", app.base))
            .await;
        b.wait_for_text("Page not found").await;
        b.screenshot("not-found").await;
        for path in [
            "/orgs/acme-labs",
            "/orgs/acme-labs/settings/advanced",
            "/orgs/acme",
        ] {
            assert_eq!(
                get_as(b, &app, path).await.status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }

        // Reset Authentication: everyone, the owner included, logs in again.
        b.sign_out_locally().await;
        sign_in(b, &app, "olivia").await;
        b.goto(&format!("{}/orgs/acme-labs/settings/advanced", app.base))
            .await;
        b.click(
            "//section[h2='Reset Authentication']",
            "Reset authentication",
        )
        .await;
        b.wait_for_text("Every temporary token").await;
        b.screenshot("reset-authentication").await;
        b.click("//main//form", "Reset authentication").await;
        b.wait_for_text("Authentication for the organization \"acme-labs\" was reset")
            .await;
        b.screenshot("login-after-reset").await;
        app.get("/api/v1/orgs/acme-labs", &owner)
            .await
            .assert_problem(401, "auth-reset");
        b.fill("Handle or email", "olivia").await;
        b.fill("Password", PASSWORD).await;
        b.click("//main", "Sign in").await;
        b.wait_for_path("/orgs/acme-labs").await;

        // Delete Organization: type the handle, click Delete; gone from the switcher.
        b.click(ORG_MENU, "Settings").await;
        b.click(SETTINGS_MENU, "Advanced").await;
        b.click("//section[h2='Delete Organization']", "Delete Organization")
            .await;
        b.wait_for_path("/orgs/acme-labs/settings/advanced/delete")
            .await;
        b.fill("Organization handle", "acme-labs").await;
        b.screenshot("delete-organization").await;
        b.click("//main", "Delete").await;
        b.wait_for_path("/").await;
        b.wait_for_text("The organization \"acme-labs\" was deleted")
            .await;
        b.click("//header", "Switch organization").await;
        assert!(!b.has(&switcher_entry("acme-labs")).await);
        assert!(
            !b.has("//details//a[contains(@href, '/orgs/acme-labs')]")
                .await
        );
        b.screenshot("deleted").await;
        let fresh = app.token_for("olivia").await;
        app.get("/api/v1/orgs/acme-labs", &fresh)
            .await
            .assert_problem(404, "not-found");
        app.cleanup().await;
    })
    .await;
}
