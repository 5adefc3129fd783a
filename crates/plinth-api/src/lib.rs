#![doc = include_str!("../README.md")]

mod account;
mod audit;
pub mod body;
mod common;
mod device;
mod invitations;
mod members;
mod orgs;
mod tokens;
mod usage;
mod workspaces;

pub use account::*;
pub use audit::*;
pub use common::*;
pub use device::*;
pub use invitations::*;
pub use members::*;
pub use orgs::*;
pub use tokens::*;
pub use usage::*;
pub use workspaces::*;
