mod change_handle;
mod create;
mod delete;
mod list;
mod reset_auth;
mod show;
mod update;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::runtime::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list, create::create))
        .routes(routes!(show::show, update::update, delete::delete))
        .routes(routes!(change_handle::change_handle))
        .routes(routes!(reset_auth::reset_auth))
}
