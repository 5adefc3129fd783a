#![doc = include_str!("../README.md")]

mod account;
mod audit;
mod common;
mod device;
mod orgs;
mod tokens;
mod usage;

pub use account::*;
pub use audit::*;
pub use common::*;
pub use device::*;
pub use orgs::*;
pub use tokens::*;
pub use usage::*;
