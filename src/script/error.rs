//! Script errors cross into Rust once, here: a Rhai [`EvalAltResult`] becomes
//! [`Error::Script`] with the innermost location (`file:line:col`), the message, and the script
//! call stack unwound from Rhai's nesting (`ErrorInFunctionCall` for each function or closure
//! that was executing, `ErrorInModule` for each import being loaded). A training hook is a
//! frame of its own (`hook on_eval (closure) at step 40 @ s.rhai:12:1`, the position being the
//! training call that ran it). A sandbox limit hit inside a hook arrives already converted
//! (see [`super::hooks::RhaiHooks`]), carried through Rhai as a system error so that scripts
//! cannot catch it, as Rhai's own limit errors.

use rhai::{EvalAltResult, Position};

use super::hooks::HOOK_FRAME;
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
    if let EvalAltResult::ErrorSystem(_, inner) = cur {
        if let Some(Error::Script { file, line, col, message, stack: inner_stack }) =
            inner.downcast_ref::<Error>()
        {
            stack.extend(inner_stack.iter().cloned());
            return Error::Script {
                file: file.clone(),
                line: *line,
                col: *col,
                message: message.clone(),
                stack,
            };
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
    if name.starts_with(HOOK_FRAME) {
        name.to_string()
    } else if name.starts_with("anon$") {
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

    #[test]
    fn hook_frames_and_limits_in_hooks_keep_their_text() {
        let leaf = EvalAltResult::ErrorRuntime("no".into(), Position::new(4, 27));
        let hook = EvalAltResult::ErrorInFunctionCall(
            "hook on_step (closure) at step 1".into(),
            String::new(),
            Box::new(leaf),
            Position::new(3, 11),
        );
        match script_error(&hook, "s.rhai") {
            Error::Script { stack, .. } => {
                assert_eq!(stack, vec!["hook on_step (closure) at step 1 @ s.rhai:3:11"]);
            }
            other => panic!("not a script error: {other}"),
        }
        let inner = Error::Script {
            file: "s.rhai".into(),
            line: 3,
            col: 11,
            message: "Too many operations inside hook on_step".into(),
            stack: vec!["hook on_step (closure) at step 1 @ s.rhai:3:11".into()],
        };
        let carried = EvalAltResult::ErrorSystem(String::new(), Box::new(inner));
        let shown = script_error(&carried, "s.rhai").to_string();
        assert_eq!(
            shown,
            "s.rhai:3:11: Too many operations inside hook on_step; call stack (innermost last): \
             hook on_step (closure) at step 1 @ s.rhai:3:11"
        );
    }
}
