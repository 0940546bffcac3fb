//! Config errors that name the field. Graft's configurations are serde structs filled from
//! JSON (files, `--config`, checkpoint metadata) and from Rhai maps. serde's own messages say
//! what is wrong but not where (`invalid value: integer -3, expected u64`); these functions
//! deserialise through [`serde_path_to_error`] and put the field's path in front:
//!
//! ```text
//! pretrain config: field 'trainer.batch_size': invalid value: integer `-3`, expected usize
//! ```
//!
//! Rhai values are read directly (never through `serde_json::Value`, which has no NaN and
//! would turn one into `null`), so a NaN reaches the struct and its validation names it.

use std::fmt::Display;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// `what: field 'path': message`, or `what: message` when the error concerns the whole value.
fn named<E>(
    what: &str,
    err: serde_path_to_error::Error<E>,
    message: impl Fn(&E) -> String,
) -> Error {
    let path = err.path().to_string();
    let text = message(err.inner());
    if path.is_empty() || path == "." || path == "?" {
        Error::Invalid(format!("{what}: {text}"))
    } else {
        Error::Invalid(format!("{what}: field '{path}': {text}"))
    }
}

fn shown<E: Display>(e: &E) -> String {
    e.to_string()
}

/// Parse JSON text into `T`; an error names `what` and the field.
pub fn from_json_str<T: DeserializeOwned>(what: &str, text: &str) -> Result<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| named(what, e, shown))?;
    // As serde_json::from_str: nothing but whitespace may follow the value.
    de.end().map_err(|e| Error::Invalid(format!("{what}: {e}")))?;
    Ok(value)
}

/// Read a JSON value into `T`; an error names `what` and the field.
pub fn from_json_value<T: DeserializeOwned>(what: &str, value: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| named(what, e, shown))
}

/// Read a Rhai value (a script's config map) into `T`; an error names `what` and the field.
pub fn from_dynamic<T: DeserializeOwned>(what: &str, value: &rhai::Dynamic) -> Result<T> {
    serde_path_to_error::deserialize(rhai::serde::DynamicDeserializer::new(value))
        .map_err(|e| named(what, e, |e| rhai_message(e)))
}

/// A Rhai deserialisation error in serde's words: Rhai wraps serde's messages as "Syntax
/// error: …" (they are not syntax errors) and reports type mismatches as "Output type
/// incorrect".
fn rhai_message(err: &rhai::EvalAltResult) -> String {
    match err {
        rhai::EvalAltResult::ErrorParsing(p, _) => p.to_string(),
        // Rhai's argument order: the type asked for, then the value's type.
        rhai::EvalAltResult::ErrorMismatchOutputType(wanted, got, _) => {
            // Rhai keeps integers and floats apart: `lr: 1` is an integer.
            let hint = if got == "i64" && (wanted == "f64" || wanted == "f32") {
                " (write it with a decimal point, e.g. 1.0)"
            } else {
                ""
            };
            format!("invalid type: {got}, expected {}{hint}", short_type_names(wanted))
        }
        other => other.to_string(),
    }
}

/// Rust type names without their module paths (`(graft::x::Number, f64)` → `(Number, f64)`):
/// Rhai names the Rust type it wanted, and users know none of Graft's modules.
fn short_type_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == ':' && chars.peek() == Some(&':') {
            // `word::` is a module path segment: drop both.
            chars.next();
            word.clear();
        } else {
            out.push_str(&word);
            word.clear();
            out.push(c);
        }
    }
    out.push_str(&word);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        batch_size: u64,
        #[serde(default)]
        lr: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        trainer: Inner,
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = from_json_str::<Outer>("cfg", r#"{"trainer": {"batch_size": -3}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("cfg: field 'trainer.batch_size': invalid value: integer `-3`"),
            "{e}"
        );
        let e = from_json_value::<Outer>("cfg", serde_json::json!({"trainer": {"batch_sise": 3}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `batch_sise`"), "{e}");
        let e = from_json_str::<Outer>("cfg", r#"{"trainer": {"batch_size": 3}} x"#).unwrap_err();
        assert!(e.to_string().starts_with("cfg: trailing characters"), "{e}");
        let e = from_json_str::<Outer>("cfg", "\"x\"").unwrap_err().to_string();
        assert!(e.starts_with("cfg: invalid type: string"), "{e}");
    }

    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(short_type_names("(graft::a::Number, f64)"), "(Number, f64)");
        assert_eq!(short_type_names("Vec<alloc::string::String>"), "Vec<String>");
        assert_eq!(short_type_names("i64"), "i64");
    }

    #[test]
    fn rhai_errors_name_the_field_and_keep_nan() {
        let engine = rhai::Engine::new();
        let v: rhai::Dynamic = engine.eval("#{trainer: #{batch_size: -3}}").unwrap();
        let e = from_dynamic::<Outer>("cfg", &v).unwrap_err().to_string();
        assert!(
            e.starts_with("cfg: field 'trainer.batch_size': invalid value: integer `-3`"),
            "{e}"
        );
        assert!(!e.contains("Syntax error"), "{e}");
        let v: rhai::Dynamic = engine.eval(r#"#{trainer: #{batch_size: "x"}}"#).unwrap();
        let e = from_dynamic::<Outer>("cfg", &v).unwrap_err().to_string();
        assert!(e.starts_with("cfg: field 'trainer.batch_size': invalid type: string"), "{e}");
        let mut inner = rhai::Map::new();
        inner.insert("batch_size".into(), rhai::Dynamic::from_int(2));
        inner.insert("lr".into(), rhai::Dynamic::from_float(f64::NAN));
        let mut outer = rhai::Map::new();
        outer.insert("trainer".into(), rhai::Dynamic::from_map(inner));
        let got: Outer = from_dynamic("cfg", &rhai::Dynamic::from_map(outer)).unwrap();
        assert!(got.trainer.lr.is_nan() && got.trainer.batch_size == 2);
        let v: rhai::Dynamic = engine.eval("#{trainer: #{batch_size: 1, lr: 1}}").unwrap();
        let e = from_dynamic::<Outer>("cfg", &v).unwrap_err().to_string();
        assert!(e.contains("field 'trainer.lr': invalid type: i64, expected f64 (write it"), "{e}");
    }
}
