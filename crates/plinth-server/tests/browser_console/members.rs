//! Members and invitations in two real browsers: an owner invites by email, the
//! invitee (a second browser session) is welcomed, sees the badge, accepts, and appears
//! on the owner's Members page; role changes, the last owner's refusal, cancel and
//! remove with its confirm page. Elements are found by visible text or accessible name.

use serde_json::json;
use thirtyfour::prelude::*;

use super::common::browser::{Browser, in_browser, literal};
use super::{ORG_MENU, SETTINGS_MENU, sign_in};
use plinth_server::testing::TestApp;
use plinth_store::test_support::Backend;

/// The table under the heading that starts with `heading` (Members, Pending invitations).
fn table_under(heading: &str) -> String {
    format!(
        "//h2[starts-with(normalize-space(), {})]/following-sibling::div[1]//table",
        literal(heading)
    )
}

/// Picks `option` in the drop-down labelled `label`.
async fn choose(b: &Browser, label: &str, option: &str) {
    let select = b
        .find(&format!(
            "//select[@id=//label[normalize-space()={}]/@for]",
            literal(label)
        ))
        .await;
    select
        .find(By::XPath(format!(
            "./option[normalize-space()={}]",
            literal(option)
        )))
        .await
        .expect("the option")
        .click()
        .await
        .expect("a click");
}

async fn roles(app: &TestApp, token: &str) -> Vec<(String, String, String)> {
    let listed = app.get("/api/v1/orgs/acme/members", token).await;
    listed.assert_status(200);
    let mut all: Vec<_> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user"]["handle"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

fn entry(handle: &str, role: &str, status: &str) -> (String, String, String) {
    (handle.to_owned(), role.to_owned(), status.to_owned())
}

#[tokio::test]
async fn members_an_invitee_accepts_in_a_second_browser_and_appears() {
    in_browser(|owner_browser| async move {
        in_browser(|invitee_browser| async move {
            let app = TestApp::new(Backend::Sqlite).await;
            let olivia = app.user("olivia").await;
            app.patch("/api/v1/user", &olivia, json!({"display_name": "Olivia Owner"}))
                .await
                .assert_status(200);
            app.create_org(&olivia, "acme").await;
            app.patch(
                "/api/v1/orgs/acme",
                &olivia,
                json!({"display_name": "Acme Corporation"}),
            )
            .await
            .assert_status(200);
            let max_token = app.user("max").await;
            app.patch(
                "/api/v1/user",
                &max_token,
                json!({"display_name": "Max Mustermann"}),
            )
            .await
            .assert_status(200);
            app.user("nina").await;
            let owner = &*owner_browser;
            let invitee = &*invitee_browser;

            // The invitee, in no org yet: the welcome.
            sign_in(invitee, &app, "max").await;
            invitee.goto(&format!("{}/", app.base)).await;
            invitee
                .wait_for_text("You are not in any organization yet")
                .await;
            invitee.wait_for_text("acme-prod.plinth.localhost").await;
            invitee.find("//main//a[normalize-space()='Create Organization']").await;
            invitee.screenshot("welcome").await;

            // The owner invites by email, from Settings → Members.
            sign_in(owner, &app, "olivia").await;
            owner.goto(&format!("{}/orgs/acme", app.base)).await;
            owner.click(ORG_MENU, "Settings").await;
            owner.click(SETTINGS_MENU, "Members").await;
            owner.wait_for_path("/orgs/acme/settings/members").await;
            owner.fill("Handle or email", "max@example.com").await;
            choose(owner, "Role", "member").await;
            owner.click("//main", "Invite Member").await;
            owner.wait_for_text("Invited \"max\" as member.").await;
            owner.fill("Handle or email", "nina").await;
            owner.click("//main", "Invite Member").await;
            owner.wait_for_text("Invited \"nina\" as member.").await;
            assert!(
                owner
                    .has(&format!(
                        "{}//tr[.//strong[normalize-space()='Max Mustermann']]",
                        table_under("Pending invitations")
                    ))
                    .await
            );
            owner.screenshot("members-invited").await;

            // The invitee: the badge, the invitation, Accept.
            invitee.goto(&format!("{}/", app.base)).await;
            invitee.wait_for_text("see your 1 pending invitation").await;
            let menu = invitee
                .find("//summary[@aria-label='User menu']")
                .await;
            assert_eq!(
                menu.attr("aria-describedby").await.unwrap().as_deref(),
                Some("invitations-badge")
            );
            invitee
                .find("//summary[@aria-label='User menu']//span[@class='badge' and normalize-space()='1']")
                .await;
            invitee.screenshot("welcome-invited").await;
            invitee.click("//header", "User menu").await;
            invitee.find("//header//a[normalize-space()='Invitations 1']").await;
            invitee.screenshot("user-menu-invitations").await;
            invitee.click("//header", "Invitations 1").await;
            invitee.wait_for_path("/invitations").await;
            invitee.wait_for_text("Invited as member by olivia").await;
            invitee.screenshot("invitations").await;
            invitee
                .click("//main", "Accept the invitation from Acme Corporation")
                .await;
            invitee.wait_for_path("/orgs/acme").await;
            invitee
                .wait_for_text("You joined \"Acme Corporation\" as member.")
                .await;
            assert!(!invitee.has("//header//*[@class='badge']").await);

            // The owner sees the new member in the list.
            owner
                .goto(&format!("{}/orgs/acme/settings/members", app.base))
                .await;
            owner
                .find(&format!(
                    "{}//tr[.//strong[normalize-space()='Max Mustermann']]",
                    table_under("Members")
                ))
                .await;
            assert_eq!(
                roles(&app, &max_token).await,
                [
                    entry("max", "member", "active"),
                    entry("nina", "member", "invited"),
                    entry("olivia", "owner", "active"),
                ]
            );
            owner.screenshot("members").await;

            // The last owner cannot step down; shown on the page, nothing changed.
            choose(owner, "Role of olivia", "member").await;
            owner.click("//main", "Change role of olivia").await;
            owner
                .wait_for_text("An organization must keep at least one active owner")
                .await;
            owner.screenshot("members-last-owner").await;
            assert!(roles(&app, &max_token)
                .await
                .contains(&entry("olivia", "owner", "active")));

            // A role change.
            choose(owner, "Role of max", "owner").await;
            owner.click("//main", "Change role of max").await;
            owner.wait_for_text("\"max\" is now owner.").await;
            assert!(roles(&app, &max_token)
                .await
                .contains(&entry("max", "owner", "active")));
            choose(owner, "Role of max", "member").await;
            owner.click("//main", "Change role of max").await;
            owner.wait_for_text("\"max\" is now member.").await;

            // Leaving as the last owner: the confirm page refuses it.
            owner.click("//main", "Leave Acme Corporation").await;
            owner.wait_for_text("Leave Acme Corporation?").await;
            owner.click("//main", "Leave organization").await;
            owner
                .wait_for_text("make someone else owner first. Nothing was changed.")
                .await;
            owner.screenshot("member-leave-refused").await;
            owner.click("//main", "Keep my membership").await;
            owner.wait_for_path("/orgs/acme/settings/members").await;

            // Cancel an invitation, remove a member (after the confirm page).
            owner.click("//main", "Cancel invitation of nina").await;
            owner
                .wait_for_text("The invitation of \"nina\" was cancelled.")
                .await;
            owner.click("//main", "Remove max").await;
            owner.wait_for_text("Remove Max Mustermann?").await;
            owner.screenshot("member-remove").await;
            owner.click("//main", "Remove member").await;
            owner.wait_for_text("\"max\" was removed from \"acme\".").await;
            assert_eq!(
                roles(&app, &olivia).await,
                [entry("olivia", "owner", "active")]
            );
            invitee.goto(&format!("{}/orgs/acme", app.base)).await;
            invitee.wait_for_text("Page not found").await;
            app.cleanup().await;
        })
        .await;
    })
    .await;
}
