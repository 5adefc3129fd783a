//! The storage API on both backends: users, tokens, the audit log and the invalidation log.

mod audit;
mod common;
mod invalidations;
mod tokens;
mod users;
