//! Why the brokers did not answer: librdkafka logs the cause of each failed connection
//! (a refused password, a certificate it could not verify, a TLS/plaintext mismatch) but
//! the request that timed out only says "broker transport failure". The clients' contexts
//! keep the most telling of those logs here, and [`explain`] turns it into the message.

use std::sync::Mutex;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::ClientContext;

/// What went wrong, most telling last (a later cause of a higher rank replaces the one kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// Refused, reset or closed connections.
    Transport,
    /// A TLS handshake that failed for another reason than the certificate.
    Tls,
    /// The broker's certificate was not trusted or did not match its name.
    Certificate,
    /// The broker refused the SASL credentials.
    Authentication,
}

static SEEN: Mutex<Option<(Cause, String)>> = Mutex::new(None);

/// Keep a librdkafka log line about a failed connection (facility FAIL, logged at info
/// level for a disconnect) or an error, if it tells more than the one kept so far.
pub fn note(level: RDKafkaLogLevel, fac: &str, msg: &str) {
    if fac != "FAIL" && (level as i32) > (RDKafkaLogLevel::Error as i32) {
        return;
    }
    // "[thrd:sasl_ssl://h:9094/bootstrap]: sasl_ssl://h:9094/bootstrap: why"
    let msg = msg.split_once("]: ").map_or(msg, |(_, m)| m);
    let cause = classify(msg);
    if let Ok(mut seen) = SEEN.lock() {
        if seen.as_ref().is_none_or(|(c, _)| cause > *c) {
            *seen = Some((cause, msg.to_string()));
        }
    }
}

fn classify(msg: &str) -> Cause {
    if msg.contains("SASL authentication error") || msg.contains("Authentication failed") {
        Cause::Authentication
    } else if msg.contains("certificate verify failed")
        || msg.contains("certificate could not be verified")
    {
        Cause::Certificate
    } else if msg.contains("SSL") {
        Cause::Tls
    } else {
        Cause::Transport
    }
}

/// The cause kept so far and librdkafka's words for it.
pub fn seen() -> Option<(Cause, String)> {
    SEEN.lock().ok().and_then(|s| s.clone())
}

/// Handle the log events a consumer has queued (rdkafka delivers them on poll only).
pub fn drain<C: ConsumerContext>(consumer: &BaseConsumer<C>) {
    for _ in 0..1000 {
        if consumer.poll(std::time::Duration::ZERO).is_none() {
            break;
        }
    }
}

/// A context that only keeps the error logs (for -L, -Q and the admin commands).
#[derive(Default)]
pub struct Ctx;

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, msg: &str) {
        note(level, fac, msg);
    }
}

impl ConsumerContext for Ctx {}

/// A listener that hung up on the first request: TLS spoken to, likely, or an old broker.
pub fn closed_at_first_request(why: &str) -> bool {
    (why.contains("closed") && why.contains("APIVERSION_QUERY")) || why.contains("SSL listener")
}

/// The message for a cause, given the brokers and the client's settings.
pub fn explain(
    cause: Cause,
    why: &str,
    brokers: &str,
    get: impl Fn(&str) -> Option<String>,
) -> String {
    let why = why.trim();
    let protocol = get("security.protocol").unwrap_or_else(|| "plaintext".into());
    match cause {
        Cause::Authentication => {
            let mechanism = get("sasl.mechanism").or_else(|| get("sasl.mechanisms"));
            let user = get("sasl.username").map(|u| format!(", user {u:?}")).unwrap_or_default();
            format!(
                "authentication failed at Kafka broker(s) {brokers} (SASL mechanism {}{user}): {why}",
                mechanism.as_deref().unwrap_or("GSSAPI")
            )
        }
        Cause::Certificate => {
            let ca = match (get("ssl.ca.location"), get("ssl.ca.pem")) {
                (Some(f), _) => format!("CA file {f} (ssl.ca.location)"),
                (None, Some(_)) => "the CA in ssl.ca.pem".into(),
                (None, None) => "the system's default CA certificates (set ssl.ca.location)".into(),
            };
            format!("certificate verify failed for Kafka broker(s) {brokers}, checked against {ca}: {why}")
        }
        Cause::Tls => format!(
            "TLS handshake with Kafka broker(s) {brokers} failed (security.protocol={protocol}; a plaintext listener?): {why}"
        ),
        Cause::Transport if closed_at_first_request(why) => format!(
            "Kafka broker(s) {brokers} closed the connection at the first request \
             (security.protocol={protocol}: is it a TLS listener? then use SSL or SASL_SSL): {why}"
        ),
        Cause::Transport => format!("Kafka broker(s) {brokers}: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_telling_cause_wins() {
        assert_eq!(
            classify("x: Connect to ipv4#127.0.0.1:1 failed: Connection refused"),
            Cause::Transport
        );
        assert_eq!(
            classify(
                "x: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed"
            ),
            Cause::Certificate
        );
        assert_eq!(
            classify("x: SASL authentication error: Authentication failed during authentication"),
            Cause::Authentication
        );
        assert!(Cause::Authentication > Cause::Certificate && Cause::Tls > Cause::Transport);
    }

    #[test]
    fn messages_name_the_broker_and_the_ca() {
        let get = |k: &str| match k {
            "sasl.mechanism" => Some("SCRAM-SHA-512".to_string()),
            "sasl.username" => Some("alice".to_string()),
            "ssl.ca.location" => Some("/x/ca.pem".to_string()),
            _ => None,
        };
        let m = explain(Cause::Authentication, "why", "h:9094", get);
        assert!(
            m.starts_with("authentication failed at Kafka broker(s) h:9094"),
            "{m}"
        );
        assert!(m.contains("SCRAM-SHA-512") && m.contains("alice"), "{m}");
        let m = explain(Cause::Certificate, "why", "h:9094", get);
        assert!(
            m.contains("certificate verify failed") && m.contains("/x/ca.pem"),
            "{m}"
        );
        let m = explain(Cause::Certificate, "why", "h:9094", |_| None);
        assert!(m.contains("system's default CA"), "{m}");
    }
}
