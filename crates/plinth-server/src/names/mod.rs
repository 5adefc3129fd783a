//! Live workspace names: the in-memory directory of `{org}-{ws}` names, the
//! authoritative DNS server that answers from it, and the workspace-host pages.

pub mod directory;
pub mod dns;
pub mod workspace_host;
