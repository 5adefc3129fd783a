//! Bearer tokens: `{prefix}{30 base62 random chars}{6 base62 chars of CRC32 of the rest}`.
//!
//! The checksum lets the server (and secret scanners) reject garbage without a database
//! look-up. Only the SHA-256 of the whole token is ever stored.

use std::fmt;

use rand::RngExt;
use sha2::{Digest, Sha256};

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 30;
const CHECKSUM_LEN: usize = 6;
const PREFIX_LEN: usize = 4;
/// Length of every token, whatever its kind.
pub const TOKEN_LEN: usize = PREFIX_LEN + RANDOM_LEN + CHECKSUM_LEN;

/// What a token was issued as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Issued by a console or CLI login; `plt_`.
    Temporary,
    /// Created by the user for API use; `plu_`.
    User,
}

impl TokenKind {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Temporary => "plt_",
            Self::User => "plu_",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Temporary => "temporary",
            Self::User => "user",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        match s {
            "temporary" => Some(Self::Temporary),
            "user" => Some(Self::User),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenParseError {
    #[error("the token has an unknown prefix")]
    Prefix,
    #[error("the token has the wrong length or characters")]
    Shape,
    #[error("the token's checksum does not match")]
    Checksum,
}

/// A token's secret value. `Debug` and `Display` never print it; use [`TokenSecret::expose`]
/// exactly where it must leave the process (the one answer that shows it).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret {
    value: String,
    kind: TokenKind,
}

impl TokenSecret {
    pub fn generate(kind: TokenKind) -> Self {
        let mut rng = rand::rng();
        let mut value = String::with_capacity(TOKEN_LEN);
        value.push_str(kind.prefix());
        for _ in 0..RANDOM_LEN {
            value.push(BASE62[rng.random_range(0..62)] as char);
        }
        let checksum = base62_fixed(crc32fast::hash(value.as_bytes()));
        value.push_str(&checksum);
        Self { value, kind }
    }

    /// Checks prefix, shape and checksum, all without I/O.
    pub fn parse(input: &str) -> Result<Self, TokenParseError> {
        let kind = if input.starts_with(TokenKind::Temporary.prefix()) {
            TokenKind::Temporary
        } else if input.starts_with(TokenKind::User.prefix()) {
            TokenKind::User
        } else {
            return Err(TokenParseError::Prefix);
        };
        if input.len() != TOKEN_LEN
            || !input[PREFIX_LEN..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        {
            return Err(TokenParseError::Shape);
        }
        let (body, checksum) = input.split_at(TOKEN_LEN - CHECKSUM_LEN);
        if base62_fixed(crc32fast::hash(body.as_bytes())) != checksum {
            return Err(TokenParseError::Checksum);
        }
        Ok(Self {
            value: input.to_owned(),
            kind,
        })
    }

    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.value.as_bytes()).into())
    }

    /// The last four characters, shown in lists so people can tell tokens apart.
    pub fn last4(&self) -> String {
        self.value[TOKEN_LEN - 4..].to_owned()
    }

    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSecret({}[redacted])", self.kind.prefix())
    }
}

/// SHA-256 of a token: the only form the database and the caches hold.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to correlate in a debugger; the hash is not a secret,
        // but there is no reason to spread it either.
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

fn base62_fixed(mut n: u32) -> String {
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_tokens_parse_back() {
        for kind in [TokenKind::Temporary, TokenKind::User] {
            let token = TokenSecret::generate(kind);
            assert_eq!(token.expose().len(), TOKEN_LEN);
            assert!(token.expose().starts_with(kind.prefix()));
            let parsed = TokenSecret::parse(token.expose()).unwrap();
            assert_eq!(parsed.kind(), kind);
            assert_eq!(parsed.hash(), token.hash());
        }
    }

    #[test]
    fn debug_is_redacted() {
        let token = TokenSecret::generate(TokenKind::User);
        let printed = format!("{token:?}");
        assert!(!printed.contains(&token.expose()[4..]), "{printed}");
    }

    #[test]
    fn rejects_garbage() {
        let token = TokenSecret::generate(TokenKind::User);
        assert_eq!(TokenSecret::parse("hello"), Err(TokenParseError::Prefix));
        assert_eq!(TokenSecret::parse("plu_short"), Err(TokenParseError::Shape));
        let mut flipped = token.expose().to_owned();
        let c = if flipped.as_bytes()[10] == b'a' {
            "b"
        } else {
            "a"
        };
        flipped.replace_range(10..11, c);
        assert_eq!(TokenSecret::parse(&flipped), Err(TokenParseError::Checksum));
        let non_ascii = format!("plu_{}", "é".repeat(18));
        assert!(TokenSecret::parse(&non_ascii).is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,50}") {
            let _ = TokenSecret::parse(&s);
        }

        #[test]
        fn any_single_change_is_caught(pos in 4usize..TOKEN_LEN, c in "[0-9A-Za-z]") {
            let token = TokenSecret::generate(TokenKind::Temporary);
            let mut changed = token.expose().to_owned();
            changed.replace_range(pos..pos + 1, &c);
            prop_assume!(changed != token.expose());
            prop_assert!(TokenSecret::parse(&changed).is_err());
        }
    }
}
