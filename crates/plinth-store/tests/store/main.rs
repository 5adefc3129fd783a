//! The storage API on both backends: users and tokens.

mod common;
mod tokens;
mod users;
