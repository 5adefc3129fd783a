//! The DNS server for `settings.base_domain`: [`plinth_dns`] answering from the
//! in-memory [`crate::names::directory::WorkspaceDirectory`], metered and counted.

use std::net::SocketAddr;

use plinth_dns::{Found, Names, ResponseCode, Zone, ZoneHandler};
use prometheus_client::metrics::counter::Counter;

use crate::names::directory::Lookup;
use crate::runtime::metrics::DnsLabels;
use crate::runtime::state::AppState;

pub use plinth_dns::probe;

pub type DnsServer = plinth_dns::DnsServer<DirectoryNames>;

/// Starts the DNS server on `addr` (UDP and TCP) over `state`'s name directory.
pub async fn start(state: AppState, addr: SocketAddr) -> std::io::Result<DnsServer> {
    let zone = Zone {
        base_domain: state.settings.base_domain.clone(),
        workspace_address: state.settings.workspace_address,
    };
    let handler = ZoneHandler::new(&zone, DirectoryNames::new(state))?;
    DnsServer::start(handler, addr).await
}

/// The directory as the zone's names.
pub struct DirectoryNames {
    state: AppState,
    /// `plinth_dns_queries_total` by response code, looked up once: a query only bumps
    /// an atomic.
    counters: [Counter; 6],
}

const RCODES: [&str; 6] = [
    "NOERROR", "NXDOMAIN", "REFUSED", "NOTIMP", "FORMERR", "other",
];

impl DirectoryNames {
    fn new(state: AppState) -> Self {
        let counters = RCODES.map(|rcode| {
            state
                .metrics
                .dns_queries
                .get_or_create(&DnsLabels { rcode })
                .clone()
        });
        Self { state, counters }
    }
}

impl Names for DirectoryNames {
    fn lookup(&self, label: &str) -> Option<Found> {
        let now = self.state.now();
        let found = self
            .state
            .directory
            .lookup(label, plinth_store::time_to_micros(now))?;
        let (entry, found) = match found {
            Lookup::Live(entry) => (entry, Found::Live),
            Lookup::Renamed(entry) => {
                let label = entry.label();
                (entry, Found::Renamed { label })
            }
        };
        // Answered for this org's name: counted in the entry itself.
        self.state
            .usage
            .count_in(&entry, crate::usage::meter::DNS_QUERIES, now);
        Some(found)
    }

    fn serial(&self) -> u32 {
        // The directory's generation changes with every name, so secondaries (if any)
        // see a new serial whenever the zone changes.
        (self.state.directory.generation() % u64::from(u32::MAX)) as u32
    }

    fn answered(&self, code: ResponseCode) {
        let index = match code {
            ResponseCode::NoError => 0,
            ResponseCode::NXDomain => 1,
            ResponseCode::Refused => 2,
            ResponseCode::NotImp => 3,
            ResponseCode::FormErr => 4,
            _ => 5,
        };
        self.counters[index].inc();
    }
}
