//! The DNS request path: a raw packet, parsed as the server parses it, into the same
//! `ZoneHandler` the server runs, over a zone with a live and a renamed name. Never a
//! panic; every request gets exactly one answer that parses back as a DNS message with
//! the request's id, and every record in it belongs to the zone.
#![no_main]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex};

use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::net::NetError;
use hickory_server::proto::op::{Message, MessageType, ResponseCode};
use hickory_server::proto::rr::{LowerName, Name, Record};
use hickory_server::proto::serialize::binary::BinEncoder;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponse;
use libfuzzer_sys::fuzz_target;
use plinth_dns::{FixedNames, Found, Zone, ZoneHandler};

/// Keeps what the handler sends, encoded as the UDP path encodes it.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Vec<u8>>>>);

#[async_trait::async_trait]
impl ResponseHandler for Capture {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        let mut bytes = Vec::with_capacity(512);
        let mut encoder = BinEncoder::new(&mut bytes);
        encoder.set_max_size(u16::MAX);
        let header = response.destructive_emit(&mut encoder)?;
        self.0.lock().unwrap().push(bytes);
        Ok(ResponseInfo::from(header))
    }
}

static HANDLER: LazyLock<ZoneHandler<FixedNames>> = LazyLock::new(|| {
    let zone = Zone {
        base_domain: "plinth.test".into(),
        workspace_address: Ipv4Addr::new(192, 0, 2, 1).into(),
    };
    let names = FixedNames(HashMap::from([
        ("acme-web".to_owned(), Found::Live),
        ("old-web".to_owned(), Found::Renamed { label: "acme-web".into() }),
    ]));
    ZoneHandler::new(&zone, names).expect("a valid zone")
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
});

static ZONE: LazyLock<LowerName> =
    LazyLock::new(|| LowerName::new(&Name::from_ascii("plinth.test.").unwrap()));

fuzz_target!(|data: &[u8]| {
    let src = SocketAddr::from(([127, 0, 0, 1], 5353));
    // As the server does: a packet that does not parse as a request never reaches the
    // handler (hickory answers FORMERR itself), and responses are dropped unanswered.
    let Ok(request) = Request::from_bytes(data.to_vec(), src, Protocol::Udp) else {
        return;
    };
    if request.metadata.message_type == MessageType::Response {
        return;
    }
    let capture = Capture::default();
    let info = RUNTIME.block_on(HANDLER.handle_request::<_, TokioTime>(&request, capture.clone()));
    let sent = capture.0.lock().unwrap();
    assert_eq!(sent.len(), 1, "one answer per request");
    let answer = Message::from_vec(&sent[0]).expect("the answer parses");
    assert_eq!(answer.metadata.id, request.metadata.id);
    assert_eq!(answer.metadata.message_type, MessageType::Response);
    assert_eq!(info.response_code, answer.metadata.response_code);
    assert!(
        matches!(
            answer.metadata.response_code,
            ResponseCode::NoError
                | ResponseCode::NXDomain
                | ResponseCode::Refused
                | ResponseCode::NotImp
                | ResponseCode::FormErr
        ),
        "{:?}",
        answer.metadata.response_code
    );
    for record in answer.answers.iter().chain(&answer.authorities) {
        assert!(
            ZONE.zone_of(&LowerName::new(&record.name)),
            "{} is outside the zone",
            record.name
        );
    }
    if answer.metadata.response_code == ResponseCode::Refused {
        assert!(answer.answers.is_empty() && !answer.metadata.authoritative);
    }
});
