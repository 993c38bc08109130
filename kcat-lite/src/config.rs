//! librdkafka client configuration from -b, -F, -X and --timeout.

use std::time::Duration;

use anyhow::{Context, Result};
use lakepipe::cli;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::ClientConfig;

use crate::Args;

/// The client configuration shared by every mode. User -F/-X settings come last so they win.
pub fn client_config(args: &Args) -> Result<ClientConfig> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &args.brokers);
    let ms = args.timeout().as_millis().max(1).to_string();
    // Fail requests and connection attempts within --timeout rather than librdkafka's minutes.
    c.set("socket.timeout.ms", ms.clone());
    c.set("socket.connection.setup.timeout.ms", ms);
    c.set("log_level", "3");
    c.set_log_level(RDKafkaLogLevel::Error);
    if let Some(path) = &args.config_file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = split_prop(line).ok_or_else(|| {
                cli::usage(format!(
                    "{}:{}: expected prop=value, got {line:?}",
                    path.display(),
                    n + 1
                ))
            })?;
            c.set(k, v);
        }
    }
    for p in &args.props {
        let (k, v) =
            split_prop(p).ok_or_else(|| cli::usage(format!("-X {p:?}: expected prop=value")))?;
        c.set(k, v);
    }
    Ok(c)
}

fn split_prop(s: &str) -> Option<(&str, &str)> {
    let (k, v) = s.split_once('=')?;
    let k = k.trim();
    (!k.is_empty()).then_some((k, v.trim()))
}

/// True when the user set a property with -X or -F (so defaults we pick must not override it).
pub fn user_set(args: &Args, prop: &str) -> bool {
    args.props
        .iter()
        .any(|p| p.split_once('=').is_some_and(|(k, _)| k.trim() == prop))
        || args.config_file.as_ref().is_some_and(|f| {
            std::fs::read_to_string(f).is_ok_and(|t| {
                t.lines()
                    .any(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == prop))
            })
        })
}

/// Set a default unless the user gave the property.
pub fn set_default(c: &mut ClientConfig, args: &Args, prop: &str, value: &str) {
    if !user_set(args, prop) {
        c.set(prop, value);
    }
}

/// The error for brokers that did not answer within --timeout.
pub fn unreachable(args: &Args, timeout: Duration, err: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot reach Kafka broker(s) {} (waited up to {:.0?}, see --timeout): {err}",
        args.brokers,
        timeout
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn x_props_override_defaults() {
        let a = Args::try_parse_from([
            "kcat-lite",
            "-b",
            "h:1",
            "-X",
            "socket.timeout.ms=5",
            "-X",
            "client.id = me",
        ])
        .unwrap();
        let c = client_config(&a).unwrap();
        assert_eq!(c.get("socket.timeout.ms"), Some("5"));
        assert_eq!(c.get("client.id"), Some("me"));
        assert!(user_set(&a, "client.id"));
        let bad = Args::try_parse_from(["kcat-lite", "-X", "novalue"]).unwrap();
        assert!(client_config(&bad).is_err());
    }
}
