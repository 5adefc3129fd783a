//! The one service layer under the API and the console: each function checks the
//! permission, runs the transaction, updates caches, and returns domain records.

pub mod accounts;
pub mod tokens;
pub mod usage;
