//! Connection limits: header-read, idle and request timeouts, and the connection cap,
//! driven over raw TCP sockets (a well-behaved HTTP client cannot misbehave enough).

use std::time::{Duration, Instant};

use plinth_server::Settings;
use plinth_server::testing::TestApp;
use plinth_store::test_support::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn app(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::with_settings(Backend::Sqlite, adjust).await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.server.addr).await.unwrap()
}

/// Reads until the server closes the connection (or `limit` passes: `None`); answers
/// what arrived and when the connection closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<(String, Instant)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(limit, read_all).await.ok()?;
    Some((String::from_utf8_lossy(&got).into_owned(), closed))
}

/// Reads one whole answer (head and a `content-length` body).
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length: usize = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= head_end + 4 + length {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn half_sent_and_silent_connections_are_cut_at_the_header_timeout() {
    let app = app(|s| s.header_read_timeout = Duration::from_millis(300)).await;
    let started = Instant::now();
    let mut half = connect(&app).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    let mut silent = connect(&app).await;
    for stream in [&mut half, &mut silent] {
        let (_, closed) = read_until_closed(stream, Duration::from_secs(5))
            .await
            .expect("the server closes the connection");
        let after = closed - started;
        assert!(
            after >= Duration::from_millis(250) && after < Duration::from_secs(3),
            "closed after {after:?}"
        );
    }
    app.cleanup().await;
}

/// The idle timeout is not the header timeout: a kept-alive connection may wait longer
/// for its next request than a request head may take to arrive.
#[tokio::test]
async fn idle_keep_alive_has_its_own_timeout() {
    let app = app(|s| {
        s.header_read_timeout = Duration::from_millis(300);
        s.idle_timeout = Duration::from_millis(1500);
    })
    .await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert!(read_answer(&mut stream).await.starts_with("HTTP/1.1 200"));
    let answered = Instant::now();
    // Past the header timeout, still open: a second request is answered.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    assert!(read_answer(&mut stream).await.starts_with("HTTP/1.1 200"));
    let answered_again = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("an idle connection is closed");
    let idle = closed - answered_again;
    assert!(
        idle >= Duration::from_millis(1300) && idle < Duration::from_secs(4),
        "closed after {idle:?} idle"
    );
    assert!(answered_again - answered >= Duration::from_millis(700));
    app.cleanup().await;
}

#[tokio::test]
async fn a_request_that_takes_too_long_gets_a_problem() {
    let app = app(|s| s.request_timeout = Duration::from_millis(300)).await;
    let mut stream = connect(&app).await;
    // The body never comes: the handler waits for it until the request timeout.
    stream
        .write_all(
            b"POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\n\
              content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"login\":",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"type\":\"unavailable\""), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
    app.cleanup().await;
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_with_a_problem() {
    let app = app(|s| s.max_connections = 8).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(connect(&app).await);
    }
    // Let the server accept all eight before the ninth.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut ninth = connect(&app).await;
    let (answer, _) = read_until_closed(&mut ninth, Duration::from_secs(5))
        .await
        .expect("the ninth connection is closed at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(answer.contains("\"type\":\"unavailable\""), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    drop(held);
    // The slots come back as the server notices the closed connections.
    let started = Instant::now();
    loop {
        let res = app.client.get(format!("{}/healthz", app.base)).send().await;
        if res.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no slot came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.cleanup().await;
}

/// 40 half-open connections against a cap of 40 block everyone only until the header
/// timeout frees their slots.
#[tokio::test]
async fn a_slowloris_holds_the_server_only_for_the_header_timeout() {
    let app = app(|s| {
        s.header_read_timeout = Duration::from_millis(500);
        s.max_connections = 40;
    })
    .await;
    let mut attackers = Vec::new();
    for _ in 0..40 {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        attackers.push(stream);
    }
    let started = Instant::now();
    loop {
        let res = app.client.get(format!("{}/healthz", app.base)).send().await;
        if res.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "/healthz stayed blocked"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    app.cleanup().await;
}

/// A shutdown does not wait for ever for connections that never finish a request.
#[tokio::test]
async fn shutdown_closes_stuck_connections_at_its_deadline() {
    let app = app(|s| {
        s.header_read_timeout = Duration::from_secs(60);
        s.shutdown_timeout = Duration::from_millis(500);
    })
    .await;
    let mut stuck = Vec::new();
    for _ in 0..20 {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        stuck.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), app.cleanup())
        .await
        .expect("the shutdown finished within 5 s");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}
