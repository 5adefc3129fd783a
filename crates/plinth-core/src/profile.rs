use std::fmt;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::Invalid;

/// An email address, trimmed and lowercased. Deliberately permissive: one `@`, a
/// non-empty local part, a dotted domain, no whitespace, at most 254 characters (counted
/// as characters, as JSON Schema's `maxLength` counts them, so the API document can say it).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if email.chars().count() > 254 {
            return Err(Invalid::new("must be at most 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(Invalid::new("must be an email address"));
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty()
            || !domain_ok
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Invalid::new("must be an email address"));
        }
        Ok(Self(email))
    }

    pub fn from_trusted(email: String) -> Self {
        Self(email)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name: trimmed, 1–100 characters, no control characters (Cc) and no format
/// characters (Cf): bidi overrides and zero-width characters would let a name read as
/// something else (`"\u{202e}gnp.exe"` shows as `exe.png`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let name = input.trim();
        if name.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::new(format!(
                "must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(Invalid::new("must not contain control characters"));
        }
        if let Some(c) = name
            .chars()
            .find(|c| c.general_category() == GeneralCategory::Format)
        {
            return Err(Invalid::new(format!(
                "must not contain invisible formatting characters (found U+{:04X})",
                u32::from(c)
            )));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An avatar URL: `http` or `https`, with a host, at most 2048 characters. The empty
/// string means "no avatar" and parses to `None`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(input: &str) -> Result<Option<Self>, Invalid> {
        let url = input.trim();
        if url.is_empty() {
            return Ok(None);
        }
        if url.chars().count() > Self::MAX_LEN {
            return Err(Invalid::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(|| Invalid::new("must be an http or https URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || host.starts_with(':') || host.starts_with('@') {
            return Err(Invalid::new("must be an http or https URL with a host"));
        }
        if url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
        {
            return Err(Invalid::new(
                "must not contain spaces, quotes or angle brackets",
            ));
        }
        Ok(Some(Self(url.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A password as typed. Its `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    /// Long enough for any passphrase, short enough that hashing it costs nothing extra.
    pub const MAX_BYTES: usize = 1024;

    /// Validates a new password (signup, change).
    pub fn parse_new(input: &str) -> Result<Self, Invalid> {
        if input.chars().count() < Self::MIN_CHARS {
            return Err(Invalid::new(format!(
                "must be at least {} characters",
                Self::MIN_CHARS
            )));
        }
        Self::parse_attempt(input)
    }

    /// Accepts any password offered at login, only bounding its size.
    pub fn parse_attempt(input: &str) -> Result<Self, Invalid> {
        if input.len() > Self::MAX_BYTES {
            return Err(Invalid::new(format!(
                "must be at most {} bytes",
                Self::MAX_BYTES
            )));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "", "ann", "@x.io", "ann@", "ann@x", "a b@x.io", "a@@x.io", "a@x..io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn avatar_urls() {
        assert_eq!(AvatarUrl::parse("").unwrap(), None);
        assert!(
            AvatarUrl::parse("https://img.example/a.png")
                .unwrap()
                .is_some()
        );
        for bad in [
            "javascript:alert(1)",
            "ftp://x/a",
            "https://",
            "http:///x",
            "https://a b",
        ] {
            assert!(AvatarUrl::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://x.io/{}", "a".repeat(2048));
        assert!(AvatarUrl::parse(&long).is_err());
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse("  Ann  ").unwrap().as_str(), "Ann");
        assert!(DisplayName::parse(" ").is_err());
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(101)).is_err());
        assert!(DisplayName::parse("Zoë 株式会社 🚀").is_ok());
    }

    #[test]
    fn display_names_refuse_invisible_formatting() {
        // Bidi override, zero-width space/joiner, word joiner, BOM, soft hyphen, tag.
        for c in [
            '\u{202e}',
            '\u{200b}',
            '\u{200d}',
            '\u{2060}',
            '\u{feff}',
            '\u{ad}',
            '\u{e0041}',
        ] {
            let err = DisplayName::parse(&format!("gnp{c}.exe")).unwrap_err();
            assert!(err.0.contains("invisible"), "{c:?}: {}", err.0);
        }
        assert!(DisplayName::parse("tab\there").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        let p = Password::parse_new("correct horse").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
        assert!(Password::parse_new("short").is_err());
    }
}
