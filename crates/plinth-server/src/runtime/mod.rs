//! The runtime plumbing under every feature: settings, shared state, caches and their
//! invalidation across replicas, metrics, token-use batching, and the server's start and
//! shutdown.

pub mod cache;
pub mod config;
pub mod connections;
pub mod forwarded;
pub mod invalidate;
pub mod last_used;
pub mod metrics;
pub mod server;
pub mod state;
