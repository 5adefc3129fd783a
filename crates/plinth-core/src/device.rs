//! CLI logins by the OAuth 2.0 device authorization grant (RFC 8628): the code a person
//! types in the browser, and the secret the CLI polls with.

use std::fmt;

use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::{Invalid, TokenHash};

/// RFC 8628 §6.1: consonants only (no vowels, so no words), no look-alike digits.
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LEN: usize = 8;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 43 base62 characters: about 256 bits.
const DEVICE_CODE_LEN: usize = 43;

/// The short code a person types to approve a CLI login, shown as `WDJB-MJHT`.
/// 20^8 ≈ 2.6 × 10^10 values; it is only good for a few minutes and for one approval.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserCode(String);

impl UserCode {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        Self(
            (0..USER_CODE_LEN)
                .map(|_| USER_CODE_ALPHABET[rng.random_range(0..USER_CODE_ALPHABET.len())] as char)
                .collect(),
        )
    }

    /// Reads what a person typed: case, dashes and spaces do not matter.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let code: String = input
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.chars().count() != USER_CODE_LEN
            || !code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))
        {
            return Err(Invalid::new(
                "must be the 8-letter code the CLI shows, like WDJB-MJHT",
            ));
        }
        Ok(Self(code))
    }

    /// Stored form: eight letters, no dash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown form: `WDJB-MJHT`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

impl fmt::Debug for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserCode({})", self.display())
    }
}

/// The CLI's secret for one pending login. Only its SHA-256 is stored; `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceCode(String);

impl DeviceCode {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        Self(
            (0..DEVICE_CODE_LEN)
                .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
                .collect(),
        )
    }

    /// Checks the shape only (no I/O): anything else can't be a code this server issued.
    pub fn parse(input: &str) -> Option<Self> {
        (input.len() == DEVICE_CODE_LEN && input.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(input.to_owned()))
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceCode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_read_back_however_they_are_typed() {
        let code = UserCode::generate();
        let shown = code.display();
        assert_eq!(shown.len(), 9);
        assert_eq!(UserCode::parse(&shown).unwrap(), code);
        assert_eq!(UserCode::parse(&shown.to_lowercase()).unwrap(), code);
        assert_eq!(
            UserCode::parse(&format!(" {} ", code.as_str())).unwrap(),
            code
        );
    }

    #[test]
    fn user_codes_refuse_other_shapes() {
        for bad in [
            "",
            "WDJB-MJH",
            "WDJB-MJHTX",
            "WDJA-MJHT",
            "WDJB-MJH1",
            "ÄDJB-MJHT",
        ] {
            assert!(UserCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn device_codes_are_secret_in_debug_and_checked_by_shape() {
        let code = DeviceCode::generate();
        assert!(!format!("{code:?}").contains(code.expose()));
        assert_eq!(DeviceCode::parse(code.expose()), Some(code.clone()));
        assert_eq!(DeviceCode::parse(&code.expose()[1..]), None);
        assert_eq!(
            DeviceCode::parse(&format!("{}!", &code.expose()[1..])),
            None
        );
        assert_ne!(code.hash().0, DeviceCode::generate().hash().0);
    }
}
