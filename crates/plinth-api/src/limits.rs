//! The limits the server enforces on request fields, stated as JSON Schema so that a
//! generated client, a form, or a schema-driven test knows exactly what is accepted: a
//! value matches its schema if and only if the server accepts it (then it may still be
//! taken, reserved or unknown, which the schema cannot say).
//!
//! The rules themselves are plinth-core's `parse()` constructors and the services; the
//! patterns here restate them. Several rules trim the input first (Rust's `str::trim`,
//! Unicode White_Space), so the patterns allow [`WS`] around the value.

use serde::{Deserialize, Deserializer};
use utoipa::openapi::schema::{AnyOf, AnyOfBuilder, Object, ObjectBuilder, SchemaType, Type};

/// Unicode White_Space (what `str::trim` removes and `char::is_whitespace` names), as
/// (first, last) code points.
pub const WS_RANGES: &[(u32, u32)] = &[
    (0x9, 0xd),
    (0x20, 0x20),
    (0x85, 0x85),
    (0xa0, 0xa0),
    (0x1680, 0x1680),
    (0x2000, 0x200a),
    (0x2028, 0x2029),
    (0x202f, 0x202f),
    (0x205f, 0x205f),
    (0x3000, 0x3000),
];

/// Control characters (Cc, `char::is_control`).
pub const CC_RANGES: &[(u32, u32)] = &[(0x0, 0x1f), (0x7f, 0x9f)];

/// Format characters (Cf) as Unicode 18 lists them (the `unicode-properties` tables
/// plinth-core's `DisplayName` checks against).
pub const CF_RANGES: &[(u32, u32)] = &[
    (0xad, 0xad),
    (0x600, 0x605),
    (0x61c, 0x61c),
    (0x6dd, 0x6dd),
    (0x70f, 0x70f),
    (0x890, 0x891),
    (0x8e2, 0x8e2),
    (0x180e, 0x180e),
    (0x200b, 0x200f),
    (0x202a, 0x202e),
    (0x2060, 0x2064),
    (0x2066, 0x206f),
    (0xfeff, 0xfeff),
    (0xfff9, 0xfffb),
    (0x110bd, 0x110bd),
    (0x110cd, 0x110cd),
    (0x13430, 0x1343f),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0001, 0xe0001),
    (0xe0020, 0xe007f),
];

/// `ranges` as the body of a regex character class: `\uXXXX` escapes in the BMP, the
/// characters themselves beyond it (no escape names those in every regex dialect).
fn class(ranges: &[(u32, u32)]) -> String {
    let one = |c: u32| match char::from_u32(c) {
        Some(ch) if c > 0xffff => ch.to_string(),
        _ => format!("\\u{c:04x}"),
    };
    ranges
        .iter()
        .map(|&(first, last)| {
            if first == last {
                one(first)
            } else {
                format!("{}-{}", one(first), one(last))
            }
        })
        .collect()
}

/// [`WS_RANGES`] as a regex class body.
pub fn ws() -> String {
    class(WS_RANGES)
}

fn cc() -> String {
    class(CC_RANGES)
}

fn cf() -> String {
    class(CF_RANGES)
}

fn string(nullable: bool) -> ObjectBuilder {
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new().schema_type(ty)
}

/// `^` WS* `body` WS* `$`: a value the server trims first.
fn trimmed(body: &str) -> String {
    let ws = ws();
    format!("^[{ws}]*{body}[{ws}]*$")
}

/// A user or org handle: 1–39 letters and digits with single inner hyphens; ASCII
/// letters are lowercased, so either case is accepted.
pub fn handle() -> Object {
    handle_builder(false).build()
}

fn handle_builder(nullable: bool) -> ObjectBuilder {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(39))
        .pattern(Some("^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$"))
        .description(Some(
            "1–39 letters, digits and single inner hyphens (`^[a-z0-9](?:-?[a-z0-9]){0,38}$` \
             once lowercased); users and orgs share one namespace; reserved words are refused",
        ))
}

/// A user's handle, when the field may be absent or null.
pub fn optional_handle() -> Object {
    handle_builder(true).build()
}

/// A workspace handle: 1–23 letters and digits, no hyphen.
pub fn workspace_handle() -> Object {
    workspace_handle_builder(false)
}

/// A workspace handle, when the field may be absent or null (a PATCH).
pub fn optional_workspace_handle() -> Object {
    workspace_handle_builder(true)
}

fn workspace_handle_builder(nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(23))
        .pattern(Some("^[A-Za-z0-9]{1,23}$"))
        .description(Some(
            "1–23 letters and digits, no hyphen (lowercased), so `{org}-{workspace}` splits \
             unambiguously",
        ))
        .build()
}

/// A display name: 1–100 characters once trimmed, no control or invisible formatting
/// characters (`plinth_core::DisplayName`).
pub fn display_name() -> Object {
    let ws = ws();
    let cc = cc();
    let cf = cf();
    let ok = format!("[^{ws}{cc}{cf}]");
    let inner = format!("[^{cc}{cf}]");
    string(true)
        .pattern(Some(trimmed(&format!("{ok}(?:{inner}{{0,98}}{ok})?"))))
        .description(Some(
            "1–100 characters once trimmed, without control or invisible formatting characters",
        ))
        .build()
}

/// An avatar URL: http or https with a host, at most 2048 characters once trimmed, no
/// spaces, controls, quotes or angle brackets; empty (or only spaces) clears it.
pub fn avatar_url() -> Object {
    let ws = ws();
    let cc = cc();
    let c = format!("[^{ws}{cc}\"<>]");
    let host_start = format!("[^{ws}{cc}\"<>/?#:@]");
    string(true)
        .pattern(Some(trimmed(&format!(
            "(?:[Hh][Tt][Tt][Pp][Ss]?://{host_start}{c}{{0,2039}})?"
        ))))
        .description(Some(
            "An http or https URL with a host, at most 2048 characters; empty clears it",
        ))
        .build()
}

/// An email address (`plinth_core::Email`): one `@`, a dotted domain, no spaces.
pub fn email() -> Object {
    email_builder(false).build()
}

fn email_builder(nullable: bool) -> ObjectBuilder {
    let ws = ws();
    let cc = cc();
    let c = format!("[^{ws}{cc}@]");
    let d = format!("[^{ws}{cc}@.]");
    string(nullable)
        .max_length(Some(254))
        .pattern(Some(trimmed(&format!("{c}+@(?:{d}+\\.)+{d}+"))))
        .description(Some(
            "An email address (one `@`, a dotted domain), at most 254 characters; lowercased",
        ))
}

/// An email address, when the field may be absent or null.
pub fn optional_email() -> Object {
    email_builder(true).build()
}

/// A new password: at least 8 characters, at most 1024 bytes.
pub fn new_password() -> Object {
    string(false)
        .min_length(Some(8))
        .max_length(Some(1024))
        .description(Some("At least 8 characters (at most 1024 bytes)"))
        .build()
}

/// A password to check: at most 1024 bytes.
pub fn password() -> Object {
    string(false)
        .max_length(Some(1024))
        .description(Some("At most 1024 bytes"))
        .build()
}

/// A handle or an email, as typed at login: not blank, at most 254 characters.
pub fn login() -> Object {
    let ws = ws();
    string(false)
        .max_length(Some(254))
        .pattern(Some(format!("[^{ws}]")))
        .description(Some("A handle or an email"))
        .build()
}

/// A handle or an email naming an existing user (`user` of an invitation or a workspace
/// member).
pub fn user_ref() -> utoipa::openapi::Schema {
    let any_of: AnyOf = AnyOfBuilder::new()
        .item(handle())
        .item(email())
        .description(Some(
            "The user's handle or email; they must already have an account",
        ))
        .build();
    utoipa::openapi::Schema::AnyOf(any_of)
}

/// A token title: 1–100 characters once trimmed, no control characters.
pub fn token_title() -> Object {
    token_title_builder(false).build()
}

fn token_title_builder(nullable: bool) -> ObjectBuilder {
    let ws = ws();
    let cc = cc();
    let ok = format!("[^{ws}{cc}]");
    let inner = format!("[^{cc}]");
    string(nullable)
        .pattern(Some(trimmed(&format!("{ok}(?:{inner}{{0,98}}{ok})?"))))
        .description(Some(
            "1–100 characters once trimmed, without control characters",
        ))
}

/// A token title, when the field may be absent or null.
pub fn optional_token_title() -> Object {
    token_title_builder(true).build()
}

/// A token description: at most 1000 characters once trimmed; empty clears it.
pub fn token_description() -> Object {
    let ws = ws();
    string(true)
        .pattern(Some(trimmed(&format!(
            "(?:[^{ws}](?:[\\s\\S]{{0,998}}[^{ws}])?)?"
        ))))
        .description(Some(
            "At most 1000 characters once trimmed; an empty string clears it",
        ))
        .build()
}

/// `?limit=`: 1–100.
pub fn page_limit() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .minimum(Some(1))
        .maximum(Some(100))
        .description(Some("1–100, default 25"))
        .build()
}

/// An RFC 3339 instant (`2026-11-28T12:00:00Z`), surrounding spaces ignored.
pub fn rfc3339() -> Object {
    string(false)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::DateTime,
        )))
        .description(Some("An RFC 3339 time such as `2026-11-28T12:00:00Z`"))
        .build()
}

/// A calendar day, `YYYY-MM-DD`.
pub fn day() -> Object {
    string(false)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Date,
        )))
        .description(Some("A day as `YYYY-MM-DD` (UTC)"))
        .build()
}

/// One of `values`, exactly (a query parameter).
pub fn one_of(values: &[&str], description: &str) -> Object {
    string(false)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}

/// An optional whole number, `12.0` included: JSON Schema's `integer` counts it as one,
/// so the server reads it as one too.
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
            .map(|f| f as u64)
    });
    whole
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| {
            serde::de::Error::custom(format!("must be a whole number of days, not {number}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
        ranges
            .iter()
            .any(|&(first, last)| (first..=last).contains(&u32::from(c)))
    }

    fn every_char() -> impl Iterator<Item = char> {
        (0..=0x10_ffff).filter_map(char::from_u32)
    }

    #[test]
    fn the_classes_are_the_rules_they_restate() {
        for c in every_char() {
            assert_eq!(
                in_ranges(WS_RANGES, c),
                c.is_whitespace(),
                "U+{:04X}",
                u32::from(c)
            );
            assert_eq!(
                in_ranges(CC_RANGES, c),
                c.is_control(),
                "U+{:04X}",
                u32::from(c)
            );
            // Inside a display name only control and format characters are refused.
            let refused = plinth_core::DisplayName::parse(&format!("a{c}b")).is_err();
            assert_eq!(
                refused,
                in_ranges(CC_RANGES, c) || in_ranges(CF_RANGES, c),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn a_class_escapes_the_bmp_and_spells_out_the_rest() {
        assert_eq!(class(&[(0x9, 0xd), (0x20, 0x20)]), "\\u0009-\\u000d\\u0020");
        assert_eq!(class(&[(0xe0001, 0xe0001)]), "\u{e0001}");
    }

    #[test]
    fn whole_numbers_of_days() {
        let days = |body: &str| {
            serde_json::from_str::<crate::CreateTokenRequest>(body).map(|r| r.expires_in_days)
        };
        assert_eq!(days(r#"{"title": "t"}"#).unwrap(), None);
        assert_eq!(
            days(r#"{"title": "t", "expires_in_days": null}"#).unwrap(),
            None
        );
        assert_eq!(
            days(r#"{"title": "t", "expires_in_days": 12}"#).unwrap(),
            Some(12)
        );
        assert_eq!(
            days(r#"{"title": "t", "expires_in_days": 12.0}"#).unwrap(),
            Some(12)
        );
        for bad in ["12.5", "-1", "\"12\"", "1e10"] {
            let body = format!(r#"{{"title": "t", "expires_in_days": {bad}}}"#);
            assert!(days(&body).is_err(), "{bad}");
        }
    }
}
