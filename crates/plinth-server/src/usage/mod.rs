//! Usage metering: counters kept in memory on the request path ([`meter`]) and the
//! background tasks that flush them and take the daily snapshots ([`tasks`]). The report
//! is a service (`service::usage`).

pub mod meter;
pub mod tasks;
