//! `exit()` and `exit(code)` in scripts: the script ends there, and `graft run` ends with that
//! process exit code.
//!
//! - `exit()` and `exit(0)` at the top level (or in a function it calls) are a normal end:
//!   "run finished", exit status 0.
//! - `exit(n)` with `n` in 1..=255 ends the run with exit status `n`; `graft run` says so on
//!   stderr (`graft: script exited with code 3: exit(3) at s.rhai:4:1`) and in `run.log`.
//!   Any other argument (a negative or larger number, a string, a float) is an error at the
//!   call, never a silent code.
//! - Inside a training hook (`on_epoch_start`, `on_step`, `on_eval`), `exit(0)` means "stop
//!   training now, successfully": the loop ends as after `ctx.stop()` (its final checkpoint and
//!   metrics are written, no further hook runs), and then the script ends at the training call
//!   with status 0. `exit(n)` with `n > 0` aborts training at once, as a hook error does (the
//!   last periodic checkpoint stays), and the run ends with status `n`; the message names the
//!   hook and the step (`exit(3) at s.rhai:7:13, in hook on_eval at step 40`).
//!
//! Rhai's own `exit` is overridden because `Engine::run_ast` turns an exit into a normal end
//! and drops its value; Graft's records the exit in the [`Session`] before unwinding.

use rhai::{Dynamic, Engine, EvalAltResult, NativeCallContext, Position};

use super::session::Session;

type RhaiResult<T> = std::result::Result<T, Box<EvalAltResult>>;

/// How a script ended through `exit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptExit {
    /// The code, 0..=255 (`exit()` is 0).
    pub code: u8,
    /// Where `exit` was called: `file:line:col`.
    pub at: String,
    /// The hook it was called in and the training step then, if it was called in one.
    pub hook: Option<(String, u64)>,
}

impl std::fmt::Display for ScriptExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit({}) at {}", self.code, self.at)?;
        if let Some((hook, step)) = &self.hook {
            write!(f, ", in hook {hook} at step {step}")?;
        }
        Ok(())
    }
}

/// The exit code `value` asks for: `()` is 0, an integer must lie in 0..=255.
pub fn exit_code(value: &Dynamic) -> Result<u8, String> {
    if value.is_unit() {
        return Ok(0);
    }
    match value.as_int() {
        Ok(n) => u8::try_from(n)
            .map_err(|_| format!("exit({n}): an exit code must be an integer from 0 to 255")),
        Err(t) => Err(format!(
            "exit: an exit code must be an integer from 0 to 255 (or nothing), got a {t}"
        )),
    }
}

/// Register `exit()` and `exit(code)` on `engine`, recording the exit in `session`.
pub fn register_exit(engine: &mut Engine, session: &Session) {
    let s = session.clone();
    engine.register_fn("exit", move |ctx: NativeCallContext| -> RhaiResult<()> {
        exit(&ctx, &s, &Dynamic::UNIT)
    });
    let s = session.clone();
    engine.register_fn("exit", move |ctx: NativeCallContext, value: Dynamic| -> RhaiResult<()> {
        exit(&ctx, &s, &value)
    });
}

fn exit(ctx: &NativeCallContext, session: &Session, value: &Dynamic) -> RhaiResult<()> {
    let pos = ctx.call_position();
    let code =
        exit_code(value).map_err(|msg| Box::new(EvalAltResult::ErrorRuntime(msg.into(), pos)))?;
    let file =
        ctx.call_source().map_or_else(|| session.script().display().to_string(), str::to_string);
    let at = format!("{file}:{}:{}", pos.line().unwrap_or(0), pos.position().unwrap_or(0));
    session.record_exit(ScriptExit { code, at, hook: None });
    Err(Box::new(EvalAltResult::Exit(Dynamic::from_int(i64::from(code)), pos)))
}

/// The Rhai pseudo-error that ends the script with `code` (re-raised after a hook's exit).
pub(crate) fn exit_error(code: u8) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::Exit(Dynamic::from_int(i64::from(code)), Position::NONE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_checked() {
        assert_eq!(exit_code(&Dynamic::UNIT), Ok(0));
        assert_eq!(exit_code(&Dynamic::from_int(0)), Ok(0));
        assert_eq!(exit_code(&Dynamic::from_int(3)), Ok(3));
        assert_eq!(exit_code(&Dynamic::from_int(255)), Ok(255));
        assert!(exit_code(&Dynamic::from_int(256)).unwrap_err().contains("exit(256)"));
        assert!(exit_code(&Dynamic::from_int(-1)).unwrap_err().contains("from 0 to 255"));
        assert!(exit_code(&Dynamic::from("done")).unwrap_err().contains("got a string"));
        assert!(exit_code(&Dynamic::from_float(1.0)).is_err());
        let e =
            ScriptExit { code: 3, at: "s.rhai:7:13".into(), hook: Some(("on_eval".into(), 40)) };
        assert_eq!(e.to_string(), "exit(3) at s.rhai:7:13, in hook on_eval at step 40");
    }
}
