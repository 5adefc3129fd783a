//! `/`: the user's organizations (or a way in), and Create Organization.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use plinth_api::CreateOrgRequest;
use serde::Deserialize;

use super::chrome::Chrome;
use super::error::{ConsoleError, PageResult};
use super::form::{ConsoleForm, Field, form_error};
use super::graphics::Avatar;
use super::session::{SignedIn, Visitor};
use crate::api::extract::ClientMeta;
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;

pub struct OrgCard {
    pub handle: String,
    pub display_name: String,
    pub role: &'static str,
    pub avatar: Avatar,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    chrome: &'a Chrome,
    orgs: Vec<OrgCard>,
    /// A workspace DNS name on this server, for the welcome's explanation.
    example_dns_name: String,
}

pub fn role_name(role: plinth_core::OrgRole) -> &'static str {
    match role {
        plinth_core::OrgRole::Owner => "owner",
        plinth_core::OrgRole::Member => "member",
    }
}

/// `GET /`.
pub async fn show(State(state): State<AppState>, visitor: Visitor) -> PageResult {
    let mut orgs = Vec::new();
    if let Some(actor) = &visitor.actor {
        let page = service::orgs::list(&state, actor, None, 100)
            .await
            .map_err(|e| ConsoleError::from_api(&e).with_chrome(&visitor.chrome))?;
        orgs = page
            .items
            .iter()
            .map(|o| OrgCard {
                handle: o.org.handle.to_string(),
                display_name: o.org.display_name.clone(),
                role: role_name(o.role),
                avatar: Avatar::new(
                    o.org.handle.as_str(),
                    &o.org.display_name,
                    o.org.avatar_url.as_deref(),
                ),
            })
            .collect();
    }
    let page = HomePage {
        chrome: &visitor.chrome,
        orgs,
        example_dns_name: format!("acme-prod.{}", state.settings.base_domain),
    };
    Ok(super::ok(&visitor.chrome, &page))
}

#[derive(Deserialize, Default)]
pub struct NewOrgForm {
    #[serde(default)]
    handle: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Template)]
#[template(path = "org_new.html")]
struct NewOrgPage<'a> {
    chrome: &'a Chrome,
    error: Option<String>,
    handle: Field,
    display_name: Field,
}

fn new_org_page(
    status: StatusCode,
    chrome: &Chrome,
    form: &NewOrgForm,
    error: Option<&ApiError>,
) -> Response {
    let fields = ["handle", "display_name"];
    let page = NewOrgPage {
        chrome,
        error: error.and_then(|e| form_error(e, &fields)),
        handle: Field::new("handle", "Handle")
            .value(&form.handle)
            .required()
            .autocomplete("off")
            .placeholder("acme")
            .help("Lowercase letters, digits and single hyphens, 1–39 characters; users and organizations share handles. It is part of every workspace DNS name, like acme-prod.")
            .error_from(error, &["handle"]),
        display_name: Field::new("display_name", "Display Name")
            .value(&form.display_name)
            .placeholder("Acme Corporation")
            .help("Optional; the handle if empty.")
            .error_from(error, &["display_name"]),
    };
    super::render(status, chrome, &page)
}

/// `GET /orgs/new`.
pub async fn new_org_page_get(signed: SignedIn) -> PageResult {
    Ok(new_org_page(
        StatusCode::OK,
        &signed.chrome,
        &NewOrgForm::default(),
        None,
    ))
}

/// `POST /orgs/new`: `service::orgs::create`, as `POST /api/v1/orgs`.
pub async fn create_org(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    signed: SignedIn,
    ConsoleForm(form): ConsoleForm<NewOrgForm>,
) -> PageResult {
    let display_name = form.display_name.trim();
    let req = CreateOrgRequest {
        handle: form.handle.clone(),
        display_name: (!display_name.is_empty()).then(|| display_name.to_owned()),
        avatar_url: None,
    };
    match service::orgs::create(&state, &meta, &signed.actor, req).await {
        Ok(org) => Ok(super::redirect_with_flash(
            &headers,
            &format!("/orgs/{}", org.handle),
            &format!(
                "Organization \"{}\" created. You are its owner.",
                org.handle
            ),
        )),
        Err(err) if err.status.is_client_error() => {
            Ok(new_org_page(err.status, &signed.chrome, &form, Some(&err)))
        }
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&signed.chrome)),
    }
}
