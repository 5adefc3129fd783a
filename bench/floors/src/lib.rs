//! Floors for `bench/run`: each binary does only the part of a Plinth figure that no
//! server can avoid, on the same runtime and the same cores, so a ratio to it says how
//! much the server adds.
//!
//! - `floor-http`: bare axum answering `hello` (the warm read's floor).
//! - `floor-dns`: bare hickory-server handler answering A records from an in-memory map.
//! - `floor-argon2`: argon2id with Plinth's parameters on one thread per core.
