//! The listening side: one UDP socket and one TCP listener in front of a [`ZoneHandler`].

use std::net::SocketAddr;
use std::time::Duration;

use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

use crate::{Names, ZoneHandler};

/// How long a TCP client may sit idle before its connection is closed.
const TCP_TIMEOUT: Duration = Duration::from_secs(10);
/// TCP connections served at once; more wait in the listen queue.
const TCP_CONNECTIONS: usize = 64;

/// A running DNS server and the addresses it is bound to.
pub struct DnsServer<N: Names> {
    pub udp_addr: SocketAddr,
    pub tcp_addr: SocketAddr,
    server: Server<ZoneHandler<N>>,
}

impl<N: Names> DnsServer<N> {
    /// Binds `addr` on UDP and TCP. With port 0 the UDP socket picks a free port and
    /// TCP tries the same one first, so both usually share it.
    pub async fn start(handler: ZoneHandler<N>, addr: SocketAddr) -> std::io::Result<Self> {
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
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_TIMEOUT, TCP_CONNECTIONS);
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
