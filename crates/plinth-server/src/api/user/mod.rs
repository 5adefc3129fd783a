mod reset_auth;
mod show;
mod update;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::runtime::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show::show, update::update))
        .routes(routes!(reset_auth::reset_auth))
}
