//! A readiness probe for the DNS server, written apart from it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

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
mod tests {
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
