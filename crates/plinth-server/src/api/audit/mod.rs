//! The audit log: an org's (owners only) and the caller's own.

mod export;
mod list;
mod verify;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::runtime::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::org_audit_log))
        .routes(routes!(list::user_audit_log))
        .routes(routes!(export::export_org_audit_log))
        .routes(routes!(verify::verify_org_audit_log))
}
