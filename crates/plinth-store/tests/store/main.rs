//! The storage API on both backends: users, tokens and the audit log.

mod audit;
mod common;
mod tokens;
mod users;
