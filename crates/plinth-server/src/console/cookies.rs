//! The console's cookies: the session (a temporary token), the pre-session value that
//! signed-out forms' CSRF tokens are bound to, and the one-shot flash message.

use axum::http::{HeaderMap, HeaderValue, header};

/// Holds the `plt_` temporary token of a console login. HttpOnly, SameSite=Lax.
pub const SESSION: &str = "plinth_session";
/// A random value for signed-out forms (login, sign-up, `/device`) to bind their CSRF
/// token to. HttpOnly, SameSite=Strict.
pub const PRESESSION: &str = "plinth_presession";
/// The message of the page a POST redirected to ("Saved"). Read once, then cleared.
pub const FLASH: &str = "plinth_flash";

/// The value of cookie `name` in the request, if any.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// `Secure` when the browser reached us over https (a TLS proxy says so).
fn secure(request: &HeaderMap) -> &'static str {
    if crate::api::extract::request_scheme(request) == "https" {
        "; Secure"
    } else {
        ""
    }
}

/// A `Set-Cookie` value; `value` must already be cookie-safe (base62, percent-encoded).
pub fn set(
    request: &HeaderMap,
    name: &str,
    value: &str,
    same_site: &str,
    max_age_secs: Option<i64>,
) -> HeaderValue {
    let max_age = max_age_secs.map_or_else(String::new, |s| format!("; Max-Age={s}"));
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}{max_age}{}",
        secure(request)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("plinth_invalid=1"))
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear(request: &HeaderMap, name: &str) -> HeaderValue {
    set(request, name, "", "Lax", Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; plinth_session=plt_x; b="),
        );
        assert_eq!(get(&headers, SESSION), Some("plt_x"));
        assert_eq!(get(&headers, "a"), Some("1"));
        assert_eq!(get(&headers, "b"), None);
        assert_eq!(get(&headers, FLASH), None);
    }

    #[test]
    fn secure_only_over_https() {
        let mut headers = HeaderMap::new();
        assert!(
            !set(&headers, SESSION, "v", "Lax", None)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let cookie = set(&headers, SESSION, "v", "Lax", Some(5));
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Lax") && cookie.contains("Max-Age=5"));
    }
}
