//! Forms: the body of a console POST, and the fields a page shows with their errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::{ConsoleError, capitalized};
use crate::error::ApiError;

/// A form-encoded body. Fields are strings with `#[serde(default)]`; unknown fields
/// (the `csrf` token, checked before) are ignored.
pub struct ConsoleForm<T>(pub T);

impl<S, T> FromRequest<S> for ConsoleForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ConsoleError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ConsoleError::too_large())?;
        serde_urlencoded::from_bytes(&bytes)
            .map(ConsoleForm)
            .map_err(|_| ConsoleError::from_api(&ApiError::bad_request("the form is not valid")))
    }
}

/// The query string as `T` (string fields with defaults); a malformed one reads as
/// the defaults, like an empty form.
pub fn query<T: DeserializeOwned + Default>(uri: &axum::http::Uri) -> T {
    serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default()
}

/// One input of a form, as the `field` macro draws it: label, the user's input kept,
/// and the problem's detail beside it.
#[derive(Clone, Debug, Default)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub help: String,
    pub required: bool,
    pub autocomplete: &'static str,
    pub placeholder: &'static str,
    /// An HTML `pattern` the browser checks before sending (the server checks anyway).
    pub pattern: Option<String>,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str) -> Self {
        Self {
            name,
            label,
            kind: "text",
            ..Self::default()
        }
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.value = value.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn autocomplete(mut self, autocomplete: &'static str) -> Self {
        self.autocomplete = autocomplete;
        self
    }

    pub fn placeholder(mut self, placeholder: &'static str) -> Self {
        self.placeholder = placeholder;
        self
    }

    pub fn pattern(mut self, pattern: String) -> Self {
        self.pattern = Some(pattern);
        self
    }

    /// Shows `err` beside this field if it is about it (see [`field_error`]).
    pub fn error_from(mut self, err: Option<&ApiError>, fields: &[&str]) -> Self {
        if let Some(message) = err.and_then(|e| field_error(e, fields)) {
            self.error = Some(message);
        }
        self
    }
}

/// The message for a form field among `fields` from a service's refusal: a
/// `validation` problem naming the field, or the refusals that are about one field by
/// nature (a taken handle, a confirmation that does not match).
pub fn field_error(err: &ApiError, fields: &[&str]) -> Option<String> {
    let problem = err.to_problem();
    if let Some(e) = problem
        .errors
        .iter()
        .find(|e| fields.contains(&e.field.as_str()))
    {
        return Some(capitalized(&e.message));
    }
    let by_nature = match err.problem_type {
        "handle-taken" => "handle",
        "confirmation-mismatch" => "confirm",
        _ => return None,
    };
    fields
        .contains(&by_nature)
        .then(|| capitalized(err.detail.as_deref().unwrap_or(err.title)))
}

/// The refusal as a message above the form, when no field shows it.
pub fn form_error(err: &ApiError, fields: &[&str]) -> Option<String> {
    field_error(err, fields)
        .is_none()
        .then(|| super::error::sentence(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_land_beside_their_field() {
        let err = ApiError::validation("display_name", "must be 1–100 characters");
        assert_eq!(
            field_error(&err, &["display_name", "avatar_url"]).as_deref(),
            Some("Must be 1–100 characters.")
        );
        assert_eq!(field_error(&err, &["avatar_url"]), None);
        assert_eq!(form_error(&err, &["display_name"]), None);
        let taken = ApiError::handle_taken("acme");
        assert_eq!(
            field_error(&taken, &["handle"]).as_deref(),
            Some("The handle \"acme\" is already taken.")
        );
        let wrong = ApiError::forbidden("only owners may do this");
        assert_eq!(
            form_error(&wrong, &["handle"]).as_deref(),
            Some("Only owners may do this.")
        );
    }
}
