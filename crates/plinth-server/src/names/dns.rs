//! The authoritative DNS server for `settings.base_domain`, over UDP and TCP.
//!
//! Every answer comes from [`crate::names::directory::WorkspaceDirectory`] in memory: a query
//! never reaches the database. Workspace names (`{org}-{ws}.{base}`) get A (or AAAA when
//! the workspace address is IPv6) pointing at `settings.workspace_address`; the apex
//! answers SOA and NS; other names in the zone NXDOMAIN with the SOA in the authority
//! section (so resolvers cache the negative answer briefly); names outside it REFUSED.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{
    Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode,
};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, NS, SOA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use tokio::net::{TcpListener, UdpSocket};

use crate::names::directory::Lookup;
use crate::runtime::state::AppState;

/// Short, because names appear and disappear with workspaces.
const TTL: u32 = 60;
/// How long a TCP client may sit idle before its connection is closed.
const TCP_TIMEOUT: Duration = Duration::from_secs(10);

/// What one query gets back.
struct Answer {
    code: ResponseCode,
    answers: Vec<Record>,
    /// NS records of the zone, for answers at the apex.
    authorities: Vec<Record>,
    /// The SOA, for negative answers.
    soa: Vec<Record>,
}

pub struct ZoneHandler {
    state: AppState,
    zone: LowerName,
    /// `.{base_domain}.`, for splitting off a name's first label.
    suffix: String,
    ns_name: Name,
    hostmaster: Name,
}

impl ZoneHandler {
    pub fn new(state: AppState) -> std::io::Result<Self> {
        let base = state
            .settings
            .base_domain
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let origin = Name::from_ascii(format!("{base}."))
            .map_err(|e| std::io::Error::other(format!("base domain {base:?}: {e}")))?;
        let ns_name = Name::from_ascii(format!("ns1.{base}."))
            .map_err(|e| std::io::Error::other(format!("base domain {base:?}: {e}")))?;
        let hostmaster = Name::from_ascii(format!("hostmaster.{base}."))
            .map_err(|e| std::io::Error::other(format!("base domain {base:?}: {e}")))?;
        Ok(Self {
            zone: LowerName::new(&origin),
            suffix: format!(".{base}."),
            ns_name,
            hostmaster,
            state,
        })
    }

    fn origin(&self) -> Name {
        Name::from(self.zone.clone())
    }

    fn soa(&self) -> Record {
        // The directory's generation changes with every name, so secondaries (if any)
        // see a new serial whenever the zone changes.
        let serial = (self.state.directory.generation() % u64::from(u32::MAX)) as u32;
        Record::from_rdata(
            self.origin(),
            TTL,
            RData::SOA(SOA::new(
                self.ns_name.clone(),
                self.hostmaster.clone(),
                serial,
                3600,
                600,
                86400,
                TTL,
            )),
        )
    }

    fn ns(&self) -> Record {
        Record::from_rdata(self.origin(), TTL, RData::NS(NS(self.ns_name.clone())))
    }

    /// The address record for `name`, if the workspace address has the asked-for family.
    fn address(&self, name: &Name, qtype: RecordType) -> Option<Record> {
        let data = match (self.state.settings.workspace_address, qtype) {
            (IpAddr::V4(ip), RecordType::A | RecordType::ANY) => RData::A(A(ip)),
            (IpAddr::V6(ip), RecordType::AAAA | RecordType::ANY) => RData::AAAA(AAAA(ip)),
            _ => return None,
        };
        Some(Record::from_rdata(name.clone(), TTL, data))
    }

    fn answer(&self, qname: &LowerName, qtype: RecordType) -> Answer {
        let mut out = Answer {
            code: ResponseCode::NoError,
            answers: Vec::new(),
            authorities: Vec::new(),
            soa: Vec::new(),
        };
        if !self.zone.zone_of(qname) {
            out.code = ResponseCode::Refused;
            return out;
        }
        let name = Name::from(qname.clone());
        if *qname == self.zone {
            match qtype {
                RecordType::SOA => out.answers.push(self.soa()),
                RecordType::NS => out.answers.push(self.ns()),
                RecordType::ANY => {
                    out.answers.push(self.soa());
                    out.answers.push(self.ns());
                }
                _ => out.soa.push(self.soa()),
            }
            return out;
        }
        let text = qname.to_string().to_ascii_lowercase();
        let text = if text.ends_with('.') {
            text
        } else {
            format!("{text}.")
        };
        let label = text.strip_suffix(&self.suffix).unwrap_or_default();
        let now = self.state.now();
        let found = (!label.contains('.'))
            .then(|| {
                self.state
                    .directory
                    .lookup(label, plinth_store::time_to_micros(now))
            })
            .flatten();
        let (entry, renamed) = match found {
            Some(Lookup::Live(entry)) => (Some(entry), false),
            Some(Lookup::Renamed(entry)) => (Some(entry), true),
            None => (None, false),
        };
        if let Some(entry) = &entry {
            // Answered for this org's name: metered in memory like every other count.
            self.state.usage.count(
                &entry.org_id,
                Some(&entry.workspace_id),
                crate::usage::meter::DNS_QUERIES,
                now,
            );
        }
        if entry.is_none() && label != "ns1" {
            out.code = ResponseCode::NXDomain;
            out.soa.push(self.soa());
            return out;
        }
        // An old name during a rename's grace period: a CNAME to the new name, and the
        // new name's address in the same answer (as resolvers expect of an authority).
        let name = match (&entry, renamed) {
            (Some(entry), true) => {
                let target = Name::from_ascii(format!("{}{}", entry.label(), self.suffix))
                    .unwrap_or_else(|_| self.origin());
                out.answers.push(Record::from_rdata(
                    name,
                    TTL,
                    RData::CNAME(CNAME(target.clone())),
                ));
                if qtype == RecordType::CNAME {
                    return out;
                }
                target
            }
            _ => name,
        };
        match self.address(&name, qtype) {
            Some(record) => out.answers.push(record),
            // The name exists but has no data of this type: NOERROR with the SOA.
            None if !renamed => out.soa.push(self.soa()),
            None => {}
        }
        out
    }
}

#[async_trait::async_trait]
impl RequestHandler for ZoneHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let mut builder = MessageResponseBuilder::from_message_request(request);
        let response_edns = request.edns.as_ref().map(|req| {
            let mut edns = Edns::new();
            edns.set_max_payload(req.max_payload().max(512));
            edns
        });
        if let Some(edns) = &response_edns {
            builder.edns(edns);
        }
        let is_query = request.metadata.message_type == MessageType::Query
            && request.metadata.op_code == OpCode::Query;
        let info = match request.request_info() {
            Ok(info) if is_query => info,
            Ok(_) => {
                let response = builder.error_msg(&request.metadata, ResponseCode::NotImp);
                return send(&mut response_handle, response, &request.metadata).await;
            }
            Err(_) => {
                let response = builder.error_msg(&request.metadata, ResponseCode::FormErr);
                return send(&mut response_handle, response, &request.metadata).await;
            }
        };
        let answer = self.answer(info.query.name(), info.query.query_type());
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = answer.code != ResponseCode::Refused;
        metadata.recursion_available = false;
        metadata.response_code = answer.code;
        let response = builder.build(
            metadata,
            answer.answers.iter(),
            answer.authorities.iter(),
            answer.soa.iter(),
            std::iter::empty(),
        );
        send(&mut response_handle, response, &request.metadata).await
    }
}

async fn send<'a, R: ResponseHandler>(
    handle: &mut R,
    response: hickory_server::zone_handler::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
    request: &Metadata,
) -> ResponseInfo {
    match handle.send_response(response).await {
        Ok(info) => info,
        Err(err) => {
            tracing::debug!(error = %err, "could not send a DNS answer");
            let mut metadata = Metadata::new(request.id, MessageType::Response, request.op_code);
            metadata.response_code = ResponseCode::ServFail;
            ResponseInfo::from(Header {
                metadata,
                counts: HeaderCounts::default(),
            })
        }
    }
}

/// A running DNS server and the addresses it is bound to.
pub struct DnsServer {
    pub udp_addr: SocketAddr,
    pub tcp_addr: SocketAddr,
    server: Server<ZoneHandler>,
}

impl DnsServer {
    /// Binds `addr` on UDP and TCP. With port 0 the UDP socket picks a free port and
    /// TCP tries the same one first, so both usually share it.
    pub async fn start(state: AppState, addr: SocketAddr) -> std::io::Result<Self> {
        let udp = UdpSocket::bind(addr).await?;
        let udp_addr = udp.local_addr()?;
        let tcp = if addr.port() == 0 {
            match TcpListener::bind(udp_addr).await {
                Ok(listener) => listener,
                Err(_) => TcpListener::bind(addr).await?,
            }
        } else {
            TcpListener::bind(addr).await?
        };
        let tcp_addr = tcp.local_addr()?;
        let mut server = Server::new(ZoneHandler::new(state)?);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_TIMEOUT, 64);
        Ok(Self {
            udp_addr,
            tcp_addr,
            server,
        })
    }

    pub async fn shutdown(mut self) {
        if let Err(err) = self.server.shutdown_gracefully().await {
            tracing::warn!(error = %err, "the DNS server stopped with an error");
        }
    }
}

/// Asks the DNS server at `addr` for the SOA of `zone` over UDP, as a resolver would:
/// `Ok` when it answers NOERROR within `timeout`. For `/readyz`. The query is written by
/// hand (header, one question): the probe must not share code with what it checks.
pub async fn probe(addr: SocketAddr, zone: &str, timeout: Duration) -> Result<(), String> {
    let target = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], addr.port())),
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    };
    let local: SocketAddr = match (target.is_ipv4(), target.ip().is_loopback()) {
        (true, true) => ([127, 0, 0, 1], 0).into(),
        (true, false) => ([0, 0, 0, 0], 0).into(),
        (false, true) => (std::net::Ipv6Addr::LOCALHOST, 0).into(),
        (false, false) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let id: u16 = {
        use rand::RngExt;
        rand::rng().random()
    };
    let mut query = Vec::with_capacity(32 + zone.len());
    query.extend_from_slice(&id.to_be_bytes());
    // Flags 0 (a standard query, no recursion wanted), one question, no other records.
    query.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in zone.trim_end_matches('.').split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|n| (1..64).contains(n))
            .ok_or_else(|| format!("{zone:?} is not a DNS name"))?;
        query.push(len);
        query.extend_from_slice(label.as_bytes());
    }
    // Root label, QTYPE SOA (6), QCLASS IN (1).
    query.extend_from_slice(&[0, 0, 6, 0, 1]);
    let exchange = async {
        let socket = UdpSocket::bind(local).await.map_err(|e| e.to_string())?;
        socket
            .send_to(&query, target)
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = [0u8; 512];
        loop {
            let (n, from) = socket
                .recv_from(&mut answer)
                .await
                .map_err(|e| e.to_string())?;
            // Anything else on the port is not our answer.
            if from != target || n < 12 || answer[..2] != id.to_be_bytes() {
                continue;
            }
            let is_response = answer[2] & 0x80 != 0;
            let rcode = answer[3] & 0x0f;
            return if is_response && rcode == 0 {
                Ok(())
            } else {
                Err(format!("answered with response code {rcode}"))
            };
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} ms", timeout.as_millis()))?
}

#[cfg(test)]
mod probe_tests {
    use std::time::Duration;

    use tokio::net::UdpSocket;

    /// A port where nothing answers, and a server that answers with an error code, both
    /// fail the probe.
    #[tokio::test]
    async fn silence_and_errors_fail() {
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let err = super::probe(addr, "plinth.localhost", Duration::from_millis(100))
            .await
            .expect_err("no answer");
        assert!(err.contains("no answer"), "{err}");

        let refusing = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = refusing.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = refusing.recv_from(&mut buf).await.unwrap();
            // The same id, QR set, RCODE 5 (REFUSED).
            buf[2] = 0x80;
            buf[3] = 0x05;
            refusing.send_to(&buf[..n], from).await.unwrap();
        });
        let err = super::probe(addr, "plinth.localhost", Duration::from_secs(5))
            .await
            .expect_err("refused");
        assert!(err.contains("response code 5"), "{err}");
        server.await.unwrap();
        assert!(
            super::probe(addr, "bad..name", Duration::from_secs(1))
                .await
                .is_err()
        );
    }
}
