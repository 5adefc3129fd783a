//! The one service layer under the API and the console: each function checks the
//! permission, runs the transaction, updates caches, and returns domain records.
//!
//! Every mutating function runs exactly one `WriteTx`, so its audit entry can be written
//! inside the same transaction as the change.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod device;
pub mod members;
pub mod orgs;
pub mod sessions;
pub mod tokens;
pub mod usage;
pub mod workspaces;
