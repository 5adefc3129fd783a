//! `TestApp`: the real server on a real, isolated database, and one helper per endpoint.
//! Used by this crate's integration tests and by later crates' (feature `test-support`).

use std::time::Duration;

use plinth_store::test_support::{Backend, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::runtime::config::Settings;
use crate::runtime::server::{Running, start};
use crate::runtime::state::AppState;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub server: Running,
    pub db: TestDb,
    pub client: reqwest::Client,
    pub base: String,
}

/// An answer, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    /// Reads `response` whole (for tests that send requests of their own).
    pub async fn read(response: reqwest::Response) -> Self {
        read(response).await
    }

    /// The problem `type` of an error answer.
    pub fn problem(&self) -> &str {
        self.body["type"].as_str().unwrap_or("<not a problem>")
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.text
        );
        self
    }

    #[track_caller]
    pub fn assert_problem(&self, status: u16, problem: &str) -> &Self {
        self.assert_status(status);
        assert_eq!(self.problem(), problem, "unexpected problem: {}", self.text);
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        assert_eq!(content_type, Some("application/problem+json"));
        self
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        Self::with_settings(backend, |_| {}).await
    }

    pub async fn with_settings(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::new(backend).await;
        let mut settings = Settings {
            bind: "127.0.0.1:0".parse().expect("static address"),
            dns_bind: "127.0.0.1:0".parse().expect("static address"),
            metrics_bind: Some("127.0.0.1:0".parse().expect("static address")),
            // Every test signs its users up from 127.0.0.1; tests of the limit lower it.
            signups_per_minute_per_address: 10_000,
            signups_per_minute: 10_000,
            database_url: db.url.clone(),
            ..Settings::default()
        };
        adjust(&mut settings);
        let server = start(db.store.clone(), settings)
            .await
            .expect("server starts");
        let base = server.url();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        let app = Self {
            server,
            db,
            client,
            base,
        };
        app.startup_done().await;
        app
    }

    pub fn state(&self) -> &AppState {
        &self.server.state
    }

    /// Waits for the work the server does once at start (a purge pass, a usage snapshot)
    /// to be over, so that it cannot interleave with what a test does next (say, run on a
    /// clock the test has moved, or snapshot an org the test has just created).
    async fn startup_done(&self) {
        let metrics = &self.state().metrics;
        let started = std::time::Instant::now();
        while metrics.purge_passes.get() == 0 || metrics.usage_snapshots.get() == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server's start-up purge and snapshot did not run"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn cleanup(self) {
        let _ = self.server.shutdown().await;
        self.db.cleanup().await;
    }

    /// Any request; `path` is relative to the server (`/api/v1/user`).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.expect("request reaches the server")).await
    }

    /// A request with a raw body and content type, for malformed-input tests.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> TestResponse {
        // Its own connection: a server that refuses a body early closes the connection,
        // and a pooled one could be reused by the next request before the close arrives.
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("connection", "close")
            .body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        read(req.send().await.expect("request reaches the server")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> TestResponse {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    // --- one helper per account endpoint ---

    pub async fn signup(&self, handle: &str, email: &str, password: &str) -> TestResponse {
        let body = json!({"handle": handle, "email": email, "password": password});
        self.request(Method::POST, "/api/v1/signup", None, Some(body))
            .await
    }

    pub async fn login(&self, login: &str, password: &str) -> TestResponse {
        let body = json!({"login": login, "password": password});
        self.request(Method::POST, "/api/v1/login", None, Some(body))
            .await
    }

    /// A form-encoded POST without a token, as OAuth clients send.
    pub async fn post_form(&self, path: &str, params: &[(&str, &str)]) -> TestResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.raw(
            Method::POST,
            path,
            None,
            Some("application/x-www-form-urlencoded"),
            body,
        )
        .await
    }

    /// Starts a CLI login as `client_id`: the RFC 8628 code answer.
    pub async fn device_code(&self, client_id: &str) -> Value {
        let answer = self
            .post_form("/api/v1/device/code", &[("client_id", client_id)])
            .await;
        answer.assert_status(200);
        answer.body
    }

    /// One poll of a CLI login.
    pub async fn device_token(&self, device_code: &str, client_id: &str) -> TestResponse {
        self.post_form(
            "/api/v1/device/token",
            &[
                ("grant_type", plinth_api::DEVICE_CODE_GRANT_TYPE),
                ("device_code", device_code),
                ("client_id", client_id),
            ],
        )
        .await
    }

    /// Signs `handle` up (email `{handle}@example.com`) and logs in: a temporary token.
    pub async fn user(&self, handle: &str) -> String {
        self.signup(handle, &format!("{handle}@example.com"), PASSWORD)
            .await
            .assert_status(201);
        self.token_for(handle).await
    }

    /// A fresh temporary token for an existing user.
    pub async fn token_for(&self, handle: &str) -> String {
        let login = self.login(handle, PASSWORD).await;
        login.assert_status(200);
        login.body["token"].as_str().expect("a token").to_owned()
    }

    /// Creates a user token with `title`; answers `(id, secret)`.
    pub async fn user_token(&self, session: &str, title: &str) -> (String, String) {
        let created = self
            .post("/api/v1/user/tokens", session, json!({"title": title}))
            .await;
        created.assert_status(201);
        (
            created.body["id"].as_str().expect("id").to_owned(),
            created.body["token"].as_str().expect("token").to_owned(),
        )
    }

    // --- orgs, members, workspaces ---

    /// Creates org `handle` as `owner`; answers 201 or the test fails.
    pub async fn create_org(&self, owner: &str, handle: &str) -> Value {
        let created = self
            .post("/api/v1/orgs", owner, json!({"handle": handle}))
            .await;
        created.assert_status(201);
        created.body
    }

    pub async fn invite(&self, owner: &str, org: &str, user: &str, role: &str) -> TestResponse {
        self.post(
            &format!("/api/v1/orgs/{org}/members"),
            owner,
            json!({"user": user, "role": role}),
        )
        .await
    }

    pub async fn accept(&self, token: &str, org: &str) -> TestResponse {
        self.request(
            Method::POST,
            &format!("/api/v1/user/invitations/{org}/accept"),
            Some(token),
            None,
        )
        .await
    }

    pub async fn decline(&self, token: &str, org: &str) -> TestResponse {
        self.request(
            Method::POST,
            &format!("/api/v1/user/invitations/{org}/decline"),
            Some(token),
            None,
        )
        .await
    }

    /// Signs `handle` up and makes them an active `role` of `org`: their token.
    pub async fn member(&self, owner: &str, org: &str, handle: &str, role: &str) -> String {
        let token = self.user(handle).await;
        self.invite(owner, org, handle, role)
            .await
            .assert_status(201);
        self.accept(&token, org).await.assert_status(200);
        token
    }

    pub async fn create_workspace(&self, owner: &str, org: &str, ws: &str) -> Value {
        self.create_workspace_from(owner, org, json!({"handle": ws}))
            .await
    }

    /// [`TestApp::create_workspace`] with a display name.
    pub async fn create_named_workspace(
        &self,
        owner: &str,
        org: &str,
        ws: &str,
        display_name: &str,
    ) -> Value {
        self.create_workspace_from(
            owner,
            org,
            json!({"handle": ws, "display_name": display_name}),
        )
        .await
    }

    /// Creates the workspace `body` describes in `org` as `owner`; answers 201 or the test
    /// fails.
    async fn create_workspace_from(&self, owner: &str, org: &str, body: Value) -> Value {
        let created = self
            .post(&format!("/api/v1/orgs/{org}/workspaces"), owner, body)
            .await;
        created.assert_status(201);
        created.body
    }

    pub async fn add_workspace_member(
        &self,
        owner: &str,
        org: &str,
        ws: &str,
        user: &str,
        role: &str,
    ) -> TestResponse {
        self.post(
            &format!("/api/v1/orgs/{org}/workspaces/{ws}/members"),
            owner,
            json!({"user": user, "role": role}),
        )
        .await
    }

    /// A GET with a Host header, as a browser visiting a workspace name would send.
    pub async fn get_host(&self, host: &str, path: &str, accept: Option<&str>) -> TestResponse {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .header("host", host);
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        read(req.send().await.expect("request reaches the server")).await
    }

    /// `GET /metrics` on the metrics listener: the text.
    pub async fn metrics(&self) -> String {
        let addr = self.server.metrics_addr.expect("metrics are served");
        let res = self
            .client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("the metrics listener answers");
        assert_eq!(res.status(), 200);
        res.text().await.expect("metrics text")
    }

    /// Lets the server write the usage it counted and take today's snapshots now, as it
    /// does every few seconds (counts) and minutes (snapshots).
    pub async fn flush_usage(&self) {
        crate::usage::tasks::flush_usage(self.state()).await;
        crate::usage::tasks::snapshot_usage(self.state()).await;
    }

    /// `GET /orgs/{org}/usage{query}`, `query` being `""` or `"?from=…"`.
    pub async fn usage(&self, token: &str, org: &str, query: &str) -> TestResponse {
        self.get(&format!("/api/v1/orgs/{org}/usage{query}"), token)
            .await
    }

    /// Lets the server write what it keeps in memory (token uses) now.
    pub async fn flush(&self) {
        crate::runtime::last_used::flush_token_uses(self.state()).await;
    }
}

async fn read(response: reqwest::Response) -> TestResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    TestResponse {
        status,
        headers,
        body,
        text,
    }
}

/// A DNS client for tests: one query over UDP or TCP to the server's own DNS port.
pub mod dns {
    use std::net::{IpAddr, SocketAddr};
    use std::time::Duration;

    use hickory_server::proto::op::{Message, Query};
    use hickory_server::proto::rr::{Name, RData, RecordType};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpStream, UdpSocket};

    fn query_bytes(name: &str, qtype: RecordType) -> Vec<u8> {
        let mut message = Message::query();
        message.add_query(Query::query(Name::from_ascii(name).expect("a name"), qtype));
        message.to_vec().expect("a query encodes")
    }

    pub async fn udp_query(server: SocketAddr, name: &str, qtype: RecordType) -> Message {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let query = query_bytes(name, qtype);
        socket.send_to(&query, server).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let (len, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
            .await
            .expect("a UDP answer within 5 s")
            .unwrap();
        let answer = Message::from_vec(&buf[..len]).expect("a DNS message");
        assert_eq!(
            answer.metadata.id,
            Message::from_vec(&query).unwrap().metadata.id
        );
        answer
    }

    pub async fn tcp_query(server: SocketAddr, name: &str, qtype: RecordType) -> Message {
        let mut stream = TcpStream::connect(server).await.unwrap();
        let query = query_bytes(name, qtype);
        // DNS over TCP: every message is preceded by its length, two bytes big-endian.
        stream
            .write_all(&(query.len() as u16).to_be_bytes())
            .await
            .unwrap();
        stream.write_all(&query).await.unwrap();
        let read = async {
            let len = stream.read_u16().await.unwrap();
            let mut buf = vec![0u8; usize::from(len)];
            stream.read_exact(&mut buf).await.unwrap();
            buf
        };
        let buf = tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("a TCP answer within 5 s");
        Message::from_vec(&buf).expect("a DNS message")
    }

    pub fn addresses(message: &Message) -> Vec<IpAddr> {
        message
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect()
    }

    pub fn has_soa_authority(message: &Message) -> bool {
        message
            .authorities
            .iter()
            .any(|r| matches!(r.data, RData::SOA(_)))
    }
}
