//! Every JSON request body the API takes, read by the same function as the server's
//! body extractor: never a panic, and every refusal is either about the body as a whole
//! or names a field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_api::body::{BodyError, parse_json};
use plinth_api::*;

fn check<T: serde::de::DeserializeOwned>(body: &[u8]) {
    if let Err(BodyError { field, message }) = parse_json::<T>(body) {
        assert!(!message.is_empty());
        assert!(!message.contains(" at line "), "{message}");
        if let Some(field) = field {
            assert!(!field.is_empty() && field != ".");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % 15 {
        0 => check::<InviteMemberRequest>(body),
        1 => check::<UpdateMemberRequest>(body),
        2 => check::<SignupRequest>(body),
        3 => check::<LoginRequest>(body),
        4 => check::<UpdateUserRequest>(body),
        5 => check::<CreateTokenRequest>(body),
        6 => check::<UpdateTokenRequest>(body),
        7 => check::<CreateWorkspaceRequest>(body),
        8 => check::<UpdateWorkspaceRequest>(body),
        9 => check::<AddWorkspaceMemberRequest>(body),
        10 => check::<UpdateWorkspaceMemberRequest>(body),
        11 => check::<CreateOrgRequest>(body),
        12 => check::<UpdateOrgRequest>(body),
        13 => check::<ChangeHandleRequest>(body),
        _ => check::<DeviceDecisionRequest>(body),
    }
});
