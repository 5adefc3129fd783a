mod show;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::runtime::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show::show))
}
