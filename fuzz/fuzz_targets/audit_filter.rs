//! The audit log's filters and every cursor: parsing never panics, a refusal names one
//! of the filter fields, and a cursor that decodes encodes back to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_core::cursor;
use plinth_core::{AuditFilter, AuditFilterInput};

const FIELDS: [&str; 6] = ["action", "actor", "target", "since", "until", "cursor"];

fuzz_target!(|input: &str| {
    // Six fields separated by newlines; an empty field is a filter not given.
    let mut parts = input.splitn(6, '\n').map(|p| (!p.is_empty()).then_some(p));
    let mut next = || parts.next().flatten();
    let filters = AuditFilterInput {
        action: next(),
        actor: next(),
        target: next(),
        since: next(),
        until: next(),
        cursor: next(),
    };
    match AuditFilter::parse(&filters) {
        Ok(filter) => {
            if let Some(seq) = filter.before_seq {
                assert!(seq > 0);
            }
        }
        Err((field, _)) => assert!(FIELDS.contains(&field), "{field}"),
    }
    if let Ok(id) = cursor::decode_id(input) {
        assert_eq!(cursor::decode_id(&cursor::encode_id(&id)), Ok(id));
    }
    if let Ok(seq) = cursor::decode_seq(input) {
        assert_eq!(cursor::decode_seq(&cursor::encode_seq(seq)), Ok(seq));
    }
});
