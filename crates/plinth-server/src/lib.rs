#![doc = include_str!("../README.md")]

pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod config;
pub mod connections;
pub mod console;
pub mod directory;
pub mod dns;
pub mod error;
pub mod extract;
pub mod forwarded;
pub mod invalidate;
pub mod last_used;
pub mod metrics;
pub mod pagination;
pub mod server;
pub mod service;
pub mod state;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod usage;
pub mod views;
pub mod workspace_host;

pub use config::{Settings, SignupMode};
pub use server::{Running, start};
pub use state::AppState;
