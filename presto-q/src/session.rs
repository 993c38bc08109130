//! Client session state: what the first request of each statement sends, updated from
//! the headers of every response (`USE`, `SET SESSION`, `PREPARE`, transactions, roles).

/// Which header family the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// `X-Trino-*` headers (Trino 351 and later)
    Trino,
    /// `X-Presto-*` headers (PrestoDB, PrestoSQL before 351)
    Presto,
}

impl Protocol {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Protocol::Trino => "X-Trino-",
            Protocol::Presto => "X-Presto-",
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Session {
    pub catalog: Option<String>,
    pub schema: Option<String>,
    pub path: Option<String>,
    pub source: String,
    pub time_zone: Option<String>,
    pub client_tags: Option<String>,
    pub client_info: Option<String>,
    /// Session properties, in the order they were set; values decoded.
    pub properties: Vec<(String, String)>,
    /// Prepared statements: name and SQL text (decoded).
    pub prepared: Vec<(String, String)>,
    /// Roles per catalog, as the server sent them.
    pub roles: Vec<(String, String)>,
    pub transaction_id: Option<String>,
    pub authorization_user: Option<String>,
}

fn upsert(list: &mut Vec<(String, String)>, key: &str, value: String) {
    match list.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value,
        None => list.push((key.to_string(), value)),
    }
}

impl Session {
    /// Headers for the POST that submits a statement (names without the protocol prefix).
    pub fn request_headers(&self, protocol: Protocol) -> Vec<(&'static str, String)> {
        let mut h = Vec::new();
        h.push(("Source", self.source.clone()));
        let optional = [
            ("Catalog", &self.catalog),
            ("Schema", &self.schema),
            ("Path", &self.path),
            ("Time-Zone", &self.time_zone),
            ("Client-Tags", &self.client_tags),
            ("Client-Info", &self.client_info),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                h.push((name, v.clone()));
            }
        }
        if !self.properties.is_empty() {
            h.push(("Session", join_encoded(&self.properties)));
        }
        if !self.prepared.is_empty() {
            h.push(("Prepared-Statement", join_encoded(&self.prepared)));
        }
        for (catalog, role) in &self.roles {
            h.push(("Role", format!("{catalog}={role}")));
        }
        // "NONE" tells the server that this client handles START TRANSACTION.
        h.push((
            "Transaction-Id",
            self.transaction_id.clone().unwrap_or_else(|| "NONE".into()),
        ));
        if let Some(u) = &self.authorization_user {
            h.push(("Authorization-User", u.clone()));
        }
        if protocol == Protocol::Trino {
            // Timestamps at their full precision instead of rounded to milliseconds, as
            // trino-cli asks; PATH and SESSION_AUTHORIZATION for SET PATH / SET SESSION AUTHORIZATION.
            h.push((
                "Client-Capabilities",
                "PATH,PARAMETRIC_DATETIME,SESSION_AUTHORIZATION".into(),
            ));
        }
        h
    }

    /// Apply one response header (name lower-case, without the protocol prefix).
    pub fn apply(&mut self, name: &str, value: &str) {
        match name {
            "set-catalog" => self.catalog = Some(value.to_string()),
            "set-schema" => self.schema = Some(value.to_string()),
            "set-path" => self.path = Some(value.to_string()),
            "set-session" => {
                if let Some((k, v)) = value.split_once('=') {
                    upsert(&mut self.properties, k.trim(), url_decode(v.trim()));
                }
            }
            "clear-session" => self.properties.retain(|(k, _)| k != value.trim()),
            "set-role" => {
                if let Some((catalog, role)) = value.split_once('=') {
                    upsert(&mut self.roles, catalog.trim(), role.trim().to_string());
                }
            }
            "added-prepare" => {
                if let Some((k, v)) = value.split_once('=') {
                    upsert(
                        &mut self.prepared,
                        &url_decode(k.trim()),
                        url_decode(v.trim()),
                    );
                }
            }
            "deallocated-prepare" => {
                let name = url_decode(value.trim());
                self.prepared.retain(|(k, _)| *k != name);
            }
            "started-transaction-id" => self.transaction_id = Some(value.trim().to_string()),
            "clear-transaction-id" => self.transaction_id = None,
            "set-authorization-user" => self.authorization_user = Some(value.trim().to_string()),
            "reset-authorization-user" => self.authorization_user = None,
            _ => {}
        }
    }
}

fn join_encoded(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// `application/x-www-form-urlencoded` as Java's URLEncoder writes it (space as `+`).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_coding_round_trips() {
        let s = "SELECT * FROM t WHERE x = 'a,b=c' -- é%";
        assert_eq!(url_decode(&url_encode(s)), s);
        assert_eq!(url_encode("a b,c"), "a+b%2Cc");
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(url_decode("%4"), "%4");
    }

    #[test]
    fn response_headers_change_the_session() {
        let mut s = Session::default();
        s.apply("set-catalog", "hive");
        s.apply("set-schema", "default");
        s.apply("set-session", "query_max_run_time=10m");
        s.apply("set-session", "join_distribution_type=BROADCAST");
        s.apply("set-session", "query_max_run_time=5m");
        s.apply("clear-session", "join_distribution_type");
        s.apply("added-prepare", "q1=SELECT+%3F");
        s.apply("started-transaction-id", "abc");
        assert_eq!(s.catalog.as_deref(), Some("hive"));
        assert_eq!(
            s.properties,
            vec![("query_max_run_time".to_string(), "5m".to_string())]
        );
        let h = s.request_headers(Protocol::Trino);
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
        assert_eq!(get("Catalog").as_deref(), Some("hive"));
        assert_eq!(get("Session").as_deref(), Some("query_max_run_time=5m"));
        assert_eq!(get("Prepared-Statement").as_deref(), Some("q1=SELECT+%3F"));
        assert_eq!(get("Transaction-Id").as_deref(), Some("abc"));
        s.apply("deallocated-prepare", "q1");
        s.apply("clear-transaction-id", "true");
        let h = s.request_headers(Protocol::Presto);
        assert!(!h
            .iter()
            .any(|(k, _)| *k == "Prepared-Statement" || *k == "Client-Capabilities"));
        assert!(h.contains(&("Transaction-Id", "NONE".to_string())));
    }
}
