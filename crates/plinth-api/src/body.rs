//! Reading a JSON request body into one of this crate's request types, with an answer
//! that names the field at fault. The server turns [`BodyError`] into its problem
//! document (400 `validation` with the field, or 400 `bad-request`).

use serde::de::DeserializeOwned;

/// Why a body is not the request it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    /// The JSON path of the field at fault (`title`, `members[2].role`); `None` when the
    /// body as a whole is wrong (not JSON, not an object, trailing characters).
    pub field: Option<String>,
    pub message: String,
}

/// Parses `bytes` as exactly one JSON value of type `T`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    // Every body is an object. serde would also read a struct from an array of its
    // fields in order (`[null, null]`), a form no client is told about.
    if bytes.trim_ascii_start().first() == Some(&b'[') {
        return Err(BodyError {
            field: None,
            message: "the body is not valid: it must be a JSON object".to_owned(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let message = clean_serde_message(&err.into_inner().to_string());
        if path == "." || path.is_empty() {
            BodyError {
                field: None,
                message: format!("the body is not valid: {message}"),
            }
        } else {
            BodyError {
                field: Some(path),
                message,
            }
        }
    })?;
    de.end().map_err(|_| BodyError {
        field: None,
        message: "the body has trailing characters after the JSON".to_owned(),
    })?;
    Ok(value)
}

/// serde's messages end with " at line 1 column 17", which says nothing to an API user
/// once the field is named.
fn clean_serde_message(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CreateOrgRequest;

    #[test]
    fn errors_name_the_field_or_the_body() {
        let err = parse_json::<CreateOrgRequest>(br#"{"handle": 5}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("handle"));
        assert!(!err.message.contains(" at line "), "{}", err.message);
        let err = parse_json::<CreateOrgRequest>(b"[").unwrap_err();
        assert_eq!(err.field, None);
        let err = parse_json::<CreateOrgRequest>(br#" ["acme", null, null]"#).unwrap_err();
        assert_eq!(
            err.message,
            "the body is not valid: it must be a JSON object"
        );
        let err = parse_json::<CreateOrgRequest>(br#"{"handle": "acme"} {}"#).unwrap_err();
        assert_eq!(
            err.message,
            "the body has trailing characters after the JSON"
        );
    }
}
