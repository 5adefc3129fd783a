//! The REST API under `/api/v1`: one folder per resource, one file per action, each
//! handler annotated for the OpenAPI document.

mod account;
mod audit;
mod contract;
mod device;
pub mod docs;
pub mod extract;
mod invitations;
mod members;
mod orgs;
pub mod pagination;
pub mod system;
mod tokens;
mod usage;
mod user;
pub mod views;
mod workspace_members;
mod workspaces;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::runtime::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plinth API",
        description = "Organizations, members, workspaces, tokens, usage and audit log. \
                       Errors are RFC 9457 problems (`application/problem+json`).",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "account", description = "Sign up, log in (password, or the CLI's device login), log out"),
        (name = "user", description = "The caller's own profile"),
        (name = "tokens", description = "The caller's user tokens"),
        (name = "invitations", description = "The caller's invitations to orgs"),
        (name = "orgs", description = "Organizations"),
        (name = "members", description = "Org members and invitations"),
        (name = "workspaces", description = "Workspaces and their members"),
        (name = "usage", description = "Daily usage of an org and its workspaces"),
        (name = "audit", description = "The audit log of API activity"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A temporary token (`plt_…`) from login, or a user token (`plu_…`)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every API route, each under `/api/v1`, with the OpenAPI document they make up.
pub fn routes() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .merge(account::routes())
        .merge(device::routes())
        .merge(user::routes())
        .merge(tokens::routes())
        .merge(invitations::routes())
        .merge(orgs::routes())
        .merge(members::routes())
        .merge(workspaces::routes())
        .merge(workspace_members::routes())
        .merge(usage::routes())
        .merge(audit::routes());
    // Full paths in each handler's annotation rather than `nest("/api/v1", …)`: a nested
    // router strips the prefix and clones one more route on every request.
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(v1)
}
