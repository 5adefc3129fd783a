use axum::Json;
use plinth_api::{Problem, User};

use crate::api::views;
use crate::auth::Actor;

/// The caller's profile. Answered from memory on a warm token.
#[utoipa::path(get, path = "/api/v1/user", tag = "user",
    operation_id = "user_show",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "Not authenticated", body = Problem),
    ))]
pub async fn show(actor: Actor) -> Json<User> {
    Json(views::user(&actor.user))
}
