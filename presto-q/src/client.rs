//! The client REST protocol of Trino and PrestoDB: POST `/v1/statement`, follow
//! `nextUri` until it is absent, DELETE it to cancel; 502/503/504 are retried briefly.
//! Session changes that come back in response headers are applied to [`Session`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use ureq::http;

use crate::auth::{self, Credentials};
use crate::session::{Protocol, Session};

/// How to reach and authenticate to the coordinator.
pub struct Connection {
    pub server: String,
    pub protocol: Protocol,
    /// None: the server takes the user from the credentials (an access token's subject).
    pub user: Option<String>,
    pub credentials: Credentials,
    pub timeout: Duration,
    pub ca_file: Option<std::path::PathBuf>,
    pub insecure: bool,
}

/// One response of the protocol (`QueryResults`); only the fields presto-q uses.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct QueryResults {
    pub id: String,
    pub next_uri: Option<String>,
    pub columns: Option<Vec<Value>>,
    pub data: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    pub stats: Stats,
    pub error: Option<QueryError>,
    pub update_type: Option<String>,
    pub update_count: Option<u64>,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
pub struct Stats {
    pub state: String,
    pub total_splits: u64,
    pub completed_splits: u64,
    pub processed_rows: u64,
    pub processed_bytes: u64,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct QueryError {
    #[serde(default)]
    pub message: String,
    pub error_name: Option<String>,
    pub error_location: Option<ErrorLocation>,
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct ErrorLocation {
    pub line_number: usize,
    pub column_number: usize,
}

/// A page plus the session-changing headers that came with it.
pub struct Page {
    pub results: QueryResults,
    pub headers: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    conn: Arc<Connection>,
}

impl Client {
    pub fn new(conn: Connection) -> Result<Client> {
        let https = conn.server.starts_with("https://");
        if conn.credentials != Credentials::None && !https {
            // Over plain HTTP the password or token would travel in the clear.
            return Err(lakepipe::cli::usage(format!(
                "{} is given but {} is not https: authentication needs https",
                conn.credentials.what(),
                conn.server
            )));
        }
        let mut tls = ureq::tls::TlsConfig::builder().disable_verification(conn.insecure);
        if let Some(path) = &conn.ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading CA file {}", path.display()))?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                if let ureq::tls::PemItem::Certificate(c) =
                    item.with_context(|| format!("parsing {}", path.display()))?
                {
                    certs.push(c);
                }
            }
            if certs.is_empty() {
                bail!("no PEM certificate in CA file {}", path.display());
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(conn.timeout))
            .timeout_global(Some(conn.timeout))
            // Ask for plain bodies: gzip costs more CPU here than it saves on loopback.
            .accept_encoding("identity")
            .user_agent(concat!("presto-q/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build()
            .into();
        Ok(Client {
            agent,
            conn: Arc::new(conn),
        })
    }

    pub fn server(&self) -> &str {
        &self.conn.server
    }

    fn header(&self, name: &str) -> String {
        format!("{}{}", self.conn.protocol.prefix(), name)
    }

    fn auth<B>(&self, mut req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        if let Some(user) = &self.conn.user {
            req = req.header(self.header("User"), user);
        }
        match &self.conn.credentials {
            Credentials::None => req,
            Credentials::Password(pw) => {
                let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    self.conn.user.as_deref().unwrap_or(""),
                    pw
                ));
                req.header("Authorization", format!("Basic {basic}"))
            }
            Credentials::Token(token) => req.header("Authorization", format!("Bearer {token}")),
        }
    }

    /// Submit a statement; the first response usually has no data yet.
    pub fn submit(&self, sql: &str, session: &Session) -> Result<Page> {
        let url = format!("{}/v1/statement", self.conn.server.trim_end_matches('/'));
        self.with_retries(&url, || {
            let mut req = self.auth(self.agent.post(&url));
            for (name, value) in session.request_headers(self.conn.protocol) {
                req = req.header(self.header(name), value);
            }
            req.content_type("text/plain; charset=utf-8").send(sql)
        })
    }

    /// Fetch the next page.
    pub fn fetch(&self, next_uri: &str) -> Result<Page> {
        self.with_retries(next_uri, || self.auth(self.agent.get(next_uri)).call())
    }

    /// Cancel the query behind `next_uri` (best effort: the server may be gone already).
    pub fn cancel(&self, next_uri: &str) {
        let _ = self.auth(self.agent.delete(next_uri)).call();
    }

    fn with_retries(
        &self,
        url: &str,
        send: impl Fn() -> std::result::Result<http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Page> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(50);
        loop {
            let mut resp = send().map_err(|e| self.transport_error(url, e))?;
            let status = resp.status().as_u16();
            if matches!(status, 502..=504) && started.elapsed() + delay < self.conn.timeout {
                // The coordinator is restarting or overloaded: the protocol says retry.
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(1000));
                continue;
            }
            let headers = session_headers(resp.headers(), self.conn.protocol);
            let challenges = challenges(resp.headers());
            let body = resp
                .body_mut()
                .with_config()
                .limit(u64::MAX)
                .read_to_vec()
                .map_err(|e| self.transport_error(url, e))?;
            if status != 200 {
                let msg = http_error(
                    &self.conn.server,
                    status,
                    &body,
                    &self.conn.credentials,
                    &challenges,
                );
                bail!("{}", auth::redact(&msg, self.conn.credentials.secret()));
            }
            let results: QueryResults = serde_json::from_slice(&body).with_context(|| {
                format!(
                    "reading the response of {}: not a query result",
                    self.conn.server
                )
            })?;
            return Ok(Page { results, headers });
        }
    }

    fn transport_error(&self, url: &str, e: ureq::Error) -> anyhow::Error {
        let what = match &e {
            ureq::Error::Timeout(_) => format!(
                "no answer within {}s (--timeout)",
                self.conn.timeout.as_secs_f64()
            ),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused".to_string()
            }
            other => {
                let msg = other.to_string();
                if msg.contains("certificate") {
                    return anyhow::anyhow!(
                        "{}: the server's TLS certificate is not trusted ({msg}): pass --ca-file with the CA that \
                         signed it, or --insecure to skip verification",
                        self.conn.server
                    );
                }
                msg
            }
        };
        // Name the server the user gave; the nextUri would only add noise.
        let _ = url;
        anyhow::anyhow!("cannot reach {}: {what}", self.conn.server)
    }
}

/// An HTTP error from the coordinator, explained. `challenges` are the schemes of its
/// `WWW-Authenticate` headers (`basic`, `bearer`), lowercase.
fn http_error(
    server: &str,
    status: u16,
    body: &[u8],
    sent: &Credentials,
    challenges: &[String],
) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let detail = if text.is_empty() || text.starts_with('<') {
        String::new()
    } else {
        format!(": {}", truncate(text, 300))
    };
    match (status, sent) {
        (401, Credentials::None) => {
            let bearer = challenges.iter().any(|c| c == "bearer");
            let basic = challenges.iter().any(|c| c == "basic") || !bearer;
            let wants = match (basic, bearer) {
                (true, true) => concat!(
                    "a password or an access token: set PRESTO_PASSWORD ",
                    "(or pass --password to be asked) or PRESTO_ACCESS_TOKEN"
                ),
                (true, false) => "a password: set PRESTO_PASSWORD (or pass --password to be asked)",
                _ => "an access token: set PRESTO_ACCESS_TOKEN",
            };
            format!("{server} requires {wants} (401 Unauthorized){detail}")
        }
        (401, Credentials::Password(_)) => {
            format!("{server} refused the password (401 Unauthorized){detail}")
        }
        (401, Credentials::Token(_)) => {
            format!("{server} refused the access token (401 Unauthorized){detail}")
        }
        (403, _) => format!("{server} denied access (403 Forbidden){detail}"),
        _ => format!("{server} answered HTTP {status}{detail}"),
    }
}

/// The schemes the server offers in `WWW-Authenticate` (`Basic realm=...` -> `basic`).
fn challenges(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split_whitespace().next())
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The response headers that change the session (`X-Trino-Set-Catalog` and friends),
/// with the protocol prefix removed.
fn session_headers(headers: &http::HeaderMap, protocol: Protocol) -> Vec<(String, String)> {
    let prefix = protocol.prefix().to_ascii_lowercase();
    let mut out = Vec::new();
    for (name, value) in headers {
        if let Some(rest) = name.as_str().strip_prefix(&prefix) {
            if let Ok(v) = value.to_str() {
                out.push((rest.to_string(), v.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(sent: &Credentials, challenges: &[&str]) -> String {
        let challenges: Vec<String> = challenges.iter().map(|c| c.to_string()).collect();
        http_error("https://t", 401, b"Unauthorized", sent, &challenges)
    }

    #[test]
    fn a_401_says_what_the_server_offers_and_what_it_refused() {
        let none = Credentials::None;
        assert_eq!(
            err(&none, &["basic", "bearer"]),
            "https://t requires a password or an access token: set PRESTO_PASSWORD (or pass \
             --password to be asked) or PRESTO_ACCESS_TOKEN (401 Unauthorized): Unauthorized"
        );
        assert!(
            err(&none, &["bearer"]).contains("requires an access token: set PRESTO_ACCESS_TOKEN")
        );
        // No challenge at all (an older server, a proxy): the password, as before.
        assert!(err(&none, &[]).contains("requires a password: set PRESTO_PASSWORD"));
        let token = Credentials::Token("t".into());
        assert!(err(&token, &["bearer"]).starts_with("https://t refused the access token (401"));
        let password = Credentials::Password("p".into());
        assert!(err(&password, &["basic"]).starts_with("https://t refused the password (401"));
    }

    #[test]
    fn challenges_are_the_schemes_lowercased() {
        let mut headers = http::HeaderMap::new();
        headers.append(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Basic realm=\"Trino\""),
        );
        headers.append(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer realm=\"Trino\", token_type=\"JWT\""),
        );
        assert_eq!(challenges(&headers), ["basic", "bearer"]);
    }
}
