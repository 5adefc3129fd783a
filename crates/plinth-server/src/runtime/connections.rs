//! Serving HTTP/1.1 connections with limits, instead of `axum::serve`, which has none: a
//! client that sends half a header, or nothing, would hold its connection (and a file
//! descriptor) for ever, and a graceful shutdown would wait for it for ever.
//!
//! - **Header read** (`header_read_timeout`): a new connection must deliver a whole
//!   request head within it, counted from accept; on a kept-alive one, from the first byte
//!   of the next request.
//! - **Idle keep-alive** (`idle_timeout`): a kept-alive connection with no request may
//!   wait this long for the next one. Longer than the header timeout, and longer than a
//!   balancer's own idle timeout (60 s on the common ones), so the balancer closes first.
//! - **No progress** while a request is in flight: no byte read or written for the longer
//!   of the idle and request timeouts (a client that stops reading a response).
//! - **Request** (`request_timeout`, `app.rs`): the handler must produce its answer's head
//!   within it, else 503; a streamed body (an audit export) may take longer.
//! - **Connections** (`max_connections`): past it, a new connection is answered 503 at
//!   once and closed.
//! - **Shutdown** (`shutdown_timeout`): on shutdown, idle connections close, requests in
//!   flight get until the deadline, then every connection left is dropped, so that the
//!   caller's flush of in-memory counts runs in time.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// The limits of [`serve`]; see the module's documentation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` turns true, then shuts down within
/// `limits.shutdown_timeout`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_connections, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
            // Reap finished connections as they end, so the set stays small.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors, say: wait a little instead of spinning; a
                // connection error (the client gave up already) is no reason to.
                if !is_connection_error(&err) {
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refuse(&stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stopping = stopping.clone();
        connections.spawn(async move {
            serve_connection(stream, peer, app, limits, stopping).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_connections.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_timeout, drained)
        .await
        .is_err()
    {
        tracing::warn!(
            open = connections.len(),
            "connections still open at the shutdown deadline: closing them"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
    Ok(())
}

fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        err.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Over the connection cap: a problem answer, written only if the socket takes it at once,
/// and the connection closed.
fn refuse(stream: &TcpStream) {
    const BODY: &str = "{\"type\":\"unavailable\",\"title\":\"Service unavailable\",\"status\":503,\
                        \"detail\":\"the server has too many open connections; try again shortly\"}";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let clock = Arc::new(ConnClock::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        clock: clock.clone(),
    });
    let service_clock = clock.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let in_flight = InFlight::start(service_clock.clone());
        let app = app.clone();
        async move {
            let response = app.oneshot(req).await?;
            Ok::<_, std::convert::Infallible>(response.map(|body| {
                axum::body::Body::new(Tracked {
                    inner: body,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timeout would also cut idle keep-alives at the same instant;
    // the watchdog below keeps the two apart.
    builder.timer(TokioTimer::new()).header_read_timeout(None);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let watchdog = clock.watchdog(limits);
    tokio::pin!(watchdog);
    let mut graceful = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            () = watchdog.as_mut() => return,
            _ = stopping.wait_for(|stop| *stop), if !graceful => {
                // Idle connections close now; a request in flight finishes first.
                connection.as_mut().graceful_shutdown();
                graceful = true;
            }
        }
    }
}

/// What a connection is doing, in milliseconds since it was accepted.
struct ConnClock {
    accepted: Instant,
    /// The last byte read or written.
    last_io: AtomicU64,
    /// When the connection last became ready for a request: accept, or an answer's end.
    ready_since: AtomicU64,
    /// The first byte of the next request head, or [`NONE`].
    head_started: AtomicU64,
    in_flight: AtomicU32,
    answered: AtomicU64,
}

const NONE: u64 = u64::MAX;

impl ConnClock {
    fn new() -> Self {
        Self {
            accepted: Instant::now(),
            last_io: AtomicU64::new(0),
            ready_since: AtomicU64::new(0),
            head_started: AtomicU64::new(NONE),
            in_flight: AtomicU32::new(0),
            answered: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.accepted.elapsed().as_millis() as u64
    }

    fn note_read(&self) {
        let now = self.now();
        self.last_io.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            let _ =
                self.head_started
                    .compare_exchange(NONE, now, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    fn note_write(&self) {
        self.last_io.store(self.now(), Ordering::Relaxed);
    }

    /// When the connection must be closed, as things stand.
    fn deadline(&self, limits: &Limits) -> u64 {
        let ms = |d: Duration| d.as_millis() as u64;
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            let stall = limits.idle_timeout.max(limits.request_timeout);
            return self.last_io.load(Ordering::Relaxed) + ms(stall);
        }
        let head_started = self.head_started.load(Ordering::Relaxed);
        if self.answered.load(Ordering::Relaxed) == 0 {
            // A new connection: its first request head is due from accept.
            ms(limits.header_read_timeout)
        } else if head_started != NONE {
            head_started + ms(limits.header_read_timeout)
        } else {
            self.ready_since.load(Ordering::Relaxed) + ms(limits.idle_timeout)
        }
    }

    /// Returns when the connection has outlived its deadline.
    async fn watchdog(&self, limits: Limits) {
        loop {
            let deadline = self.deadline(&limits);
            if self.now() >= deadline {
                tracing::debug!("closing a connection that timed out");
                return;
            }
            tokio::time::sleep_until(self.accepted + Duration::from_millis(deadline)).await;
        }
    }
}

/// A request between its head and the end of its answer's body.
struct InFlight(Arc<ConnClock>);

impl InFlight {
    fn start(clock: Arc<ConnClock>) -> Self {
        clock.in_flight.fetch_add(1, Ordering::Relaxed);
        clock.head_started.store(NONE, Ordering::Relaxed);
        Self(clock)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let clock = &self.0;
        clock.answered.fetch_add(1, Ordering::Relaxed);
        clock.ready_since.store(clock.now(), Ordering::Relaxed);
        clock.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An answer's body that ends its request's [`InFlight`] when hyper is done with it.
struct Tracked {
    inner: axum::body::Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, noting each read and write on the connection's clock.
struct Watched {
    inner: TcpStream,
    clock: Arc<ConnClock>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.note_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.note_write();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.note_write();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The open-files limit (`ulimit -n`) of this process, where the system says (Linux).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// `wanted`, lowered to leave room under the open-files limit for the database pool, the
/// DNS server and the listeners: past the limit, `accept` fails for everyone alike.
pub fn connection_cap(wanted: usize) -> usize {
    const RESERVED: u64 = 64;
    match open_files_limit() {
        Some(limit) if (wanted as u64).saturating_add(RESERVED) > limit => {
            let cap = limit.saturating_sub(RESERVED).max(16) as usize;
            tracing::warn!(
                wanted,
                cap,
                open_files_limit = limit,
                "max-connections lowered to fit the open-files limit (ulimit -n)"
            );
            cap
        }
        _ => wanted,
    }
}
