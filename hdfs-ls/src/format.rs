//! The `hdfs dfs -ls` output format, as Hadoop's `fs/shell/Ls.java` builds it.
//!
//! Details that matter for byte-identical output:
//! - column widths (replication >= 3, size >= 10, owner, group) only ever grow during a
//!   run: Ls keeps them in fields and widens them for each listed folder or argument;
//! - the size column is as wide as the raw byte count, even with `-h`;
//! - names sort as the escaped path of a `java.net.URI`, compared in UTF-16 units;
//! - `-h` uses Hadoop's binary prefixes, one decimal, Java's `%.1f` (half-up).

use std::cmp::Ordering;

use lakepipe::storage::Status;

/// Permission bit the namenode sets when a file has ACL entries (FsPermissionExtension).
const ACL_BIT: u16 = 1 << 12;
const STICKY_BIT: u16 = 1 << 9;

/// Column widths; they start at Ls's minimums and grow over the whole run.
#[derive(Debug, Clone)]
pub struct Widths {
    repl: usize,
    len: usize,
    owner: usize,
    group: usize,
}

impl Default for Widths {
    fn default() -> Self {
        Widths {
            repl: 3,
            len: 10,
            owner: 0,
            group: 0,
        }
    }
}

impl Widths {
    /// Widen for the entries about to be printed (Ls.adjustColumnWidths).
    pub fn grow<'a>(&mut self, items: impl IntoIterator<Item = &'a Status>) {
        for s in items {
            self.repl = self.repl.max(s.replication.to_string().len());
            self.len = self.len.max(s.length.to_string().len());
            self.owner = self.owner.max(java_len(&s.owner));
            self.group = self.group.max(java_len(&s.group));
        }
    }
}

/// String length as Java counts it (UTF-16 units), for `%-Ns` padding.
fn java_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn pad_right(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(java_len(s))));
    out
}

fn pad_left(s: &str, width: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', width.saturating_sub(java_len(s))).collect();
    out.push_str(s);
    out
}

/// How to print sizes and times.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub human: bool,
    pub atime: bool,
}

/// One line of the long listing, without the newline.
pub fn long_line(s: &Status, path: &str, w: &Widths, style: Style) -> String {
    let mut line = String::with_capacity(80 + path.len());
    line.push(if s.is_dir { 'd' } else { '-' });
    line.push_str(&permission_string(s.permission));
    line.push(if s.permission & ACL_BIT != 0 {
        '+'
    } else {
        ' '
    });
    let repl = if s.is_dir {
        "-".to_string()
    } else {
        s.replication.to_string()
    };
    line.push_str(&pad_left(&repl, w.repl));
    line.push(' ');
    // Ls uses "%s" (no padding, no space) when every owner/group is empty.
    if w.owner > 0 {
        line.push_str(&pad_right(&s.owner, w.owner));
        line.push(' ');
    } else {
        line.push_str(&s.owner);
    }
    if w.group > 0 {
        line.push_str(&pad_right(&s.group, w.group));
        line.push(' ');
    } else {
        line.push_str(&s.group);
    }
    let size = if style.human {
        human_size(s.length)
    } else {
        s.length.to_string()
    };
    line.push_str(&pad_left(&size, w.len));
    line.push(' ');
    line.push_str(&format_time(if style.atime {
        s.access_time
    } else {
        s.modification_time
    }));
    line.push(' ');
    line.push_str(path);
    line
}

/// `rwxr-xr-x`, with `t`/`T` for the sticky bit (Hadoop's FsPermission.toString).
pub fn permission_string(perm: u16) -> String {
    let mut out = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (perm >> shift) & 7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        out.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    if perm & STICKY_BIT != 0 {
        out.pop();
        out.push(if perm & 1 != 0 { 't' } else { 'T' });
    }
    out
}

/// The permission as octal digits, sticky bit included (`755`, `1777`), as WebHDFS shows it.
pub fn permission_octal(perm: u16) -> String {
    format!("{:o}", perm & 0o7777)
}

/// Hadoop's `TraditionalBinaryPrefix.long2String(n, "", 1)`: `1023`, `1 K`, `1.5 K`, `2.3 G`.
pub fn human_size(n: u64) -> String {
    const SYMBOLS: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];
    if n < 1024 {
        return n.to_string();
    }
    let mut i = 0;
    while i + 1 < SYMBOLS.len() && n >= 1u64 << (10 * (i + 2)) {
        i += 1;
    }
    let shift = 10 * (i + 1);
    if n & ((1u64 << shift) - 1) == 0 {
        return format!("{} {}", n >> shift, SYMBOLS[i]);
    }
    let mut s = java_one_decimal(n as f64 / (1u64 << shift) as f64);
    // Rounding up to 1024.0 moves to the next prefix, as Hadoop does.
    if s.starts_with("1024") && i + 1 < SYMBOLS.len() {
        i += 1;
        s = java_one_decimal(n as f64 / (1u64 << (10 * (i + 1))) as f64);
    }
    format!("{s} {}", SYMBOLS[i])
}

/// Java's `String.format("%.1f", v)` for positive v: round half-up the shortest decimal
/// representation (Rust's `{}` gives the same digits as Java's Double.toString).
fn java_one_decimal(v: f64) -> String {
    let s = format!("{v}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut frac = frac.bytes();
    let first = frac.next().unwrap_or(b'0');
    let round_up = frac.next().is_some_and(|d| d >= b'5');
    // The kept digits (integer part and one decimal), then a decimal carry.
    let mut digits: Vec<u8> = int.bytes().chain([first]).collect();
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let (a, b) = digits.split_at(digits.len() - 1);
    format!(
        "{}.{}",
        String::from_utf8_lossy(a),
        String::from_utf8_lossy(b)
    )
}

/// `yyyy-MM-dd HH:mm` in local time, like Ls's SimpleDateFormat.
pub fn format_time(ms: u64) -> String {
    use chrono::{Local, TimeZone};
    match Local.timestamp_millis_opt(ms as i64) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%d %H:%M").to_string()
        }
        chrono::LocalResult::None => "1970-01-01 00:00".to_string(),
    }
}

/// A path as `java.net.URI`'s multi-argument constructors quote it: ASCII outside
/// unreserved/punct characters becomes `%XX`; non-ASCII stays, except space and
/// control characters, which are UTF-8 encoded.
pub fn uri_escape(path: &str) -> String {
    const ALLOWED: &str = "-_.!~*'():@&=+$,;/";
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        let escape = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || ALLOWED.contains(c))
        } else {
            c.is_whitespace() || c.is_control()
        };
        if escape {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Hadoop's name order (PathData.compareTo): escaped URI paths, UTF-16 order.
pub fn compare_paths(a: &str, b: &str) -> Ordering {
    uri_escape(a)
        .encode_utf16()
        .cmp(uri_escape(b).encode_utf16())
}

/// The sort orders of `-t`, `-S`, `-r`, `-u`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Order {
    pub time: bool,
    pub size: bool,
    pub reverse: bool,
    pub atime: bool,
}

/// Sort a folder's entries as Ls does: `-t` newest first (wins over `-S`), `-S` largest
/// first, else by name; `-r` negates the comparison, so ties keep their order (stable).
pub fn sort(items: &mut [Status], order: Order) {
    let sign = |o: Ordering| if order.reverse { o.reverse() } else { o };
    if order.time {
        let t = |s: &Status| {
            if order.atime {
                s.access_time
            } else {
                s.modification_time
            }
        };
        items.sort_by(|a, b| sign(t(b).cmp(&t(a))));
    } else if order.size {
        items.sort_by(|a, b| sign(b.length.cmp(&a.length)));
    } else {
        let keys: Vec<Vec<u16>> = items
            .iter()
            .map(|s| uri_escape(&s.name()).encode_utf16().collect())
            .collect();
        let mut idx: Vec<usize> = (0..items.len()).collect();
        idx.sort_by(|&a, &b| sign(keys[a].cmp(&keys[b])));
        let sorted: Vec<Status> = idx.iter().map(|&i| items[i].clone()).collect();
        items.clone_from_slice(&sorted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lakepipe::location::Location;

    fn st(name: &str, is_dir: bool, len: u64, owner: &str, mtime: u64) -> Status {
        Status {
            location: Location::Hdfs {
                namenode: "nn:1".into(),
                path: format!("/d/{name}"),
            },
            is_dir,
            length: len,
            replication: if is_dir { 0 } else { 1 },
            block_size: 0,
            owner: owner.into(),
            group: "supergroup".into(),
            permission: if is_dir { 0o755 } else { 0o644 },
            modification_time: mtime,
            access_time: mtime + 5,
        }
    }

    #[test]
    fn human_sizes_match_hadoop() {
        assert_eq!(human_size(0), "0");
        assert_eq!(human_size(1023), "1023");
        assert_eq!(human_size(1024), "1 K");
        assert_eq!(human_size(1536), "1.5 K");
        // 1.25 K: Java's %.1f rounds half-up, Rust's {:.1} would give 1.2.
        assert_eq!(human_size(1280), "1.3 K");
        assert_eq!(human_size(3 << 20), "3 M");
        assert_eq!(human_size(10 * 1024 * 1024 + 1), "10.0 M");
        // Rounds up to 1024.0 K: moves to the next prefix.
        assert_eq!(human_size(1024 * 1024 - 1), "1.0 M");
        assert_eq!(human_size(5 * (1u64 << 40) + (1u64 << 39)), "5.5 T");
    }

    #[test]
    fn permissions() {
        assert_eq!(permission_string(0o755), "rwxr-xr-x");
        assert_eq!(permission_string(0o1777), "rwxrwxrwt");
        assert_eq!(permission_string(0o1770), "rwxrwx--T");
        assert_eq!(permission_octal(0o1777 | ACL_BIT), "1777");
    }

    #[test]
    fn long_lines_and_growing_widths() {
        let mut w = Widths::default();
        let f = st("a", false, 5, "root", 0);
        w.grow([&f]);
        let style = Style::default();
        let line = long_line(&f, "/d/a", &w, style);
        assert_eq!(
            &line[..50],
            "-rw-r--r--   1 root supergroup          5 1970-01-"
        );
        let d = st("sub", true, 0, "averyverylongowner", 0);
        w.grow([&d]);
        let line = long_line(&d, "/d/sub", &w, style);
        assert!(
            line.starts_with("drwxr-xr-x   - averyverylongowner supergroup          0 "),
            "{line}"
        );
        // Widths never shrink: the short owner is now padded too.
        assert!(long_line(&f, "/d/a", &w, style)
            .starts_with("-rw-r--r--   1 root               supergroup"));
        let mut acl = f.clone();
        acl.permission |= ACL_BIT;
        assert!(long_line(&acl, "/d/a", &w, style).starts_with("-rw-r--r--+  1 "));
        // -h: width still from the raw byte count.
        let mut big = f.clone();
        big.length = 12_345_678_901;
        w.grow([&big]);
        let line = long_line(
            &big,
            "/d/b",
            &w,
            Style {
                human: true,
                atime: false,
            },
        );
        assert!(line.contains(" supergroup      11.5 G 1970"), "{line}");
    }

    #[test]
    fn name_order_is_escaped_uri_order() {
        assert_eq!(uri_escape("a b/ü%"), "a%20b/ü%25");
        // ' ' escapes to "%20", which sorts after '!' (0x21).
        assert_eq!(compare_paths("a b", "a!b"), Ordering::Greater);
        assert_eq!(compare_paths("a b", "a-b"), Ordering::Less);
        let mut v = vec![
            st("b", false, 1, "x", 1),
            st("a b", false, 3, "x", 3),
            st("a!b", false, 2, "x", 2),
        ];
        let (plain, by) = (Order::default(), |time, size, reverse| Order {
            time,
            size,
            reverse,
            atime: false,
        });
        for (order, want) in [
            (plain, ["a!b", "a b", "b"]),
            (by(false, false, true), ["b", "a b", "a!b"]),
            (by(true, true, false), ["a b", "a!b", "b"]),
            (by(false, true, true), ["b", "a!b", "a b"]),
        ] {
            sort(&mut v, order);
            assert_eq!(v.iter().map(|s| s.name()).collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn reverse_keeps_ties_in_order() {
        let mut v = vec![
            st("a", false, 1, "x", 7),
            st("b", false, 1, "x", 7),
            st("c", false, 1, "x", 9),
        ];
        sort(
            &mut v,
            Order {
                time: true,
                reverse: true,
                ..Default::default()
            },
        );
        assert_eq!(
            v.iter().map(|s| s.name()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }
}
