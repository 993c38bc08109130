//! `-o` values: where to start, and optionally a timestamp to stop at (`e@TS`).

/// Where consumption starts in each partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    Beginning,
    End,
    /// The group's committed offset.
    Stored,
    /// An absolute offset.
    At(i64),
    /// N messages before the end (`-N`).
    Tail(i64),
    /// The first message with a timestamp >= this many ms (`s@TS`).
    Time(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub start: Option<Start>,
    /// Stop each partition at its first message with a timestamp >= this (`e@TS`).
    pub end_ts: Option<i64>,
}

/// Parse the `-o` values (at most one start and one `e@TS`).
pub fn parse(values: &[String]) -> Result<Range, String> {
    let mut r = Range {
        start: None,
        end_ts: None,
    };
    for v in values {
        if let Some(ts) = v.strip_prefix("e@") {
            let ts = ts
                .parse()
                .map_err(|_| format!("-o {v}: e@ needs a timestamp in ms"))?;
            if r.end_ts.replace(ts).is_some() {
                return Err("-o e@TS given twice".into());
            }
            continue;
        }
        let s = match v.as_str() {
            "beginning" => Start::Beginning,
            "end" => Start::End,
            "stored" => Start::Stored,
            _ => {
                if let Some(ts) = v.strip_prefix("s@") {
                    Start::Time(
                        ts.parse()
                            .map_err(|_| format!("-o {v}: s@ needs a timestamp in ms"))?,
                    )
                } else {
                    match v.parse::<i64>() {
                        Ok(n) if n < 0 => Start::Tail(-n),
                        Ok(n) => Start::At(n),
                        Err(_) => {
                            return Err(format!(
                                "-o {v}: expected beginning, end, stored, N, -N, s@TS or e@TS"
                            ))
                        }
                    }
                }
            }
        };
        if r.start.replace(s).is_some() {
            return Err("-o: more than one start offset".into());
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Range, String> {
        parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(p(&["beginning"]).unwrap().start, Some(Start::Beginning));
        assert_eq!(p(&["end"]).unwrap().start, Some(Start::End));
        assert_eq!(p(&["stored"]).unwrap().start, Some(Start::Stored));
        assert_eq!(p(&["42"]).unwrap().start, Some(Start::At(42)));
        assert_eq!(p(&["-3"]).unwrap().start, Some(Start::Tail(3)));
        assert_eq!(p(&["s@1700"]).unwrap().start, Some(Start::Time(1700)));
        let r = p(&["s@10", "e@20"]).unwrap();
        assert_eq!((r.start, r.end_ts), (Some(Start::Time(10)), Some(20)));
        assert_eq!(
            p(&[]).unwrap(),
            Range {
                start: None,
                end_ts: None
            }
        );
    }

    #[test]
    fn bad_forms_are_errors() {
        for bad in [&["x"][..], &["s@x"], &["e@"], &["1", "2"], &["e@1", "e@2"]] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }
}
