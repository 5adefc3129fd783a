#![doc = include_str!("../README.md")]

mod error;
mod migrate;
mod notify;
mod store;
mod tokens;
mod usage;
mod users;

#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

pub use error::{ConflictOn, StoreError};
pub use migrate::{MIGRATIONS, Migration};
pub use notify::INVALIDATION_CHANNEL;
pub use sqlx::postgres::PgListener;
pub use store::{Backend, Store, WriteTx, micros_to_time, new_id, time_to_micros};
pub use tokens::{NewToken, TokenPage, TokenRecord, TokenStatus, TokenUpdate};
pub use usage::{UsageKey, UsageKind, UsageRow};
pub use users::{NewUser, UserRecord, UserUpdate};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
