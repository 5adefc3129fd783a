#![doc = include_str!("../README.md")]

mod audit;
mod backup;
mod checkpoint;
mod deferred;
mod device;
mod error;
mod handles;
mod invalidations;
mod members;
mod migrate;
mod orgs;
mod page;
mod readers;
mod sql;
mod store;
mod tokens;
mod usage;
mod users;
mod workspaces;
mod writer;

#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use audit::{
    AuditPage, AuditQuery, AuditRecord, BrokenLink, ChainVerification, NewAuditEntry, org_chain,
    user_chain,
};
pub use backup::{sibling, sqlite_file_integrity, sqlite_in_use, sqlite_path};
pub use device::{DeviceGrantRecord, DeviceGrantStatus, NewDeviceGrant};
pub use error::{BoxError, ConflictOn, StoreError};
pub use handles::HandleRedirect;
pub use invalidations::{
    FeedRead, GAP_WAIT, INVALIDATION_CHANNEL, InvalidationFeed, LoggedInvalidation, MAX_REPLAY,
};
pub use members::{InvitationRecord, MemberRecord, MembershipRecord, MembershipStatus};
pub use migrate::{MIGRATIONS, Migration, MigrationPlan};
pub use orgs::{NewOrg, OrgRecord, OrgUpdate, UserOrg};
pub use page::Page;
pub use sqlx::postgres::PgListener;
pub use store::{Backend, Store, WriteTx, micros_to_time, new_id, time_to_micros};
pub use tokens::{NewToken, TokenOrigin, TokenPage, TokenRecord, TokenStatus, TokenUpdate};
pub use usage::{UsageKey, UsageKind, UsageRow};
pub use users::{NewUser, UserRecord, UserUpdate};
pub use workspaces::{WorkspaceMemberRecord, WorkspaceName, WorkspaceRecord};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
