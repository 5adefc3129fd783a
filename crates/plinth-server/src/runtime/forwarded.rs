//! Who is calling, behind proxies: the client address and scheme from `X-Forwarded-For`,
//! `Forwarded` and `X-Forwarded-Proto`, believed only when the TCP peer is a trusted proxy
//! (`--trusted-proxies`), and the server's public address (`--public-url`).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName};

use crate::runtime::state::AppState;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// An address block: `10.0.0.0/8`, `fd00::/8`, or one address (`192.0.2.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    /// A comma-separated list, as `--trusted-proxies` takes it; empty trusts nobody.
    pub fn parse_list(list: &str) -> Result<Vec<Cidr>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect()
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an address or CIDR block (10.0.0.0/8, fd00::/8)");
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let net = IpAddr::from_str(addr).map_err(|_| bad())?.to_canonical();
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { net, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

/// Where the request really came from, as far as this server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    pub ip: IpAddr,
    /// The client spoke HTTPS to a trusted TLS-terminating proxy.
    pub https: bool,
}

/// The client behind `peer`. Only when `peer` is trusted are the forwarding headers read:
/// the hops are walked from the nearest (rightmost) back, and the first one that is not a
/// trusted proxy is the client, so a client cannot choose its address by sending the
/// header itself (proxies append to it). An unparseable hop (`unknown`, an obfuscated
/// name) ends the walk at the last trusted address.
///
/// `X-Forwarded-For` is read when present, else `Forwarded` (RFC 7239): nearly every load
/// balancer appends to the former, and one that does must also not pass a client's
/// `Forwarded` through unchanged if that is the header it sets instead.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> ClientAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return ClientAddr {
            ip: peer,
            https: false,
        };
    }
    let values = |name: &HeaderName| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>()
    };
    let xff = values(&X_FORWARDED_FOR);
    let (hops, forwarded_proto): (Vec<Option<IpAddr>>, Option<&str>) = if !xff.is_empty() {
        (xff.iter().map(|hop| parse_hop(hop)).collect(), None)
    } else {
        let elements = values(&FORWARDED);
        let hops = elements
            .iter()
            .map(|element| forwarded_param(element, "for").and_then(parse_hop))
            .collect();
        let proto = elements
            .iter()
            .rev()
            .find_map(|element| forwarded_param(element, "proto"));
        (hops, proto)
    };
    let mut ip = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(hop) => {
                ip = hop.to_canonical();
                if !is_trusted(ip) {
                    break;
                }
            }
            None => break,
        }
    }
    let proto = forwarded_proto.or_else(|| values(&X_FORWARDED_PROTO).last().copied());
    ClientAddr {
        ip,
        https: proto.is_some_and(|p| p.eq_ignore_ascii_case("https")),
    }
}

/// The value of `name` in one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn forwarded_param<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"'))
    })
}

/// One hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    hop.parse::<SocketAddr>().ok().map(|addr| addr.ip())
}

/// Resolves the [`ClientAddr`] of every request into its extensions, and removes the
/// forwarding headers of requests that did not come through a trusted proxy, so that
/// nothing further in can believe them by mistake.
pub fn resolve_client(state: &AppState, req: &mut Request) {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let client = client_addr(peer, req.headers(), &state.settings.trusted_proxies);
        let trusted = state
            .settings
            .trusted_proxies
            .iter()
            .any(|net| net.contains(peer));
        if !trusted {
            for name in [X_FORWARDED_FOR, X_FORWARDED_PROTO, FORWARDED] {
                req.headers_mut().remove(name);
            }
        }
        req.extensions_mut().insert(client);
    }
}

/// The address people and the device flow use to reach this server (`--public-url`):
/// `http` or `https`, a host, an optional port, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    https: bool,
    host: String,
    port: Option<u16>,
}

impl PublicUrl {
    /// The default for a server listening on `bind`: `http://localhost:PORT` on a loopback
    /// or unspecified address (`0.0.0.0`), else `http://ADDRESS:PORT`.
    pub fn for_bind(bind: SocketAddr) -> Self {
        let ip = bind.ip();
        let host = if ip.is_loopback() || ip.is_unspecified() {
            "localhost".to_owned()
        } else if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        Self {
            https: false,
            host,
            port: (bind.port() != 80).then_some(bind.port()),
        }
    }

    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `:PORT`, or nothing for the scheme's default port.
    pub fn port_suffix(&self) -> String {
        self.port.map(|p| format!(":{p}")).unwrap_or_default()
    }

    /// `scheme://host[:port]`, without a trailing slash.
    pub fn origin(&self) -> String {
        format!("{}://{}{}", self.scheme(), self.host, self.port_suffix())
    }

    /// An absolute link to `path` (which starts with `/`).
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())
    }
}

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!("{s:?} is not a public URL: {why} (like https://plinth.example.com)")
        };
        let (https, rest) = if let Some(rest) = s.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = s.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(bad("it must start with http:// or https://"));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(bad("it must not have a path, query or user"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| bad("the port is not a number"))?;
                (host, Some(port))
            }
            _ => (authority, None),
        };
        let valid_host = !host.is_empty()
            && host.len() <= 253
            && if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                v6.parse::<std::net::Ipv6Addr>().is_ok()
            } else {
                host.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
            };
        if !valid_host {
            return Err(bad("the host is not a DNS name or address"));
        }
        let default_port = if https { 443 } else { 80 };
        Ok(Self {
            https,
            host: host.to_ascii_lowercase(),
            port: port.filter(|p| *p != default_port),
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_blocks() {
        let lan: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(lan.contains(ip("10.200.3.4")));
        assert!(!lan.contains(ip("11.0.0.1")));
        assert!(lan.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        let one: Cidr = "192.0.2.1".parse().unwrap();
        assert!(one.contains(ip("192.0.2.1")) && !one.contains(ip("192.0.2.2")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        assert_eq!(Cidr::parse_list(" 10.0.0.0/8, ::1 ").unwrap().len(), 2);
        assert!(Cidr::parse_list("").unwrap().is_empty());
    }

    #[test]
    fn untrusted_peers_choose_nothing() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = client_addr(ip("198.51.100.1"), &h, &[]);
        assert_eq!(client.ip, ip("198.51.100.1"));
        assert!(!client.https);
        let trusted = Cidr::parse_list("10.0.0.0/8").unwrap();
        assert_eq!(
            client_addr(ip("198.51.100.1"), &h, &trusted).ip,
            ip("198.51.100.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = Cidr::parse_list("10.0.0.0/8").unwrap();
        // The client sent its own X-Forwarded-For (1.1.1.1); the balancer appended the
        // address it saw, then an inner proxy appended the balancer's.
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1, 203.0.113.7"),
            ("x-forwarded-for", "10.0.0.2"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = client_addr(ip("10.0.0.3"), &h, &trusted);
        assert_eq!(client.ip, ip("203.0.113.7"));
        assert!(client.https);
        // Every hop trusted: the farthest one.
        let h = headers(&[("x-forwarded-for", "10.0.0.9, 10.0.0.2")]);
        assert_eq!(client_addr(ip("10.0.0.3"), &h, &trusted).ip, ip("10.0.0.9"));
        // Garbage ends the walk at the last trusted address.
        let h = headers(&[("x-forwarded-for", "203.0.113.7, garbage")]);
        assert_eq!(client_addr(ip("10.0.0.3"), &h, &trusted).ip, ip("10.0.0.3"));
        // No header: the proxy itself.
        assert_eq!(
            client_addr(ip("10.0.0.3"), &HeaderMap::new(), &trusted).ip,
            ip("10.0.0.3")
        );
    }

    #[test]
    fn forwarded_header() {
        let trusted = Cidr::parse_list("10.0.0.0/8").unwrap();
        let h = headers(&[(
            "forwarded",
            "for=1.1.1.1, for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2:80",
        )]);
        let client = client_addr(ip("10.0.0.3"), &h, &trusted);
        assert_eq!(client.ip, ip("2001:db8::7"));
        assert!(client.https);
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_addr(ip("10.0.0.3"), &h, &trusted).ip, ip("10.0.0.3"));
        // X-Forwarded-For wins when both are there.
        let h = headers(&[
            ("forwarded", "for=1.1.1.1"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        assert_eq!(
            client_addr(ip("10.0.0.3"), &h, &trusted).ip,
            ip("203.0.113.7")
        );
    }

    #[test]
    fn public_urls() {
        let url: PublicUrl = "https://Plinth.Example.com/".parse().unwrap();
        assert_eq!(url.origin(), "https://plinth.example.com");
        assert_eq!(url.link("/device"), "https://plinth.example.com/device");
        let url: PublicUrl = "http://localhost:8080".parse().unwrap();
        assert_eq!(url.origin(), "http://localhost:8080");
        assert_eq!(
            "https://x.example:443"
                .parse::<PublicUrl>()
                .unwrap()
                .origin(),
            "https://x.example"
        );
        assert_eq!(
            "http://[::1]:9000".parse::<PublicUrl>().unwrap().origin(),
            "http://[::1]:9000"
        );
        for bad in [
            "plinth.example.com",
            "ftp://x",
            "https://x/app",
            "https://u@x",
            "https://x:port",
            "https://",
            "https://a b",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
        assert_eq!(
            PublicUrl::for_bind("127.0.0.1:8080".parse().unwrap()).origin(),
            "http://localhost:8080"
        );
        assert_eq!(
            PublicUrl::for_bind("0.0.0.0:80".parse().unwrap()).origin(),
            "http://localhost"
        );
        assert_eq!(
            PublicUrl::for_bind("192.0.2.5:8080".parse().unwrap()).origin(),
            "http://192.0.2.5:8080"
        );
    }
}
