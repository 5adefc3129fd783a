//! `floor-dns ADDR ZONE COUNT`: a bare hickory-server handler answering A records for
//! `name0.ZONE` … `name{COUNT-1}.ZONE` (any other name: NXDOMAIN) from an in-memory map,
//! over UDP. Prints `listening on ADDR` once bound.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::A;
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use tokio::net::UdpSocket;

struct Handler {
    names: HashMap<LowerName, Ipv4Addr>,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let mut builder = MessageResponseBuilder::from_message_request(request);
        let edns = request.edns.as_ref().map(|req| {
            let mut edns = Edns::new();
            edns.set_max_payload(req.max_payload().max(512));
            edns
        });
        if let Some(edns) = &edns {
            builder.edns(edns);
        }
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let mut answers = Vec::new();
        match request.request_info() {
            Ok(info) => match self.names.get(info.query.name()) {
                Some(ip) => answers.push(Record::from_rdata(
                    Name::from(info.query.name().clone()),
                    60,
                    RData::A(A(*ip)),
                )),
                None => metadata.response_code = ResponseCode::NXDomain,
            },
            Err(_) => metadata.response_code = ResponseCode::FormErr,
        }
        let response = builder.build(
            metadata,
            answers.iter(),
            std::iter::empty(),
            std::iter::empty(),
            std::iter::empty(),
        );
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(_) => {
                let mut metadata = Metadata::new(
                    request.metadata.id,
                    MessageType::Response,
                    request.metadata.op_code,
                );
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                })
            }
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let zone = args.next().unwrap_or_else(|| "plinth.test".to_owned());
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(100);
    let names = (0..count)
        .map(|i| {
            let name = Name::from_ascii(format!("name{i}.{zone}."))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok((LowerName::new(&name), Ipv4Addr::new(127, 0, 0, 1)))
        })
        .collect::<std::io::Result<HashMap<_, _>>>()?;
    let socket = UdpSocket::bind(&addr).await?;
    println!("listening on {}", socket.local_addr()?);
    let mut server = Server::new(Handler { names });
    server.register_socket(socket);
    tokio::signal::ctrl_c().await?;
    server
        .shutdown_gracefully()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))
}
