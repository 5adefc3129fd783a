//! Profile: Display Name and Avatar URL, through `service::orgs::update` as
//! `PATCH /api/v1/orgs/{org}`.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use plinth_api::UpdateOrgRequest;
use serde::Deserialize;

use crate::api::extract::ClientMeta;
use crate::console::chrome::Chrome;
use crate::console::error::{ConsoleError, PageResult};
use crate::console::form::{ConsoleForm, Field, form_error};
use crate::console::org::{OrgHeader, OwnerPage};
use crate::error::ApiError;
use crate::runtime::state::AppState;
use crate::service;

#[derive(Deserialize, Default)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    avatar_url: String,
}

#[derive(Template)]
#[template(path = "settings/profile.html")]
struct ProfileView<'a> {
    chrome: &'a Chrome,
    org: OrgHeader,
    active: &'static str,
    error: Option<String>,
    display_name: Field,
    avatar_url: Field,
}

fn view(
    status: StatusCode,
    page: &OwnerPage,
    form: &ProfileForm,
    error: Option<&ApiError>,
) -> Response {
    let fields = ["display_name", "avatar_url"];
    let view = ProfileView {
        chrome: &page.chrome,
        org: OrgHeader::of(&page.owner),
        active: "profile",
        error: error.and_then(|e| form_error(e, &fields)),
        display_name: Field::new("display_name", "Display Name")
            .value(&form.display_name)
            .required()
            .help("1–100 characters.")
            .error_from(error, &["display_name"]),
        avatar_url: Field::new("avatar_url", "Avatar URL")
            .kind("url")
            .value(&form.avatar_url)
            .placeholder("https://example.com/logo.png")
            .help(
                "An http or https address of a picture. Leave it empty for the generated default.",
            )
            .error_from(error, &["avatar_url"]),
    };
    crate::console::render(status, &page.chrome, &view)
}

/// `GET /orgs/{org}/settings/profile`.
pub async fn show(page: OwnerPage) -> Response {
    let form = ProfileForm {
        display_name: page.owner.org.display_name.clone(),
        avatar_url: page.owner.org.avatar_url.clone().unwrap_or_default(),
    };
    view(StatusCode::OK, &page, &form, None)
}

/// `POST /orgs/{org}/settings/profile`: Save.
pub async fn save(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    page: OwnerPage,
    ConsoleForm(form): ConsoleForm<ProfileForm>,
) -> PageResult {
    let req = UpdateOrgRequest {
        display_name: Some(form.display_name.clone()),
        // Empty clears it, as in the API.
        avatar_url: Some(form.avatar_url.trim().to_owned()),
    };
    match service::orgs::update(&state, &meta, &page.owner, req).await {
        Ok(org) => Ok(crate::console::redirect_with_flash(
            &headers,
            &format!("/orgs/{}/settings/profile", org.handle),
            "Profile saved.",
        )),
        Err(err) if err.status.is_client_error() => Ok(view(err.status, &page, &form, Some(&err))),
        Err(err) => Err(ConsoleError::from_api(&err).with_chrome(&page.chrome)),
    }
}
