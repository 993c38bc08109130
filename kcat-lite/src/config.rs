//! librdkafka client configuration from -b, -F, -X and --timeout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use lakepipe::cli;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::ClientConfig;

use crate::{diagnose, Args};

/// The client configuration shared by every mode. The user's properties (the config
/// file's, then -X) come last so they win.
pub fn client_config(args: &Args) -> Result<ClientConfig> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &args.brokers);
    let ms = args.timeout().as_millis().max(1).to_string();
    // Fail requests and connection attempts within --timeout rather than librdkafka's minutes.
    c.set("socket.timeout.ms", ms.clone());
    c.set("socket.connection.setup.timeout.ms", ms);
    // Info, for the disconnects librdkafka explains there (diagnose keeps them; nothing is
    // printed).
    c.set("log_level", "6");
    c.set_log_level(RDKafkaLogLevel::Info);
    for (k, v) in &args.user_props {
        c.set(k, v);
    }
    Ok(c)
}

/// Read the properties file (kcat's order: -F FILE, else $KCAT_CONFIG, else
/// ~/.config/kcat.conf, else ~/.config/kafkacat.conf) and the -X properties into
/// `args.user_props`, in that order.
pub fn load(args: &mut Args) -> Result<()> {
    let mut props = Vec::new();
    if let Some(path) = config_path(args) {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        warn_if_readable_by_others(&path);
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let prop = split_prop(line).ok_or_else(|| {
                cli::usage(format!(
                    "{}:{}: expected prop=value, got {}",
                    path.display(),
                    n + 1,
                    shown(line)
                ))
            })?;
            props.push(prop);
        }
    }
    for p in &args.props {
        let prop = split_prop(p)
            .ok_or_else(|| cli::usage(format!("-X {}: expected prop=value", shown(p))))?;
        props.push(prop);
    }
    args.user_props = props;
    Ok(())
}

/// The properties file to read, if any: -F and $KCAT_CONFIG must exist, the files in
/// ~/.config are read when they are there.
fn config_path(args: &Args) -> Option<PathBuf> {
    if let Some(f) = &args.config_file {
        return Some(f.clone());
    }
    if let Some(f) = std::env::var_os("KCAT_CONFIG").filter(|f| !f.is_empty()) {
        return Some(f.into());
    }
    let home = PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?);
    ["kcat.conf", "kafkacat.conf"]
        .iter()
        .map(|f| home.join(".config").join(f))
        .find(|f| f.is_file())
}

/// As ssh does for its keys: a file that may hold passwords should be the owner's alone.
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if meta.is_file() && mode & 0o044 != 0 {
        cli::warn(format!(
            "{} is readable by group or others (mode {mode:04o}) and may hold secrets; chmod 600 it",
            path.display()
        ));
    }
}

fn split_prop(s: &str) -> Option<(String, String)> {
    let (k, v) = s.split_once('=')?;
    let k = k.trim();
    (!k.is_empty()).then(|| (k.to_string(), v.trim().to_string()))
}

/// Properties whose values are secrets: never printed.
pub fn is_secret(prop: &str) -> bool {
    let p = prop.to_ascii_lowercase();
    [
        "password",
        "secret",
        "sasl.oauthbearer.config",
        "ssl.key.pem",
        "ssl_key.pem",
        "token",
    ]
    .iter()
    .any(|s| p.contains(s))
}

/// A malformed property as an error may show it: not at all when it may hold a secret.
fn shown(text: &str) -> String {
    if is_secret(text) {
        "a line that names a secret (value not shown)".into()
    } else {
        format!("{text:?}")
    }
}

/// The values of the user's secret properties (for [`redact`]).
pub fn secrets(args: &Args) -> Vec<String> {
    args.user_props
        .iter()
        .filter(|(k, v)| is_secret(k) && v.len() >= 3)
        .map(|(_, v)| v.clone())
        .collect()
}

/// An error whose text shows none of `secrets` (librdkafka may quote a value it rejects).
pub fn redact(err: anyhow::Error, secrets: &[String]) -> anyhow::Error {
    let text = format!("{err:#}");
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return err;
    }
    let text = secrets
        .iter()
        .fold(text, |t, s| t.replace(s.as_str(), "***"));
    anyhow::anyhow!(text)
}

/// The user's value of a property (last one wins, as librdkafka applies them).
pub fn user_value(args: &Args, prop: &str) -> Option<String> {
    args.user_props
        .iter()
        .rev()
        .find(|(k, _)| k == prop)
        .map(|(_, v)| v.clone())
}

/// True when the user set a property with -X or a config file (so defaults we pick must
/// not override it).
pub fn user_set(args: &Args, prop: &str) -> bool {
    args.user_props.iter().any(|(k, _)| k == prop)
}

/// Set a default unless the user gave the property.
pub fn set_default(c: &mut ClientConfig, args: &Args, prop: &str, value: &str) {
    if !user_set(args, prop) {
        c.set(prop, value);
    }
}

/// Create a client; a SASL mechanism this build lacks is named as such.
pub fn create<C, T>(cfg: &ClientConfig, context: C, what: &str) -> Result<T>
where
    C: rdkafka::ClientContext,
    T: rdkafka::config::FromClientConfigAndContext<C>,
{
    cfg.create_with_context(context).map_err(|e| {
        let text = e.to_string();
        let mechanism = cfg.get("sasl.mechanism").or(cfg.get("sasl.mechanisms"));
        match mechanism {
            Some(m) if text.contains("No provider") || text.contains("Unsupported SASL mechanism") => {
                anyhow::anyhow!(
                    "creating the Kafka {what}: SASL mechanism {m} is not supported by this kcat-lite \
                     (built with {SASL_MECHANISMS}): {text}"
                )
            }
            _ => anyhow::Error::new(e).context(format!("creating the Kafka {what}")),
        }
    })
}

/// The SASL mechanisms compiled in (librdkafka with OpenSSL and Cyrus SASL).
pub const SASL_MECHANISMS: &str = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, GSSAPI";

/// The error for brokers that did not answer within --timeout: the cause librdkafka
/// logged (a refused password, an untrusted certificate...) when there was one.
pub fn unreachable(args: &Args, timeout: Duration, err: impl std::fmt::Display) -> anyhow::Error {
    let get = |p: &str| user_value(args, p);
    match diagnose::seen() {
        Some((cause, why))
            if cause > diagnose::Cause::Transport || diagnose::closed_at_first_request(&why) =>
        {
            anyhow::anyhow!(
                "{} (waited up to {timeout:.0?})",
                diagnose::explain(cause, &why, &args.brokers, get)
            )
        }
        _ => anyhow::anyhow!(
            "cannot reach Kafka broker(s) {} (waited up to {:.0?}, see --timeout): {err}",
            args.brokers,
            timeout
        ),
    }
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
        let mut a = a;
        load(&mut a).unwrap();
        let c = client_config(&a).unwrap();
        assert_eq!(c.get("socket.timeout.ms"), Some("5"));
        assert_eq!(c.get("client.id"), Some("me"));
        assert!(user_set(&a, "client.id"));
        let mut bad = Args::try_parse_from(["kcat-lite", "-X", "novalue"]).unwrap();
        assert!(load(&mut bad).is_err());
        let mut secret =
            Args::try_parse_from(["kcat-lite", "-X", "sasl.password hunter2"]).unwrap();
        let e = format!("{:#}", load(&mut secret).unwrap_err());
        assert!(!e.contains("hunter2"), "{e}");
    }
}
