//! Server-rendered pages that work without JavaScript. Today: `/device`, where a person
//! approves a CLI login. Every form carries a CSRF token (double-submit: a random value
//! in a `SameSite=Strict`, `HttpOnly` cookie and in a hidden field, compared on POST).

pub mod device;

use axum::http::{HeaderMap, HeaderValue, header};
use rand::RngExt;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The shell of every page: `title` is text, `body` is trusted HTML (escape what goes in).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Plinth</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}}\
         label{{display:block;margin:.8rem 0 .2rem}}input{{font:inherit;width:100%;padding:.4rem;box-sizing:border-box}}\
         button{{font:inherit;padding:.4rem 1rem;margin:1rem .5rem 0 0}}code{{font-family:ui-monospace,monospace}}\
         .error{{color:#b3261e}}</style></head><body>{body}</body></html>",
        title = esc(title),
    )
}

pub const CSRF_COOKIE: &str = "plinth_csrf";

/// A fresh CSRF token: 32 base62 characters.
pub fn new_csrf_token() -> String {
    const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// The `Set-Cookie` value that hands `token` to the browser for forms under `path`.
pub fn csrf_cookie(token: &str, path: &str, headers: &HeaderMap) -> HeaderValue {
    let secure = if crate::api::extract::request_scheme(headers) == "https" {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={token}; Path={path}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("base62 token and a static path make a valid header")
}

/// Whether the form's CSRF field matches the cookie the page set (in constant time).
pub fn csrf_ok(headers: &HeaderMap, form_token: &str) -> bool {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CSRF_COOKIE)
        .map(|(_, value)| value);
    match cookie {
        Some(cookie) if !cookie.is_empty() && cookie.len() == form_token.len() => {
            cookie
                .bytes()
                .zip(form_token.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_needs_the_cookie_and_the_same_value() {
        let token = new_csrf_token();
        let mut headers = HeaderMap::new();
        assert!(!csrf_ok(&headers, &token));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {CSRF_COOKIE}={token}")).unwrap(),
        );
        assert!(csrf_ok(&headers, &token));
        assert!(!csrf_ok(&headers, &new_csrf_token()));
        assert!(!csrf_ok(&headers, ""));
        assert!(!csrf_ok(&headers, &token[1..]));
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
