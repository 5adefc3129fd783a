#![doc = include_str!("../README.md")]

mod account;
mod common;
mod tokens;
mod usage;

pub use account::*;
pub use common::*;
pub use tokens::*;
pub use usage::*;
