#![doc = include_str!("../README.md")]

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod console;
pub mod error;
pub mod names;
pub mod runtime;
pub mod service;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod usage;

pub use runtime::config::{Settings, SignupMode};
pub use runtime::server::{Running, start};
pub use runtime::state::AppState;
