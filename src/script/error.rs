//! Script errors cross into Rust once, here: a Rhai [`EvalAltResult`] becomes
//! [`Error::Script`] with the innermost location (`file:line:col`), the message, and the script
//! call stack unwound from Rhai's nesting (`ErrorInFunctionCall` for each function or closure
//! that was executing, `ErrorInModule` for each import being loaded).

use rhai::{EvalAltResult, Position};

use crate::error::Error;

/// Convert a Rhai error raised while running `main_file` into Graft's error.
pub fn script_error(err: &EvalAltResult, main_file: &str) -> Error {
    let mut stack = Vec::new();
    let mut file = main_file.to_string();
    let mut cur = err;
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
                stack.push(format!("{} @ {}", frame_name(name), at(&file, *pos)));
                if !source.is_empty() {
                    file = source.clone();
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                stack.push(format!("import '{name}' @ {}", at(&file, *pos)));
                if name.ends_with(".rhai") {
                    file = name.clone();
                }
                cur = inner;
            }
            _ => break,
        }
    }
    let pos = cur.position();
    let text = cur.to_string();
    let suffix = format!(" ({pos})");
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
    Error::Script {
        file,
        line: pos.line().unwrap_or(0),
        col: pos.position().unwrap_or(0),
        message,
        stack,
    }
}

fn frame_name(name: &str) -> String {
    if name.starts_with("anon$") {
        "closure".to_string()
    } else {
        format!("fn {name}")
    }
}

fn at(file: &str, pos: Position) -> String {
    format!("{file}:{}:{}", pos.line().unwrap_or(0), pos.position().unwrap_or(0))
}

/// A Graft error raised inside an API function, as a Rhai runtime error (Rhai adds the
/// position of the call).
pub fn to_rhai(err: Error) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(err.to_string().into(), Position::NONE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_becomes_a_stack() {
        let leaf = EvalAltResult::ErrorRuntime("boom".into(), Position::new(7, 3));
        let inner = EvalAltResult::ErrorInFunctionCall(
            "schedule".into(),
            "lib/s.rhai".into(),
            Box::new(leaf),
            Position::new(12, 5),
        );
        let outer = EvalAltResult::ErrorInFunctionCall(
            "anon$1".into(),
            String::new(),
            Box::new(inner),
            Position::new(20, 1),
        );
        match script_error(&outer, "main.rhai") {
            Error::Script { file, line, col, message, stack } => {
                assert_eq!((file.as_str(), line, col), ("lib/s.rhai", 7, 3));
                assert_eq!(message, "Runtime error: boom");
                assert_eq!(stack, vec!["closure @ main.rhai:20:1", "fn schedule @ main.rhai:12:5"]);
            }
            other => panic!("not a script error: {other}"),
        }
    }
}
