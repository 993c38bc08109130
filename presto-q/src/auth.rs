//! Which credentials to send: a password (HTTP Basic) or an access token (a JWT, sent
//! as `Authorization: Bearer`), from flags, environment variables or a prompt.
//!
//! The rules, as trino-cli's where it has one:
//! - `--password` asks for a password: `$PRESTO_PASSWORD`, then `$TRINO_PASSWORD`
//!   (trino-cli's variable), else a prompt without echo when stdin is a terminal.
//! - `--access-token TOKEN`, else `$PRESTO_ACCESS_TOKEN`, else `$TRINO_ACCESS_TOKEN`.
//! - Without `--password`, `$PRESTO_PASSWORD` alone is still sent (presto-q's older rule);
//!   `$TRINO_PASSWORD` is not, as with trino-cli, so a shell set up for trino-cli behaves
//!   the same with presto-q.
//! - Only one kind: the flags conflict (clap), and a password variable beside a token
//!   variable with neither flag is a usage error naming both variables.
//!
//! Secrets never go into a message: errors name the variable or flag, never the value.

use std::io::IsTerminal;

use anyhow::Result;
use lakepipe::cli;

pub const PASSWORD_VARS: [&str; 2] = ["PRESTO_PASSWORD", "TRINO_PASSWORD"];
pub const TOKEN_VARS: [&str; 2] = ["PRESTO_ACCESS_TOKEN", "TRINO_ACCESS_TOKEN"];

/// What goes into the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    Password(String),
    Token(String),
}

impl Credentials {
    /// The secret, to keep it out of the server's messages.
    pub fn secret(&self) -> Option<&str> {
        match self {
            Credentials::None => None,
            Credentials::Password(s) | Credentials::Token(s) => Some(s),
        }
    }

    /// "a password" or "an access token", for messages.
    pub fn what(&self) -> &'static str {
        match self {
            Credentials::None => "no credentials",
            Credentials::Password(_) => "a password",
            Credentials::Token(_) => "an access token",
        }
    }
}

// Never print a secret, not even in a debug dump of the arguments.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::None => "None",
            Credentials::Password(_) => "Password(<hidden>)",
            Credentials::Token(_) => "Token(<hidden>)",
        })
    }
}

/// A secret given on the command line: `Debug` hides it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Secret, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hidden>")
    }
}

/// Pick the credentials from the flags and `env` (a variable's non-empty value);
/// `prompt` is asked for a password only when `--password` is given and no variable has one.
pub fn resolve(
    password_flag: bool,
    token_flag: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
    prompt: impl FnOnce() -> Result<String>,
) -> Result<Credentials> {
    let first = |vars: &[&'static str]| {
        vars.iter()
            .find_map(|v| env(v).filter(|s| !s.is_empty()).map(|s| (*v, s)))
    };
    if password_flag {
        let password = match first(&PASSWORD_VARS) {
            Some((_, pw)) => pw,
            None => prompt()?,
        };
        return Ok(Credentials::Password(password));
    }
    if let Some(token) = token_flag {
        if token.is_empty() {
            return Err(cli::usage("--access-token is empty"));
        }
        return Ok(Credentials::Token(token.to_string()));
    }
    let password = first(&PASSWORD_VARS[..1]);
    match (password, first(&TOKEN_VARS)) {
        (Some((pv, _)), Some((tv, _))) => Err(cli::usage(format!(
            "both {pv} and {tv} are set: unset one, or pass --password to use the password"
        ))),
        (Some((_, pw)), None) => Ok(Credentials::Password(pw)),
        (None, Some((_, token))) => Ok(Credentials::Token(token)),
        (None, None) => Ok(Credentials::None),
    }
}

/// Ask for the password on the terminal without echo, as trino-cli's `--password` does.
pub fn prompt_password() -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(cli::usage(
            "--password: stdin is not a terminal to ask for the password on: set PRESTO_PASSWORD \
             (or TRINO_PASSWORD)",
        ));
    }
    let password = rpassword::prompt_password("Password: ")
        .map_err(|e| anyhow::anyhow!("reading the password from the terminal: {e}"))?;
    if password.is_empty() {
        return Err(cli::usage("--password: the password is empty"));
    }
    Ok(password)
}

/// `text` with every occurrence of `secret` replaced, for messages that echo a request.
pub fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(s) if !s.is_empty() => text.replace(s, "<hidden>"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn no_prompt() -> Result<String> {
        panic!("the prompt must not be asked")
    }

    fn usage_message(r: Result<Credentials>) -> String {
        let e = r.unwrap_err();
        assert!(e.is::<cli::UsageError>(), "{e:#}");
        format!("{e:#}")
    }

    #[test]
    fn nothing_set_sends_nothing() {
        let c = resolve(false, None, env(&[]), no_prompt).unwrap();
        assert_eq!(c, Credentials::None);
    }

    #[test]
    fn presto_password_alone_is_sent_trino_password_only_with_the_flag() {
        let c = resolve(false, None, env(&[("PRESTO_PASSWORD", "p")]), no_prompt).unwrap();
        assert_eq!(c, Credentials::Password("p".into()));
        let c = resolve(false, None, env(&[("TRINO_PASSWORD", "t")]), no_prompt).unwrap();
        assert_eq!(c, Credentials::None);
        let c = resolve(true, None, env(&[("TRINO_PASSWORD", "t")]), no_prompt).unwrap();
        assert_eq!(c, Credentials::Password("t".into()));
        let both = env(&[("PRESTO_PASSWORD", "p"), ("TRINO_PASSWORD", "t")]);
        let c = resolve(true, None, both, no_prompt).unwrap();
        assert_eq!(c, Credentials::Password("p".into()));
    }

    #[test]
    fn password_flag_prompts_only_without_a_variable() {
        let c = resolve(true, None, env(&[]), || Ok("typed".into())).unwrap();
        assert_eq!(c, Credentials::Password("typed".into()));
        // An empty variable counts as unset.
        let c = resolve(true, None, env(&[("PRESTO_PASSWORD", "")]), || {
            Ok("typed".into())
        })
        .unwrap();
        assert_eq!(c, Credentials::Password("typed".into()));
        let err = resolve(true, None, env(&[]), || Err(cli::usage("no terminal")));
        assert!(usage_message(err).contains("no terminal"));
    }

    #[test]
    fn password_flag_ignores_token_variables() {
        let vars = env(&[("TRINO_ACCESS_TOKEN", "tok"), ("PRESTO_PASSWORD", "p")]);
        let c = resolve(true, None, vars, no_prompt).unwrap();
        assert_eq!(c, Credentials::Password("p".into()));
    }

    #[test]
    fn token_flag_beats_every_variable() {
        let vars = env(&[
            ("PRESTO_ACCESS_TOKEN", "env"),
            ("TRINO_ACCESS_TOKEN", "env2"),
            ("PRESTO_PASSWORD", "p"),
        ]);
        let c = resolve(false, Some("flag"), vars, no_prompt).unwrap();
        assert_eq!(c, Credentials::Token("flag".into()));
        assert!(usage_message(resolve(false, Some(""), env(&[]), no_prompt)).contains("empty"));
    }

    #[test]
    fn token_variables_in_order() {
        let both = env(&[("PRESTO_ACCESS_TOKEN", "a"), ("TRINO_ACCESS_TOKEN", "b")]);
        let c = resolve(false, None, both, no_prompt).unwrap();
        assert_eq!(c, Credentials::Token("a".into()));
        let c = resolve(false, None, env(&[("TRINO_ACCESS_TOKEN", "b")]), no_prompt).unwrap();
        assert_eq!(c, Credentials::Token("b".into()));
        // trino-cli's password variable does not compete with a token.
        let vars = env(&[("TRINO_ACCESS_TOKEN", "b"), ("TRINO_PASSWORD", "t")]);
        let c = resolve(false, None, vars, no_prompt).unwrap();
        assert_eq!(c, Credentials::Token("b".into()));
    }

    #[test]
    fn a_password_and_a_token_variable_conflict_naming_the_variables_only() {
        let vars = env(&[
            ("PRESTO_PASSWORD", "pw-secret"),
            ("TRINO_ACCESS_TOKEN", "tok-secret"),
        ]);
        let msg = usage_message(resolve(false, None, vars, no_prompt));
        assert!(
            msg.contains("PRESTO_PASSWORD") && msg.contains("TRINO_ACCESS_TOKEN"),
            "{msg}"
        );
        assert!(!msg.contains("secret"), "{msg}");
    }

    #[test]
    fn debug_and_redact_hide_the_secret() {
        let c = Credentials::Token("abc.def.ghi".into());
        assert_eq!(format!("{c:?}"), "Token(<hidden>)");
        assert_eq!(
            redact("bad token abc.def.ghi here", c.secret()),
            "bad token <hidden> here"
        );
        assert_eq!(redact("text", None), "text");
    }
}
