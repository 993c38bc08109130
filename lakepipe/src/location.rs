//! Locations: a local path, `file:///abs/path`, `hdfs://host:port/path` or `hdfs:///path`
//! (namenode from `$HDFS_NAMENODE` or `fs.defaultFS` in `$HADOOP_CONF_DIR/core-site.xml`).
//! One parser serves every tool.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LocationError {
    #[error("{0}: unsupported scheme '{1}' (use a local path, file:// or hdfs://)")]
    Scheme(String, String),
    #[error("{0}: file:// URLs must be absolute (file:///path)")]
    FileHost(String),
    #[error("{0}: no namenode given and none configured (set HDFS_NAMENODE, or fs.defaultFS in $HADOOP_CONF_DIR/core-site.xml)")]
    NoNamenode(String),
    #[error("{0}: empty location")]
    Empty(String),
}

/// A parsed location.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    Local(PathBuf),
    /// `namenode` is `host:port`; `path` is absolute, without scheme or authority.
    Hdfs {
        namenode: String,
        path: String,
    },
}

impl Location {
    /// Parse a location, resolving `hdfs:///` from the process environment.
    pub fn parse(s: &str) -> Result<Location, LocationError> {
        Self::parse_with(s, &|k| std::env::var(k).ok())
    }

    /// Parse with an explicit environment lookup (for tests).
    pub fn parse_with(
        s: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Location, LocationError> {
        if s.is_empty() {
            return Err(LocationError::Empty(s.into()));
        }
        let Some((scheme, rest)) = split_scheme(s) else {
            return Ok(Location::Local(PathBuf::from(s)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "file" => {
                let rest = rest.strip_prefix("//").unwrap_or(rest);
                let path = match rest.split_once('/') {
                    Some(("", _)) => rest.to_string(),
                    Some(("localhost", p)) => format!("/{p}"),
                    _ => return Err(LocationError::FileHost(s.into())),
                };
                Ok(Location::Local(PathBuf::from(percent_decode(&path))))
            }
            "hdfs" => {
                let rest = rest.strip_prefix("//").unwrap_or(rest);
                let (authority, path) = match rest.find('/') {
                    Some(i) => (&rest[..i], &rest[i..]),
                    None => (rest, "/"),
                };
                let namenode = if authority.is_empty() {
                    default_namenode(env).ok_or_else(|| LocationError::NoNamenode(s.into()))?
                } else {
                    authority.to_string()
                };
                Ok(Location::Hdfs {
                    namenode,
                    path: normalize_hdfs_path(path),
                })
            }
            other => Err(LocationError::Scheme(s.into(), other.into())),
        }
    }

    pub fn is_hdfs(&self) -> bool {
        matches!(self, Location::Hdfs { .. })
    }

    /// A child location: `rel` (one or more `/`-separated names) below this one.
    pub fn join(&self, rel: &str) -> Location {
        match self {
            Location::Local(p) => Location::Local(p.join(rel)),
            Location::Hdfs { namenode, path } => {
                let rel = rel.trim_matches('/');
                let path = if rel.is_empty() {
                    path.clone()
                } else if path == "/" {
                    format!("/{rel}")
                } else {
                    format!("{path}/{rel}")
                };
                Location::Hdfs {
                    namenode: namenode.clone(),
                    path,
                }
            }
        }
    }

    /// The folder holding this location (None for a root or a bare relative name).
    pub fn parent(&self) -> Option<Location> {
        match self {
            Location::Local(p) => p
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| Location::Local(p.to_path_buf())),
            Location::Hdfs { namenode, path } => {
                if path == "/" {
                    return None;
                }
                let parent = match path.rfind('/') {
                    Some(0) | None => "/".to_string(),
                    Some(i) => path[..i].to_string(),
                };
                Some(Location::Hdfs {
                    namenode: namenode.clone(),
                    path: parent,
                })
            }
        }
    }

    /// The final path component ("" for a root).
    pub fn file_name(&self) -> String {
        match self {
            Location::Local(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            Location::Hdfs { path, .. } => path.rsplit('/').next().unwrap_or("").to_string(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::Hdfs { namenode, path } => write!(f, "hdfs://{namenode}{path}"),
        }
    }
}

/// `scheme:rest` when `s` starts with an RFC 3986 scheme followed by `://` or `:/`.
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    (valid && rest.starts_with('/')).then_some((scheme, rest))
}

fn normalize_hdfs_path(p: &str) -> String {
    let decoded = percent_decode(p);
    if decoded.len() > 1 {
        decoded.trim_end_matches('/').to_string()
    } else {
        "/".into()
    }
}

/// Decode `%XX` escapes (URLs may carry them for spaces and the like).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The default namenode as `host:port`: `$HDFS_NAMENODE`, else `fs.defaultFS` from
/// `$HADOOP_CONF_DIR/core-site.xml`.
pub fn default_namenode(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let from_url = |u: &str| {
        let u = u.trim();
        let rest = u.strip_prefix("hdfs://").unwrap_or(u);
        let auth = rest.split('/').next().unwrap_or("");
        (!auth.is_empty()).then(|| auth.to_string())
    };
    if let Some(v) = env("HDFS_NAMENODE").filter(|v| !v.is_empty()) {
        return from_url(&v);
    }
    let dir = env("HADOOP_CONF_DIR")?;
    let xml = std::fs::read_to_string(Path::new(&dir).join("core-site.xml")).ok()?;
    core_site_property(&xml, "fs.defaultFS").and_then(|v| from_url(&v))
}

/// The value of a property in a Hadoop `*-site.xml` (a tiny reader: these files are flat).
pub fn core_site_property(xml: &str, name: &str) -> Option<String> {
    let tag = |block: &str, t: &str| -> Option<String> {
        let start = block.find(&format!("<{t}>"))? + t.len() + 2;
        let end = block[start..].find(&format!("</{t}>"))? + start;
        Some(block[start..end].trim().to_string())
    };
    xml.split("<property>").skip(1).find_map(|block| {
        (tag(block, "name")?.as_str() == name)
            .then(|| tag(block, "value"))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn parses_local_and_file_urls() {
        assert_eq!(
            Location::parse_with("out/x.parquet", &env_none).unwrap(),
            Location::Local("out/x.parquet".into())
        );
        assert_eq!(
            Location::parse_with("file:///tmp/a%20b", &env_none).unwrap(),
            Location::Local("/tmp/a b".into())
        );
        assert_eq!(
            Location::parse_with("file://localhost/tmp", &env_none).unwrap(),
            Location::Local("/tmp".into())
        );
        assert!(matches!(
            Location::parse_with("file://host/tmp", &env_none),
            Err(LocationError::FileHost(_))
        ));
        // A Windows-like or colon-containing relative name is a path, not a scheme.
        assert_eq!(
            Location::parse_with("a:b", &env_none).unwrap(),
            Location::Local("a:b".into())
        );
    }

    #[test]
    fn parses_hdfs_urls() {
        let l = Location::parse_with("hdfs://nn:9000/data/t/", &env_none).unwrap();
        assert_eq!(
            l,
            Location::Hdfs {
                namenode: "nn:9000".into(),
                path: "/data/t".into()
            }
        );
        assert_eq!(l.to_string(), "hdfs://nn:9000/data/t");
        let root = Location::parse_with("hdfs://nn:9000", &env_none).unwrap();
        assert_eq!(
            root,
            Location::Hdfs {
                namenode: "nn:9000".into(),
                path: "/".into()
            }
        );
    }

    #[test]
    fn hdfs_without_authority_uses_the_environment() {
        assert!(matches!(
            Location::parse_with("hdfs:///x", &env_none),
            Err(LocationError::NoNamenode(_))
        ));
        let env = |k: &str| (k == "HDFS_NAMENODE").then(|| "hdfs://127.0.0.1:9000".to_string());
        assert_eq!(
            Location::parse_with("hdfs:///x", &env).unwrap(),
            Location::Hdfs {
                namenode: "127.0.0.1:9000".into(),
                path: "/x".into()
            }
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("core-site.xml"),
            "<configuration><property><name>a</name><value>b</value></property>\n<property>\n <name>fs.defaultFS</name>\n <value>hdfs://nn2:8020</value></property></configuration>",
        )
        .unwrap();
        let d = dir.path().to_string_lossy().into_owned();
        let env = move |k: &str| (k == "HADOOP_CONF_DIR").then(|| d.clone());
        assert_eq!(
            Location::parse_with("hdfs:///y", &env).unwrap(),
            Location::Hdfs {
                namenode: "nn2:8020".into(),
                path: "/y".into()
            }
        );
    }

    #[test]
    fn join_and_parent() {
        let l = Location::Hdfs {
            namenode: "nn:1".into(),
            path: "/".into(),
        };
        let c = l.join("a/b");
        assert_eq!(c.to_string(), "hdfs://nn:1/a/b");
        assert_eq!(c.parent().unwrap().to_string(), "hdfs://nn:1/a");
        assert_eq!(c.parent().unwrap().parent().unwrap(), l);
        assert_eq!(l.parent(), None);
        assert_eq!(
            Location::Local("x/y".into()).parent(),
            Some(Location::Local("x".into()))
        );
        assert_eq!(Location::Local("y".into()).parent(), None);
    }

    #[test]
    fn rejects_unknown_schemes() {
        assert!(matches!(
            Location::parse_with("s3://b/k", &env_none),
            Err(LocationError::Scheme(_, _))
        ));
        assert!(Location::parse_with("", &env_none).is_err());
    }
}
