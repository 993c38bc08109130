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
    let named_obj = named.iter().map(|(n, v)| (Val::from(n.clone()), v.clone())).collect();
    let args = [("positional", Val::Arr(Default::default())), ("named", Val::obj(named_obj))];
    vars.push(Val::obj(args.into_iter().map(|(k, v)| (Val::from(k.to_owned()), v)).collect()));

    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    let arena = Arena::default();
    let modules = Loader::new(defs)
        .load(&arena, File { code, path: () })
        .map_err(|errs| load_error(code, errs))?;
    let input_funs = jaq_std::input::funs::<Kind>().into_vec().into_iter().map(jaq_core::native::run::<Kind>);
    let own = formats().into_iter().map(jaq_core::native::run::<Kind>);
    let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs()).chain(input_funs).chain(own);
    let filter = compile::Compiler::default()
        .with_funs(funs)
        .with_global_vars(var_names.iter().map(String::as_str))
        .compile(modules)
        .map_err(|errs| compile_error(code, errs))?;
    Ok(Program { filter, vars })
}

impl Program {
    /// Run the filter on `input`, calling `out` for each result; `Err` is a runtime
    /// error (jq's `error`, type errors), after the results before it were delivered.
    pub fn run<'i>(
        &self,
        inputs: &'i InputIter<'i>,
        input: Val,
        mut out: impl FnMut(Val),
    ) -> Result<(), String> {
        let data = Data { lut: &self.filter.lut, inputs };
        let ctx = Ctx::<Kind>::new(data, Vars::new(self.vars.iter().cloned()));
        for y in self.filter.id.run((ctx, input)) {
            match jaq_core::unwrap_valr(y) {
                Ok(v) => out(v),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }
}

/// `@csv` and `@tsv`, which the jaq crates leave to the jaq CLI: rows as jq 1.6 prints
/// them (strings quoted or escaped, numbers as jq-lite prints them, null empty).
fn formats() -> [jaq_core::native::Filter<jaq_core::RunPtr<Kind>>; 2] {
    use jaq_core::native::{bome, v};
    [("@csv", v(0), |cv| bome(row(cv.1, b',', "csv"))), ("@tsv", v(0), |cv| bome(row(cv.1, b'\t', "tsv")))]
}

fn row(v: Val, sep: u8, kind: &str) -> jaq_core::ValR<Val> {
    let Val::Arr(items) = &v else {
        return Err(jaq_core::Error::str(format_args!("{v} cannot be {kind}-formatted, only an array can be")));
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
                let what = if matches!(other, Val::Arr(_)) { "array" } else { "object" };
                return Err(jaq_core::Error::str(format_args!("{what} ({other}) is not valid in a {kind} row")));
            }
        }
    }
    Ok(Val::utf8_str(out))
}

fn env_object() -> Val {
    let vars = std::env::vars_os().map(|(k, v)| {
        (Val::from(k.to_string_lossy().into_owned()), Val::from(v.to_string_lossy().into_owned()))
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
            load::Error::Io(es) => msgs.extend(es.into_iter().map(|(p, e)| format!("cannot load module {p}: {e}"))),
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
                format!("expected {what} at column {} (found {})", column(code, part), found(part))
            })),
            load::Error::Parse(es) => msgs.extend(es.into_iter().map(|(expect, part)| {
                format!("expected {} at column {} (found {})", expect.as_str(), column(code, part), found(part))
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
        })?;
        Ok(outs)
    }

    #[test]
    fn runs_filters_with_args() {
        assert_eq!(run(".a, $x, $ARGS.named.x", r#"{"a":1}"#).unwrap(), ["1", "\"X\"", "\"X\""]);
        assert_eq!(run("select(.a > 1)", r#"{"a":1}"#).unwrap(), Vec::<String>::new());
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
        assert_eq!(run("@csv", row).unwrap(), [r#""1,2.50,\"a\"\"b\",,true,\"t\tn\n\\\"""#]);
        assert_eq!(run("@tsv", row).unwrap(), [r#""1\t2.50\ta\"b\t\ttrue\tt\\tn\\n\\\\""#]);
        assert!(run("@csv", r#"[{"a":1}]"#).is_err());
    }
}
