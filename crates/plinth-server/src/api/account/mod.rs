mod login;
mod logout;
mod signup;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::runtime::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup::signup))
        .routes(routes!(login::login))
        .routes(routes!(logout::logout))
}
