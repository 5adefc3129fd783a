//! Refusals as pages people can read: 403, 404, an expired form, or a redirect (to the
//! login page, or to an org's new handle). Never problem JSON.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::chrome::Chrome;
use crate::error::ApiError;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: &'a Chrome,
    heading: &'a str,
    message: &'a str,
}

/// Why a console request was not answered with the page it asked for.
pub enum ConsoleError {
    /// Not a page at all: a redirect.
    Response(Response),
    Page {
        status: StatusCode,
        heading: &'static str,
        message: String,
        /// The signed-in layout when the caller is known (their switcher stays).
        chrome: Option<Box<Chrome>>,
    },
}

pub type PageResult = Result<Response, ConsoleError>;

impl ConsoleError {
    fn page(status: StatusCode, heading: &'static str, message: impl Into<String>) -> Self {
        Self::Page {
            status,
            heading,
            message: message.into(),
            chrome: None,
        }
    }

    pub fn not_found() -> Self {
        Self::page(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no such page, or you do not have access to it. Check the address, \
             or pick an organization from the switcher at the top of the page.",
        )
    }

    pub fn csrf() -> Self {
        Self::page(
            StatusCode::FORBIDDEN,
            "This form expired",
            "This form expired or did not come from this page. Please go back, reload the \
             page and try again. Nothing was changed.",
        )
    }

    pub fn too_large() -> Self {
        Self::page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too much data",
            "This form sent more data than the server accepts. Nothing was changed.",
        )
    }

    /// Shows the page inside the caller's own layout.
    pub fn with_chrome(self, chrome: &Chrome) -> Self {
        match self {
            Self::Page {
                status,
                heading,
                message,
                chrome: None,
            } => Self::Page {
                status,
                heading,
                message,
                chrome: Some(Box::new(chrome.clone())),
            },
            other => other,
        }
    }

    /// The page for a refusal from a service or guard. 401s are turned into a login
    /// redirect by the extractors before a handler runs; one reaching here is shown.
    pub fn from_api(err: &ApiError) -> Self {
        let detail = sentence(err);
        match err.status {
            StatusCode::NOT_FOUND => Self::not_found(),
            StatusCode::FORBIDDEN => Self::page(
                StatusCode::FORBIDDEN,
                "You can't open this page",
                format!("{detail} Ask an owner of the organization if you need access."),
            ),
            status if status.is_server_error() => {
                tracing::error!(error = ?err, "a console page could not answer");
                Self::page(
                    status,
                    "Something went wrong",
                    "Something went wrong on our side. Please try again in a moment.",
                )
            }
            status => Self::page(status, "This did not work", detail),
        }
    }
}

impl From<ApiError> for ConsoleError {
    fn from(err: ApiError) -> Self {
        Self::from_api(&err)
    }
}

/// A problem's detail as a sentence for people: capitalized, with a full stop.
pub fn sentence(err: &ApiError) -> String {
    if err.status.is_server_error() {
        return "Something went wrong on our side. Please try again.".to_owned();
    }
    let text = err.detail.clone().unwrap_or_else(|| err.title.to_owned());
    capitalized(&text)
}

pub fn capitalized(text: &str) -> String {
    let mut text = text.trim().to_owned();
    if text.is_empty() {
        return text;
    }
    if let Some(first) = text.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            Self::Response(response) => response,
            Self::Page {
                status,
                heading,
                message,
                chrome,
            } => {
                let fallback;
                let chrome = match &chrome {
                    Some(chrome) => chrome.as_ref(),
                    None => {
                        fallback = Chrome::bare();
                        &fallback
                    }
                };
                let page = ErrorPage {
                    chrome,
                    heading,
                    message: &message,
                };
                super::render(status, chrome, &page)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_read_as_sentences() {
        assert_eq!(
            capitalized("wrong login or password"),
            "Wrong login or password."
        );
        assert_eq!(capitalized("Done!"), "Done!");
        assert_eq!(capitalized(""), "");
    }
}
