#![doc = include_str!("../README.md")]

mod account;
mod common;
mod tokens;

pub use account::*;
pub use common::*;
pub use tokens::*;
