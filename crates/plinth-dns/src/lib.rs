//! The authoritative DNS zone for Plinth's base domain, over UDP and TCP.
//!
//! [`ZoneHandler`] turns one request into one answer from a [`Names`] lookup held in
//! memory (the server's name directory): a query never reaches a database. Workspace
//! names (`{org}-{ws}.{base}`) get A (or AAAA when the workspace address is IPv6); an old
//! name during a rename's grace period gets a CNAME to the new name plus its address; the
//! apex answers SOA and NS; other names in the zone NXDOMAIN with the SOA in the authority
//! section (so resolvers cache the negative answer briefly); names outside it REFUSED.
//!
//! This crate knows nothing of organizations or storage, so the fuzz workspace can feed
//! raw packets to the same handler the server runs (`fuzz/fuzz_targets/dns_request.rs`).

mod probe;
mod server;

use std::net::IpAddr;

use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, OpCode};
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, NS, SOA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;

pub use hickory_server::proto::op::ResponseCode;
pub use probe::probe;
pub use server::DnsServer;

/// Short, because names appear and disappear with workspaces.
pub const TTL: u32 = 60;

/// What the zone's names are: the server's directory, or a test's map.
pub trait Names: Send + Sync + Unpin + 'static {
    /// The name whose first label is `label` (lower case, one label of the zone).
    /// The server meters the query against the workspace it finds here.
    fn lookup(&self, label: &str) -> Option<Found>;
    /// The zone's SOA serial: it changes whenever a name does.
    fn serial(&self) -> u32;
    /// Called once per answered query, with its response code (for metrics).
    fn answered(&self, code: ResponseCode);
}

/// A fixed set of names, for tests and the fuzz target: label → what it is. Its serial
/// is 1 and it counts nothing.
#[derive(Debug, Clone, Default)]
pub struct FixedNames(pub std::collections::HashMap<String, Found>);

impl Names for FixedNames {
    fn lookup(&self, label: &str) -> Option<Found> {
        self.0.get(label).cloned()
    }
    fn serial(&self) -> u32 {
        1
    }
    fn answered(&self, _: ResponseCode) {}
}

/// A name of the zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A live workspace name.
    Live,
    /// An old name during its grace period: `label` is the workspace's current one.
    Renamed { label: String },
}

/// The zone's fixed parts, from the server's settings.
#[derive(Debug, Clone)]
pub struct Zone {
    /// The base domain, with or without the final dot, in any case.
    pub base_domain: String,
    /// Where every workspace name points.
    pub workspace_address: IpAddr,
}

/// What one query gets back.
#[derive(Debug, Default)]
pub struct Answer {
    pub code: ResponseCode,
    pub answers: Vec<Record>,
    /// NS records of the zone, for answers at the apex.
    pub authorities: Vec<Record>,
    /// The SOA, for negative answers.
    pub soa: Vec<Record>,
}

pub struct ZoneHandler<N> {
    names: N,
    zone: LowerName,
    /// `.{base_domain}.`, for naming a renamed workspace's current name.
    suffix: String,
    ns_name: Name,
    hostmaster: Name,
    workspace_address: IpAddr,
}

impl<N: Names> ZoneHandler<N> {
    pub fn new(zone: &Zone, names: N) -> std::io::Result<Self> {
        let base = zone.base_domain.trim_end_matches('.').to_ascii_lowercase();
        let name = |text: String| {
            Name::from_ascii(&text)
                .map_err(|e| std::io::Error::other(format!("base domain {base:?}: {e}")))
        };
        let origin = name(format!("{base}."))?;
        Ok(Self {
            zone: LowerName::new(&origin),
            suffix: format!(".{base}."),
            ns_name: name(format!("ns1.{base}."))?,
            hostmaster: name(format!("hostmaster.{base}."))?,
            workspace_address: zone.workspace_address,
            names,
        })
    }

    pub fn names(&self) -> &N {
        &self.names
    }

    fn origin(&self) -> Name {
        Name::from(self.zone.clone())
    }

    fn soa(&self) -> Record {
        Record::from_rdata(
            self.origin(),
            TTL,
            RData::SOA(SOA::new(
                self.ns_name.clone(),
                self.hostmaster.clone(),
                self.names.serial(),
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
        let data = match (self.workspace_address, qtype) {
            (IpAddr::V4(ip), RecordType::A | RecordType::ANY) => RData::A(A(ip)),
            (IpAddr::V6(ip), RecordType::AAAA | RecordType::ANY) => RData::AAAA(AAAA(ip)),
            _ => return None,
        };
        Some(Record::from_rdata(name.clone(), TTL, data))
    }

    /// The answer to one question.
    pub fn answer(&self, qname: &LowerName, qtype: RecordType) -> Answer {
        let mut out = Answer::default();
        if !self.zone.zone_of(qname) {
            out.code = ResponseCode::Refused;
            return out;
        }
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
        // Only names one label below the apex can be workspaces (or the name server);
        // a `LowerName`'s labels are lower case already.
        let label = (qname.num_labels() == self.zone.num_labels() + 1)
            .then(|| qname.iter().next())
            .flatten()
            .and_then(|label| std::str::from_utf8(label).ok());
        let found = label.and_then(|label| self.names.lookup(label));
        let name = Name::from(qname.clone());
        let name = match found {
            None if label == Some("ns1") => name,
            None => {
                out.code = ResponseCode::NXDomain;
                out.soa.push(self.soa());
                return out;
            }
            Some(Found::Live) => name,
            // An old name during a rename's grace period: a CNAME to the new name, and the
            // new name's address in the same answer (as resolvers expect of an authority).
            Some(Found::Renamed { label }) => {
                let target = Name::from_ascii(format!("{label}{}", self.suffix))
                    .unwrap_or_else(|_| self.origin());
                out.answers.push(Record::from_rdata(
                    name,
                    TTL,
                    RData::CNAME(CNAME(target.clone())),
                ));
                if qtype != RecordType::CNAME {
                    out.answers.extend(self.address(&target, qtype));
                }
                return out;
            }
        };
        match self.address(&name, qtype) {
            Some(record) => out.answers.push(record),
            // The name exists but has no data of this type: NOERROR with the SOA.
            None => out.soa.push(self.soa()),
        }
        out
    }
}

#[async_trait::async_trait]
impl<N: Names> RequestHandler for ZoneHandler<N> {
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
                self.names.answered(ResponseCode::NotImp);
                let response = builder.error_msg(&request.metadata, ResponseCode::NotImp);
                return send(&mut response_handle, response, &request.metadata).await;
            }
            Err(_) => {
                self.names.answered(ResponseCode::FormErr);
                let response = builder.error_msg(&request.metadata, ResponseCode::FormErr);
                return send(&mut response_handle, response, &request.metadata).await;
            }
        };
        let answer = self.answer(info.query.name(), info.query.query_type());
        self.names.answered(answer.code);
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::net::Ipv4Addr;

    use hickory_server::proto::rr::{LowerName, Name, RData, RecordType};

    use super::*;

    fn handler() -> ZoneHandler<FixedNames> {
        let zone = Zone {
            base_domain: "Plinth.Test.".into(),
            workspace_address: Ipv4Addr::new(192, 0, 2, 1).into(),
        };
        let names = FixedNames(HashMap::from([
            ("acme-web".to_owned(), Found::Live),
            (
                "old-web".to_owned(),
                Found::Renamed {
                    label: "acme-web".into(),
                },
            ),
        ]));
        ZoneHandler::new(&zone, names).unwrap()
    }

    fn ask(name: &str, qtype: RecordType) -> Answer {
        handler().answer(&LowerName::new(&Name::from_ascii(name).unwrap()), qtype)
    }

    #[test]
    fn names_answer_as_documented() {
        let live = ask("ACME-web.plinth.test.", RecordType::A);
        assert_eq!(live.code, ResponseCode::NoError);
        assert!(
            matches!(live.answers[0].data, RData::A(A(ip)) if ip == Ipv4Addr::new(192, 0, 2, 1))
        );

        let renamed = ask("old-web.plinth.test.", RecordType::A);
        assert!(
            matches!(&renamed.answers[0].data, RData::CNAME(CNAME(t)) if t.to_ascii() == "acme-web.plinth.test.")
        );
        assert_eq!(renamed.answers.len(), 2);

        // No AAAA for an IPv4 workspace address: NOERROR, no data, the SOA.
        let aaaa = ask("acme-web.plinth.test.", RecordType::AAAA);
        assert_eq!(
            (aaaa.code, aaaa.answers.len(), aaaa.soa.len()),
            (ResponseCode::NoError, 0, 1)
        );

        let missing = ask("nobody-web.plinth.test.", RecordType::A);
        assert_eq!(
            (missing.code, missing.soa.len()),
            (ResponseCode::NXDomain, 1)
        );
        // A deeper name is never a workspace, even when its first label is one.
        let deeper = ask("acme-web.x.plinth.test.", RecordType::A);
        assert_eq!(deeper.code, ResponseCode::NXDomain);

        let apex = ask("plinth.test.", RecordType::SOA);
        assert!(matches!(&apex.answers[0].data, RData::SOA(soa) if soa.serial == 1));
        assert_eq!(
            ask("ns1.plinth.test.", RecordType::A).code,
            ResponseCode::NoError
        );
        assert_eq!(
            ask("example.com.", RecordType::A).code,
            ResponseCode::Refused
        );
    }
}
