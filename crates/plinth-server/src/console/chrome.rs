//! What the shared layout shows around every page: who is signed in, their orgs for the
//! switcher, the CSRF token of the page's forms, and the flash message.

use axum::http::{HeaderMap, HeaderValue};

use super::{cookies, csrf};
use crate::auth::Actor;
use crate::runtime::state::AppState;
use crate::service;

/// The orgs the switcher lists at most.
const SWITCHER_ORGS: u32 = 100;

#[derive(Clone, Debug)]
pub struct NavUser {
    pub handle: String,
    pub display_name: String,
}

#[derive(Clone, Debug)]
pub struct NavOrg {
    pub handle: String,
    pub display_name: String,
}

#[derive(Clone, Debug, Default)]
pub struct Chrome {
    pub user: Option<NavUser>,
    /// The switcher's dropdown: the user's orgs, newest first.
    pub orgs: Vec<NavOrg>,
    /// The org the page is about, highlighted in the switcher.
    pub current_org: Option<String>,
    /// The token every form on the page carries (see `csrf`).
    pub csrf: String,
    pub flash: Option<String>,
    /// The signed-in user's pending invitations: the user menu's badge.
    pub invitations: u64,
    /// Whether the server lets anyone create an account (`--signup open`).
    pub signup_open: bool,
    /// Cookies the answer sets: a new pre-session value, the flash cleared.
    pub set_cookies: Vec<HeaderValue>,
}

impl Chrome {
    /// A layout with no one signed in and no forms: error pages without a caller.
    pub fn bare() -> Self {
        Self::default()
    }

    /// The layout for `actor` (signed in with the session cookie's token) or for a
    /// signed-out visitor.
    pub async fn load(state: &AppState, headers: &HeaderMap, actor: Option<&Actor>) -> Self {
        let mut chrome = Self {
            signup_open: state.settings.signup == crate::runtime::config::SignupMode::Open,
            ..Self::default()
        };
        match (actor, cookies::get(headers, cookies::SESSION)) {
            (Some(actor), Some(session)) => {
                chrome.csrf = csrf::for_session(session);
                chrome.user = Some(NavUser {
                    handle: actor.user.handle.to_string(),
                    display_name: actor.user.display_name.clone(),
                });
                // The same listing as GET /api/v1/orgs.
                match service::orgs::list(state, actor, None, SWITCHER_ORGS).await {
                    Ok(page) => {
                        chrome.orgs = page
                            .items
                            .iter()
                            .map(|o| NavOrg {
                                handle: o.org.handle.to_string(),
                                display_name: o.org.display_name.clone(),
                            })
                            .collect();
                    }
                    Err(err) => tracing::warn!(error = ?err, "the switcher could not list orgs"),
                }
                // One indexed count per page, as `GET /api/v1/user/invitations` lists them.
                match service::members::invitation_count(state, actor).await {
                    Ok(n) => chrome.invitations = n,
                    Err(err) => {
                        tracing::warn!(error = ?err, "the invitations badge could not count")
                    }
                }
            }
            _ => {
                let value = match cookies::get(headers, cookies::PRESESSION) {
                    Some(value) => value.to_owned(),
                    None => {
                        let value = csrf::new_presession();
                        chrome.set_cookies.push(cookies::set(
                            headers,
                            cookies::PRESESSION,
                            &value,
                            "Strict",
                            None,
                        ));
                        value
                    }
                };
                chrome.csrf = csrf::for_presession(&value);
            }
        }
        if let Some(flash) = cookies::get(headers, cookies::FLASH) {
            chrome.flash = decode_flash(flash);
            chrome
                .set_cookies
                .push(cookies::clear(headers, cookies::FLASH));
        }
        chrome
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }

    pub fn for_org(mut self, handle: &str) -> Self {
        self.current_org = Some(handle.to_owned());
        self
    }

    pub fn is_current(&self, org: &NavOrg) -> bool {
        self.current_org.as_deref() == Some(org.handle.as_str())
    }

    pub fn user_initials(&self) -> String {
        self.user.as_ref().map_or_else(String::new, |u| {
            super::graphics::initials(&u.display_name, &u.handle)
        })
    }

    /// The badge's words for people who cannot see it.
    pub fn invitations_phrase(&self) -> String {
        match self.invitations {
            1 => "1 pending invitation".to_owned(),
            n => format!("{n} pending invitations"),
        }
    }

    /// The switcher's label: the org in view, else a prompt.
    pub fn switcher_label(&self) -> &str {
        self.current_org
            .as_ref()
            .and_then(|h| self.orgs.iter().find(|o| &o.handle == h))
            .map_or("Organizations", |o| o.display_name.as_str())
    }
}

/// The `Set-Cookie` value that shows `message` on the next page.
pub fn flash_cookie(request: &HeaderMap, message: &str) -> HeaderValue {
    let encoded: String = form_urlencoded::byte_serialize(message.as_bytes()).collect();
    cookies::set(request, cookies::FLASH, &encoded, "Lax", Some(60))
}

fn decode_flash(value: &str) -> Option<String> {
    let bytes: Vec<u8> = percent_decode(value);
    let text = String::from_utf8(bytes).ok()?;
    let text = text.trim();
    (!text.is_empty() && text.chars().count() <= 300).then(|| text.to_owned())
}

fn percent_decode(value: &str) -> Vec<u8> {
    // `byte_serialize` writes spaces as `+`; form decoding reads them back.
    form_urlencoded::parse(format!("m={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_survives_its_cookie() {
        let headers = HeaderMap::new();
        let cookie = flash_cookie(&headers, "Saved \"acme\" & more; é");
        let value = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("plinth_flash=")
            .unwrap()
            .to_owned();
        assert!(!value.contains(';') && !value.contains(' '));
        assert_eq!(
            decode_flash(&value).as_deref(),
            Some("Saved \"acme\" & more; é")
        );
        assert_eq!(decode_flash(""), None);
    }
}
