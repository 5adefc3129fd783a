//! The web console: server-rendered pages that work without JavaScript.
//!
//! Pages are thin: they parse the form, call the one service function the API's handler
//! calls, and render a template. Each page is a typed askama template struct
//! (`templates/`, checked at compile time) inside one layout (`base.html`) with small
//! partials (the flash, a form field with its error, the settings menu).
//!
//! - Sessions (`session`): an HttpOnly, SameSite=Lax cookie holding a temporary token,
//!   authenticated by the API's own guard.
//! - CSRF (`csrf`): every POST is checked in one middleware before any handler runs.
//! - Every answer carries the security headers of [`security_headers`].

pub mod account;
pub mod assets;
pub mod chrome;
pub mod cookies;
pub mod csrf;
pub mod device;
pub mod error;
pub mod form;
pub mod graphics;
pub mod home;
pub mod invitations;
pub mod org;
pub mod session;
pub mod settings;
pub mod tokens;
pub mod user_settings;
pub mod workspaces;

use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use self::chrome::Chrome;
use self::error::ConsoleError;
use crate::runtime::state::AppState;

/// Every console route, with the CSRF check and the security headers.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::show))
        .route("/login", get(account::login_page).post(account::login))
        .route("/signup", get(account::signup_page).post(account::signup))
        .route("/logout", get(account::logout_page).post(account::logout))
        .route("/settings", get(account::user_settings_redirect))
        .route(
            "/settings/profile",
            get(user_settings::profile).post(user_settings::save_profile),
        )
        .route("/settings/tokens", get(tokens::show).post(tokens::create))
        .route(
            "/settings/tokens/{id}/activate",
            get(tokens::back_to_list).post(tokens::activate),
        )
        .route(
            "/settings/tokens/{id}/deactivate",
            get(tokens::back_to_list).post(tokens::deactivate),
        )
        .route(
            "/settings/tokens/{id}/delete",
            get(tokens::delete_page).post(tokens::delete),
        )
        .route("/settings/security", get(user_settings::security))
        .route(
            "/settings/security/sessions/{id}/sign-out",
            get(user_settings::back_to_security).post(user_settings::sign_out_session),
        )
        .route(
            "/settings/security/sign-out-everywhere",
            get(user_settings::sign_out_everywhere_page).post(user_settings::sign_out_everywhere),
        )
        .route(
            "/orgs/new",
            get(home::new_org_page_get).post(home::create_org),
        )
        .route("/orgs/{org}", get(org::show))
        .route(
            "/orgs/{org}/workspaces",
            get(workspaces::back_to_org).post(workspaces::create),
        )
        .route("/orgs/{org}/workspaces/{ws}", get(workspaces::show))
        .route(
            "/orgs/{org}/workspaces/{ws}/rename",
            get(workspaces::back_to_workspace).post(workspaces::rename),
        )
        .route(
            "/orgs/{org}/workspaces/{ws}/display-name",
            get(workspaces::back_to_workspace).post(workspaces::display_name),
        )
        .route(
            "/orgs/{org}/workspaces/{ws}/delete",
            get(workspaces::delete_page).post(workspaces::delete),
        )
        .route(
            "/orgs/{org}/workspaces/{ws}/members",
            get(workspaces::back_to_workspace).post(workspaces::add_member),
        )
        .route(
            "/orgs/{org}/workspaces/{ws}/members/{user}/role",
            get(workspaces::back_to_workspace).post(workspaces::change_role),
        )
        .route(
            "/orgs/{org}/workspaces/{ws}/members/{user}/remove",
            get(workspaces::remove_member_page).post(workspaces::remove_member),
        )
        .route("/orgs/{org}/settings", get(settings::index))
        .route(
            "/orgs/{org}/settings/profile",
            get(settings::profile::show).post(settings::profile::save),
        )
        .route("/orgs/{org}/settings/members", get(settings::members::show))
        .route(
            "/orgs/{org}/settings/members/invite",
            get(settings::members::back_to_members).post(settings::members::invite),
        )
        .route(
            "/orgs/{org}/settings/members/{user}/role",
            get(settings::members::back_to_members).post(settings::members::change_role),
        )
        .route(
            "/orgs/{org}/settings/members/{user}/cancel",
            get(settings::members::back_to_members).post(settings::members::cancel),
        )
        .route(
            "/orgs/{org}/settings/members/{user}/remove",
            get(settings::members::remove_confirm).post(settings::members::remove),
        )
        .route("/invitations", get(invitations::show))
        .route(
            "/invitations/{org}/accept",
            get(invitations::back_to_list).post(invitations::accept),
        )
        .route(
            "/invitations/{org}/decline",
            get(invitations::back_to_list).post(invitations::decline),
        )
        .route("/orgs/{org}/settings/usage", get(settings::usage::show))
        .route(
            "/orgs/{org}/settings/usage/download",
            get(settings::usage::download),
        )
        .route(
            "/orgs/{org}/settings/audit-log",
            get(settings::audit_log::show),
        )
        .route(
            "/orgs/{org}/settings/audit-log/export",
            get(settings::audit_log::export),
        )
        .route(
            "/orgs/{org}/settings/advanced",
            get(settings::advanced::show),
        )
        .route(
            "/orgs/{org}/settings/advanced/handle",
            get(settings::advanced::back_to_advanced).post(settings::advanced::change_handle),
        )
        .route(
            "/orgs/{org}/settings/advanced/reset-auth",
            get(settings::advanced::reset_auth_page).post(settings::advanced::reset_auth),
        )
        .route(
            "/orgs/{org}/settings/advanced/delete",
            get(settings::advanced::delete_page).post(settings::advanced::delete),
        )
        .route("/device", get(device::show).post(device::submit))
        .route("/static/console.css", get(assets::stylesheet))
        .route("/static/favicon.svg", get(assets::favicon))
        .route(
            "/static/workspace-name.js",
            get(assets::workspace_name_script),
        )
        .layer(middleware::from_fn(csrf::require_csrf))
        .layer(middleware::from_fn(security_headers))
}

/// The content security policy of every console answer: nothing inline, nothing from
/// elsewhere but avatar pictures (an org's avatar URL is any http(s) address).
pub const CSP: &str = "default-src 'self'; img-src 'self' https: http:; \
                       frame-ancestors 'none'; form-action 'self'; base-uri 'none'; \
                       object-src 'none'";

/// Adds the console's security headers to `headers` (every answer, pages and
/// redirects alike).
pub fn add_security_headers(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name, value: &'static str| {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    add_security_headers(response.headers_mut());
    response
}

/// A page: the template rendered inside its layout, with the cookies the layout sets.
/// Pages hold a CSRF token or private data: never cached.
pub fn render(status: StatusCode, chrome: &Chrome, page: &impl Template) -> Response {
    let html = match page.render() {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(error = %err, "a console template failed to render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
                .into_response();
        }
    };
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for cookie in &chrome.set_cookies {
        headers.append(header::SET_COOKIE, cookie.clone());
    }
    add_security_headers(headers);
    response
}

/// 200 with the page.
pub fn ok(chrome: &Chrome, page: &impl Template) -> Response {
    render(StatusCode::OK, chrome, page)
}

/// 303 to `location` with a flash message for the page there.
pub fn redirect_with_flash(request: &HeaderMap, location: &str, message: &str) -> Response {
    let mut response = session::see_other(location);
    response
        .headers_mut()
        .append(header::SET_COOKIE, chrome::flash_cookie(request, message));
    response
}

/// The router's answer to a path nobody serves, for a browser: the console's 404 page
/// (API clients keep getting the problem document).
pub fn wants_html(headers: &HeaderMap, path: &str) -> bool {
    !path.starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// Escapes text for HTML. The console renders through askama, which escapes by itself;
/// this is for the workspace host page (`workspace_host.rs`), not yet a template.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub fn not_found_page() -> Response {
    ConsoleError::not_found().into_response()
}
