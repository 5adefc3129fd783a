//! Shared by the console's browser tests.

pub mod browser;
