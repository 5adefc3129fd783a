mod invite;
mod list;
mod remove;
mod update;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::runtime::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list, invite::invite))
        .routes(routes!(update::update, remove::remove))
}
