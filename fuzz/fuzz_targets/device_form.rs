//! The device flow's form-encoded OAuth requests (RFC 8628) as the server reads them:
//! decoding never panics, and the codes inside are only ever accepted in their shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_api::{DeviceCodeRequest, DeviceTokenRequest};
use plinth_core::{DeviceCode, UserCode};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = serde_urlencoded::from_bytes::<DeviceTokenRequest>(data)
        && let Some(code) = DeviceCode::parse(&req.device_code)
    {
        assert_eq!(code.expose().len(), 43);
        assert!(code.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    let _ = serde_urlencoded::from_bytes::<DeviceCodeRequest>(data);
    if let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) {
        for (_, value) in fields {
            if let Ok(code) = UserCode::parse(&value) {
                assert_eq!(code.as_str().len(), 8);
            }
        }
    }
});
