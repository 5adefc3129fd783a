//! Workspaces in Chromium: created from the org page with its DNS name previewed while
//! typing, answered by the app's own DNS server and opened on its workspace host;
//! renamed and deleted, with the name following; and seen by a reader but not by an
//! org member without a role.

use std::net::IpAddr;

use hickory_server::proto::rr::RecordType;
use plinth_server::testing::TestApp;
use plinth_server::testing::dns::{addresses, has_soa_authority, tcp_query, udp_query};
use plinth_store::test_support::Backend;
use reqwest::StatusCode;

use super::common::browser::in_browser;
use super::{get_as, sign_in};

const ORG_MENU: &str = "//nav[@aria-label='Organization']";

/// The addresses the app's DNS server answers for `name`, over UDP and TCP alike.
async fn resolve(app: &TestApp, name: &str) -> Vec<IpAddr> {
    let fqdn = format!("{name}.");
    let udp = udp_query(app.server.dns_udp_addr, &fqdn, RecordType::A).await;
    let tcp = tcp_query(app.server.dns_tcp_addr, &fqdn, RecordType::A).await;
    assert_eq!(addresses(&udp), addresses(&tcp), "{name}");
    if addresses(&udp).is_empty() {
        assert!(has_soa_authority(&udp), "{name}: NXDOMAIN with the SOA");
    }
    addresses(&udp)
}

#[tokio::test]
async fn a_workspace_created_in_the_console_answers_in_dns_and_on_its_host() {
    in_browser(|browser| async move {
        let app = TestApp::new(Backend::Sqlite).await;
        let owner = app.user("olivia").await;
        app.create_org(&owner, "acme").await;
        let b = &*browser;
        sign_in(b, &app, "olivia").await;
        b.goto(&format!("{}/orgs/acme", app.base)).await;
        b.wait_for_text("No workspaces yet").await;
        b.wait_for_text("1–23 lowercase letters and digits").await;

        // The DNS name as it will be, previewed while the handle is typed.
        b.fill("Workspace handle", "Prod").await;
        b.wait_for_text("DNS name: acme-prod.plinth.localhost")
            .await;
        b.fill("Display name", "Production").await;
        b.screenshot("workspace-create").await;
        b.fill("Workspace handle", "pro-d").await;
        b.wait_for_text("(not a valid handle yet)").await;
        assert!(resolve(&app, "acme-prod.plinth.localhost").await.is_empty());
        b.fill("Workspace handle", "prod").await;
        b.wait_for_text("DNS name: acme-prod.plinth.localhost")
            .await;
        b.click("//main//form", "Create Workspace").await;
        b.wait_for_path("/orgs/acme/workspaces/prod").await;
        b.wait_for_text("Its DNS name is acme-prod.plinth.localhost.")
            .await;
        b.screenshot("workspace-created").await;
        // A taken handle is refused beside the field, the input kept.
        b.goto(&format!("{}/orgs/acme", app.base)).await;
        b.fill("Workspace handle", "prod").await;
        b.click("//main//form", "Create Workspace").await;
        b.wait_for_text("This organization already has a workspace named \"prod\"")
            .await;
        assert_eq!(b.value("Workspace handle").await, "prod");
        b.screenshot("workspace-create-refused").await;
        b.goto(&format!("{}/orgs/acme/workspaces/prod", app.base))
            .await;

        // The app's DNS server answers the name at once, with the workspace address.
        let answered = resolve(&app, "acme-prod.plinth.localhost").await;
        assert_eq!(answered, [app.state().settings.workspace_address]);

        // Its URL opens the workspace host page (browsers resolve *.localhost to
        // loopback, where the app listens).
        let url = b
            .find("//a[contains(@href, '//acme-prod.plinth.localhost:')]")
            .await;
        url.click().await.unwrap();
        b.wait_for_text("acme-prod.plinth.localhost").await;
        let at = b.driver().current_url().await.unwrap();
        assert_eq!(at.host_str(), Some("acme-prod.plinth.localhost"));
        b.screenshot("workspace-host").await;
        let host = app
            .get_host("acme-prod.plinth.localhost", "/", Some("application/json"))
            .await;
        host.assert_status(200);
        assert_eq!(host.body["dns_name"], "acme-prod.plinth.localhost");

        // Rename: the new name previewed, reviewed, then made; DNS follows.
        b.goto(&format!("{}/orgs/acme/workspaces/prod", app.base))
            .await;
        b.fill("New handle", "Live").await;
        b.wait_for_text("New DNS name: acme-live.plinth.localhost")
            .await;
        b.click("//main//form", "Rename").await;
        b.wait_for_text("Nothing has changed yet").await;
        b.wait_for_text("acme-live.plinth.localhost").await;
        b.screenshot("workspace-rename").await;
        assert!(!resolve(&app, "acme-prod.plinth.localhost").await.is_empty());
        b.click("//main//form", "Rename").await;
        b.wait_for_path("/orgs/acme/workspaces/live").await;
        b.wait_for_text("Its DNS name is acme-live.plinth.localhost")
            .await;
        assert!(resolve(&app, "acme-prod.plinth.localhost").await.is_empty());
        assert!(!resolve(&app, "acme-live.plinth.localhost").await.is_empty());

        // Delete: the handle typed, then the name stops answering.
        b.click("//main", "Delete Workspace").await;
        b.wait_for_path("/orgs/acme/workspaces/live/delete").await;
        b.fill("Workspace handle", "live").await;
        b.screenshot("workspace-delete").await;
        b.click("//main//form", "Delete").await;
        b.wait_for_path("/orgs/acme").await;
        b.wait_for_text("The workspace \"live\" was deleted").await;
        assert!(resolve(&app, "acme-live.plinth.localhost").await.is_empty());
        app.get("/api/v1/orgs/acme/workspaces/live", &owner)
            .await
            .assert_problem(404, "not-found");
        app.cleanup().await;
    })
    .await;
}

#[tokio::test]
async fn a_reader_sees_the_workspace_and_a_member_without_a_role_does_not() {
    in_browser(|browser| async move {
        let app = TestApp::new(Backend::Sqlite).await;
        let owner = app.user("olivia").await;
        app.create_org(&owner, "acme").await;
        app.create_workspace(&owner, "acme", "prod").await;
        app.member(&owner, "acme", "max", "member").await;
        app.member(&owner, "acme", "ivy", "member").await;
        let b = &*browser;

        // The owner adds max as a reader on the workspace's page.
        sign_in(b, &app, "olivia").await;
        b.goto(&format!("{}/orgs/acme", app.base)).await;
        b.click("//main//table", "prod").await;
        b.wait_for_path("/orgs/acme/workspaces/prod").await;
        b.fill("Handle or email", "max").await;
        b.click("//main//form", "Add Member").await;
        b.wait_for_text("is now reader of this workspace").await;
        b.find("//select[@aria-label='Role of max']/option[@selected and .='reader']")
            .await;
        b.screenshot("workspace-detail").await;

        // max sees it, reads its name, and has no way to manage it.
        b.sign_out_locally().await;
        sign_in(b, &app, "max").await;
        b.goto(&format!("{}/orgs/acme", app.base)).await;
        b.click("//main//table", "prod").await;
        b.wait_for_path("/orgs/acme/workspaces/prod").await;
        b.wait_for_text("you are reader").await;
        b.wait_for_text("acme-prod.plinth.localhost").await;
        for absent in ["Add Member", "Rename", "Delete Workspace"] {
            assert!(
                !b.has(&format!(
                    "//main//*[self::button or self::a][normalize-space()='{absent}']"
                ))
                .await,
                "a reader has {absent:?}"
            );
        }
        b.screenshot("workspace-as-reader").await;

        // ivy, an org member without a role, sees neither the workspace nor its page.
        b.sign_out_locally().await;
        sign_in(b, &app, "ivy").await;
        b.goto(&format!("{}/orgs/acme", app.base)).await;
        b.wait_for_text("No workspaces that you can see").await;
        assert!(!b.has("//main//a[normalize-space()='prod']").await);
        assert!(
            b.has(&format!("{ORG_MENU}//a[normalize-space()='Workspaces']"))
                .await
        );
        b.goto(&format!("{}/orgs/acme/workspaces/prod", app.base))
            .await;
        b.wait_for_text("Page not found").await;
        assert_eq!(
            get_as(b, &app, "/orgs/acme/workspaces/prod").await.status(),
            StatusCode::NOT_FOUND
        );
        app.cleanup().await;
    })
    .await;
}
