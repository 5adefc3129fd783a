#![doc = include_str!("../README.md")]

mod audit;
pub mod cursor;
mod device;
mod handle;
mod profile;
mod role;
mod token;

pub use audit::{
    ActionFilter, AuditAction, AuditFilter, AuditFilterInput, ChainedFields, GENESIS_HASH,
};
pub use device::{DeviceCode, UserCode};
pub use handle::{DnsName, Handle, RESERVED_HANDLES, WorkspaceHandle};
pub use profile::{AvatarUrl, DisplayName, Email, Password};
pub use role::{OrgPermission, OrgRole, WorkspaceRole};
pub use token::{TokenHash, TokenKind, TokenParseError, TokenSecret};

/// A value that failed validation. The message is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
