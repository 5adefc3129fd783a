//! Keyset cursors: the position after which the next page starts, handed to clients as
//! opaque base64url text. A cursor carries nothing but a key the server already showed
//! the client (an id, or an audit entry's position in its chain), so decoding one needs
//! no secret; anything that is not a cursor this server made is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Invalid;

const NOT_OURS: &str = "is not a cursor this server issued";

/// A list's cursor: the last item's id.
pub fn encode_id(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

/// The id in a cursor from [`encode_id`]: 1–64 visible ASCII characters.
pub fn decode_id(cursor: &str) -> Result<String, Invalid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|id| !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| Invalid::new(NOT_OURS))
}

/// An audit page's cursor: the oldest position shown (the next page is before it).
pub fn encode_seq(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("a{seq}"))
}

/// The position in a cursor from [`encode_seq`]: a positive number.
pub fn decode_seq(cursor: &str) -> Result<i64, Invalid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix('a')?.parse::<i64>().ok())
        .filter(|seq| *seq > 0)
        .ok_or_else(|| Invalid::new(NOT_OURS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "!!",
            &URL_SAFE_NO_PAD.encode("a0"),
            &URL_SAFE_NO_PAD.encode("a-3"),
            &URL_SAFE_NO_PAD.encode("x5"),
        ] {
            assert!(decode_seq(bad).is_err(), "{bad}");
        }
        for bad in [
            "",
            "!!",
            &URL_SAFE_NO_PAD.encode("has space"),
            &encode_id(&"x".repeat(65)),
        ] {
            assert!(decode_id(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn ids_round_trip(id in "[!-~]{1,64}") {
            prop_assert_eq!(decode_id(&encode_id(&id)).unwrap(), id);
        }

        #[test]
        fn positions_round_trip(seq in 1i64..) {
            prop_assert_eq!(decode_seq(&encode_seq(seq)).unwrap(), seq);
        }

        #[test]
        fn decoding_never_panics(s in "\\PC{0,100}") {
            let _ = decode_id(&s);
            let _ = decode_seq(&s);
        }
    }
}
