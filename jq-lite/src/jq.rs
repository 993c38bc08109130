//! Compile a jq filter with the jaq crates and run it on values.

use jaq_core::data::HasLut;
use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{compile, Ctx, DataT, Lut, Vars};
use jaq_json::Val;
use jaq_std::input::{HasInputs, Inputs, RcIter};

/// The data kind our filters run on: jaq values plus the `input`/`inputs` stream.
pub struct Kind;

impl DataT for Kind {
    type V<'a> = Val;
    type Data<'a> = Data<'a>;
}

/// Global data seen by native filters.
#[derive(Clone)]
pub struct Data<'a> {
    lut: &'a Lut<Kind>,
    inputs: Inputs<'a, Val>,
}

impl<'a> HasLut<'a, Kind> for Data<'a> {
    fn lut(&self) -> &'a Lut<Kind> {
        self.lut
    }
}

impl<'a> HasInputs<'a, Val> for Data<'a> {
    fn inputs(&self) -> Inputs<'a, Val> {
        self.inputs
    }
}

/// The stream behind `input`/`inputs`: values, or an error message that ends the run.
pub type InputIter<'i> = RcIter<dyn Iterator<Item = Result<Val, String>> + 'i>;

/// Why a filter run ended early.
#[derive(Debug, PartialEq)]
pub enum Stop {
    /// A runtime error, as a message.
    Error(String),
    /// `halt`/`halt_error`: exit with this code after writing what came before.
    Halt(i32),
}

/// A compiled filter with the values of its global variables (`$name`, `$ENV`, `$ARGS`).
pub struct Program {
    filter: jaq_core::Filter<Kind>,
    vars: Vec<Val>,
}

/// Compile `code` with the given named arguments. The error is a one-line message
/// naming the column, e.g. `expected term at column 5 (found "}")`.
pub fn compile(code: &str, named: &[(String, Val)]) -> Result<Program, String> {
    let mut var_names: Vec<String> = named.iter().map(|(n, _)| format!("${n}")).collect();
    let mut vars: Vec<Val> = named.iter().map(|(_, v)| v.clone()).collect();
    var_names.push("$ENV".into());
    vars.push(env_object());
    var_names.push("$ARGS".into());
    let named_obj = named
        .iter()
        .map(|(n, v)| (Val::from(n.clone()), v.clone()))
        .collect();
    let args = [
        ("positional", Val::Arr(Default::default())),
        ("named", Val::obj(named_obj)),
    ];
    vars.push(Val::obj(
        args.into_iter()
            .map(|(k, v)| (Val::from(k.to_owned()), v))
            .collect(),
    ));

    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .chain(jq_defs());
    let arena = Arena::default();
    let modules = Loader::new(defs)
        .load(&arena, File { code, path: () })
        .map_err(|errs| load_error(code, errs))?;
    let input_funs = jaq_std::input::funs::<Kind>()
        .into_vec()
        .into_iter()
        .map(jaq_core::native::run::<Kind>);
    let own = formats().into_iter().map(jaq_core::native::run::<Kind>);
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs())
        .chain(input_funs)
        .chain(own);
    let filter = compile::Compiler::default()
        .with_funs(funs)
        .with_global_vars(var_names.iter().map(String::as_str))
        .compile(modules)
        .map_err(|errs| compile_error(code, errs))?;
    Ok(Program { filter, vars })
}

impl Program {
    /// Run the filter on `input`, calling `out` for each result, until the end, a
    /// runtime error (jq's `error`, type errors) or `halt`.
    pub fn run<'i>(
        &self,
        inputs: &'i InputIter<'i>,
        input: Val,
        mut out: impl FnMut(Val),
    ) -> Result<(), Stop> {
        let data = Data {
            lut: &self.filter.lut,
            inputs,
        };
        let ctx = Ctx::<Kind>::new(data, Vars::new(self.vars.iter().cloned()));
        for y in self.filter.id.run((ctx, input)) {
            // not jaq's unwrap_valr: it exits the process on `halt`, losing buffered output
            match y {
                Ok(v) => out(v),
                Err(exn) => {
                    return Err(match exn.get_err() {
                        Ok(e) => Stop::Error(e.to_string()),
                        Err(exn) => match exn.get_halt() {
                            Ok(code) => Stop::Halt(code),
                            Err(_) => {
                                Stop::Error("unexpected control flow (break outside label?)".into())
                            }
                        },
                    })
                }
            }
        }
        Ok(())
    }
}

/// jq 1.6 builtins that jaq lacks or defines differently, in jq's own terms; later
/// definitions shadow jaq's.
const JQ_DEFS: &str = r#"
def IN(s): any(s == .; .);
def IN(src; s): any(src == s; .);
def leaf_paths: paths(scalars);
def ltrimstr($x): if type == "string" and ($x | type) == "string" and startswith($x) then .[$x | length:] else . end;
def rtrimstr($x): if type == "string" and ($x | type) == "string" and ($x | length) > 0 and endswith($x) then .[:length - ($x | length)] else . end;
def delpaths($paths): _delpaths($paths);
def tojson: _tojson;
def tostring: if type == "string" then . else _tojson end;
def @json: _tojson;
def join($x): reduce .[] as $i (null; (if . == null then "" else . + $x end) + ($i | if . == null then "" elif type == "string" then . else tojson end)) // "";
def del(f): delpaths([path(f)]);
"#;

fn jq_defs() -> impl Iterator<Item = load::parse::Def<&'static str>> {
    // JQ_DEFS is a constant, checked by the tests
    load::parse(JQ_DEFS, |p| p.defs())
        .unwrap_or_default()
        .into_iter()
}

/// `_delpaths`: like jq, deleting keys keeps the order of the others (jaq's `del`
/// moves the last key into the gap). Paths are deleted from the last to the first so
/// that array indices stay valid.
fn delpaths(v: Val, paths: Val) -> jaq_core::ValR<Val> {
    let Val::Arr(paths) = paths else {
        return Err(jaq_core::Error::str(format_args!(
            "paths must be an array, not {paths}"
        )));
    };
    let mut paths: Vec<Val> = paths.iter().cloned().collect();
    paths.sort();
    paths.dedup();
    let mut v = v;
    for p in paths.iter().rev() {
        let Val::Arr(p) = p else {
            return Err(jaq_core::Error::str(format_args!(
                "a path must be an array, not {p}"
            )));
        };
        v = delpath(v, p)?;
    }
    Ok(v)
}

fn delpath(v: Val, path: &[Val]) -> jaq_core::ValR<Val> {
    let Some((key, rest)) = path.split_first() else {
        return Ok(Val::Null);
    };
    match v {
        Val::Null => Ok(Val::Null),
        Val::Obj(mut o) => {
            if rest.is_empty() {
                jaq_json::Rc::make_mut(&mut o).shift_remove(key);
            } else if let Some(child) = o.get(key).cloned() {
                let new = delpath(child, rest)?;
                jaq_json::Rc::make_mut(&mut o).insert(key.clone(), new);
            }
            Ok(Val::Obj(o))
        }
        Val::Arr(mut a) => {
            let len = a.len() as isize;
            let idx = match key {
                Val::Num(n) => n.as_isize().map(|i| if i < 0 { i + len } else { i }),
                // a slice such as `del(.[1:3])`
                Val::Obj(o) if rest.is_empty() => {
                    let bound = |name: &str, default: isize| match o
                        .get(&Val::from(name.to_owned()))
                    {
                        None | Some(Val::Null) => default,
                        Some(b) => jaq_std::ValT::as_f64(b).map_or(default, |f| f.floor() as isize),
                    };
                    let wrap = |i: isize| (if i < 0 { i + len } else { i }).clamp(0, len) as usize;
                    let (start, end) = (wrap(bound("start", 0)), wrap(bound("end", len)));
                    if start < end {
                        jaq_json::Rc::make_mut(&mut a).drain(start..end);
                    }
                    return Ok(Val::Arr(a));
                }
                _ => None,
            };
            let Some(i) = idx else {
                return Err(jaq_core::Error::str(format_args!(
                    "cannot delete field at {key} of an array"
                )));
            };
            if i < 0 || i >= len {
                return Ok(Val::Arr(a));
            }
            let i = i as usize;
            if rest.is_empty() {
                jaq_json::Rc::make_mut(&mut a).remove(i);
            } else {
                let new = delpath(a[i].clone(), rest)?;
                jaq_json::Rc::make_mut(&mut a)[i] = new;
            }
            Ok(Val::Arr(a))
        }
        other => Err(jaq_core::Error::str(format_args!(
            "cannot delete field at {key} of {other}"
        ))),
    }
}

/// `@csv` and `@tsv`, which the jaq crates leave to the jaq CLI: rows as jq 1.6 prints
/// them (strings quoted or escaped, numbers as jq-lite prints them, null empty).
fn formats() -> [jaq_core::native::Filter<jaq_core::RunPtr<Kind>>; 4] {
    use jaq_core::native::{bome, v};
    [
        ("@csv", v(0), |cv| bome(row(cv.1, b',', "csv"))),
        ("@tsv", v(0), |cv| bome(row(cv.1, b'\t', "tsv"))),
        // numbers as jq prints them: `10 / 2 | tostring` is "5", not jaq's "5.0"
        ("_tojson", v(0), |cv| {
            let mut out = Vec::new();
            crate::json::write_json(&mut out, &cv.1);
            bome(Ok(Val::utf8_str(out)))
        }),
        ("_delpaths", v(1), |mut cv| {
            let paths = cv.0.pop_var();
            bome(delpaths(cv.1, paths))
        }),
    ]
}

fn row(v: Val, sep: u8, kind: &str) -> jaq_core::ValR<Val> {
    let Val::Arr(items) = &v else {
        return Err(jaq_core::Error::str(format_args!(
            "{v} cannot be {kind}-formatted, only an array can be"
        )));
    };
    let mut out = Vec::new();
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        match x {
            Val::Null => {}
            Val::Bool(_) | Val::Num(_) => crate::json::write_json(&mut out, x),
            Val::TStr(s) | Val::BStr(s) if sep == b',' => {
                out.push(b'"');
                for &c in s.iter() {
                    if c == b'"' {
                        out.push(b'"');
                    }
                    out.push(c);
                }
                out.push(b'"');
            }
            Val::TStr(s) | Val::BStr(s) => {
                for &c in s.iter() {
                    match c {
                        b'\\' => out.extend_from_slice(br"\\"),
                        b'\t' => out.extend_from_slice(br"\t"),
                        b'\n' => out.extend_from_slice(br"\n"),
                        b'\r' => out.extend_from_slice(br"\r"),
                        c => out.push(c),
                    }
                }
            }
            other => {
                let what = if matches!(other, Val::Arr(_)) {
                    "array"
                } else {
                    "object"
                };
                return Err(jaq_core::Error::str(format_args!(
                    "{what} ({other}) is not valid in a {kind} row"
                )));
            }
        }
    }
    Ok(Val::utf8_str(out))
}

fn env_object() -> Val {
    let vars = std::env::vars_os().map(|(k, v)| {
        (
            Val::from(k.to_string_lossy().into_owned()),
            Val::from(v.to_string_lossy().into_owned()),
        )
    });
    Val::obj(vars.collect())
}

/// 1-based column of `part` inside `code` (it is a slice of it).
fn column(code: &str, part: &str) -> usize {
    let start = load::span(code, part).start;
    code[..start.min(code.len())].chars().count() + 1
}

fn found(part: &str) -> String {
    match part.chars().next() {
        None => "end of filter".into(),
        Some(_) => {
            let token: String = part.chars().take(12).collect();
            format!("\"{token}\"")
        }
    }
}

fn load_error(code: &str, errs: load::Errors<&str, ()>) -> String {
    let mut msgs = Vec::new();
    for (_file, err) in errs {
        match err {
            load::Error::Io(es) => msgs.extend(
                es.into_iter()
                    .map(|(p, e)| format!("cannot load module {p}: {e}")),
            ),
            load::Error::Lex(es) => msgs.extend(es.into_iter().map(|(expect, part)| {
                let what = match expect {
                    load::lex::Expect::Delim(open) => match open {
                        "(" => "closing parenthesis",
                        "[" => "closing bracket",
                        "{" => "closing brace",
                        "\"" => "closing quote",
                        _ => "closing delimiter",
                    },
                    other => other.as_str(),
                };
                format!(
                    "expected {what} at column {} (found {})",
                    column(code, part),
                    found(part)
                )
            })),
            load::Error::Parse(es) => msgs.extend(es.into_iter().map(|(expect, part)| {
                format!(
                    "expected {} at column {} (found {})",
                    expect.as_str(),
                    column(code, part),
                    found(part)
                )
            })),
        }
    }
    msgs.join("; ")
}

fn compile_error(code: &str, errs: compile::Errors<&str, ()>) -> String {
    let mut msgs = Vec::new();
    for (_file, es) in errs {
        for (name, undefined) in es {
            let what = match undefined {
                compile::Undefined::Filter(arity) => format!("undefined filter {name}/{arity}"),
                other => format!("undefined {} {name}", other.as_str()),
            };
            msgs.push(format!("{what} at column {}", column(code, name)));
        }
    }
    msgs.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: &str, input: &str) -> Result<Vec<String>, String> {
        let p = compile(code, &[("x".into(), Val::from("X".to_owned()))])?;
        let empty: Box<dyn Iterator<Item = Result<Val, String>>> = Box::new(std::iter::empty());
        let inputs = RcIter::new(empty);
        let mut outs = Vec::new();
        let v = crate::json::parse_str(input).map_err(|e| e.to_string())?;
        p.run(&inputs, v, |v| {
            let mut b = Vec::new();
            crate::json::write_json(&mut b, &v);
            outs.push(String::from_utf8(b).unwrap());
        })
        .map_err(|e| format!("{e:?}"))?;
        Ok(outs)
    }

    #[test]
    fn runs_filters_with_args() {
        assert_eq!(
            run(".a, $x, $ARGS.named.x", r#"{"a":1}"#).unwrap(),
            ["1", "\"X\"", "\"X\""]
        );
        assert_eq!(
            run("select(.a > 1)", r#"{"a":1}"#).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn errors_name_the_column() {
        let e = compile(".a | ", &[]).err().unwrap();
        assert!(e.contains("expected term at column 6"), "{e}");
        let e = compile("foo(1)", &[]).err().unwrap();
        assert!(e.contains("undefined filter foo/1 at column 1"), "{e}");
        let e = compile("[.a", &[]).err().unwrap();
        assert!(e.contains("closing bracket"), "{e}");
        assert!(run(".a + 1", r#"{"a":"s"}"#).is_err());
    }

    #[test]
    fn csv_and_tsv_rows() {
        let row = r#"[1, 2.50, "a\"b", null, true, "t\tn\n\\"]"#;
        assert_eq!(
            run("@csv", row).unwrap(),
            [r#""1,2.50,\"a\"\"b\",,true,\"t\tn\n\\\"""#]
        );
        assert_eq!(
            run("@tsv", row).unwrap(),
            [r#""1\t2.50\ta\"b\t\ttrue\tt\\tn\\n\\\\""#]
        );
        assert!(run("@csv", r#"[{"a":1}]"#).is_err());
    }

    #[test]
    fn jq_definitions_override_jaq() {
        assert!(jq_defs().count() >= 11, "JQ_DEFS must parse");
        assert_eq!(
            run(r#"[1, null, "a", true] | join("-")"#, "null").unwrap(),
            [r#""1--a-true""#]
        );
        let tostr = run(
            "[.a / 2 | tostring, tojson, @json], (.a | tostring)",
            r#"{"a":10}"#,
        )
        .unwrap();
        assert_eq!(tostr, [r#"["5","5","5"]"#, r#""10""#]);
        assert_eq!(
            run(r#""s" | tostring, tojson"#, "null").unwrap(),
            [r#""s""#, r#""\"s\"""#]
        );
        let obj = r#"{"a":1,"b":2,"c":3,"d":[0,1,2,3,4]}"#;
        assert_eq!(
            run("del(.a)", obj).unwrap(),
            [r#"{"b":2,"c":3,"d":[0,1,2,3,4]}"#]
        );
        assert_eq!(
            run("del(.b, .d[1], .d[-1])", obj).unwrap(),
            [r#"{"a":1,"c":3,"d":[0,2,3]}"#]
        );
        assert_eq!(run("del(.d[1:3]) | .d", obj).unwrap(), ["[0,3,4]"]);
        assert_eq!(run("del(.x.y)", obj).unwrap(), [obj]);
        assert_eq!(
            run("[.a, .c] | map(IN(1, 2))", obj).unwrap(),
            ["[true,false]"]
        );
        assert_eq!(run("[leaf_paths] | length", obj).unwrap(), ["8"]);
        assert_eq!(
            run(
                r#"[.a, "xab", "abx"] | map(ltrimstr("x"), rtrimstr("x"))"#,
                obj
            )
            .unwrap(),
            [r#"[1,1,"ab","xab","abx","ab"]"#]
        );
    }
}
