//! Bearer tokens and device-flow codes: parsing never panics, and whatever parses
//! keeps its kind and hash when read again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_core::{DeviceCode, TokenSecret, UserCode};

fuzz_target!(|input: &str| {
    if let Ok(token) = TokenSecret::parse(input) {
        let again = TokenSecret::parse(token.expose()).expect("a parsed token parses again");
        assert_eq!(again.kind(), token.kind());
        assert_eq!(again.hash(), token.hash());
    }
    if let Ok(code) = UserCode::parse(input) {
        assert_eq!(UserCode::parse(&code.display()).as_ref(), Ok(&code));
    }
    if let Some(code) = DeviceCode::parse(input) {
        assert_eq!(code.expose(), input);
    }
});
