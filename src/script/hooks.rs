//! Rhai schedule hooks: [`RhaiHooks`] implements [`TrainHooks`] by calling script functions
//! (`on_epoch_start(ctx)`, `on_step(ctx)` every `step_every` steps, `on_eval(ctx, metrics)`)
//! given as function pointers or closures in a map:
//!
//! ```rhai
//! let hooks = #{
//!     on_epoch_start: |ctx| if ctx.epoch == 2 { ctx.unfreeze("layer4") },
//!     on_eval: |ctx, m| if m["val/accuracy"] > 0.99 { ctx.stop() },
//! };
//! ```
//!
//! The script sees a [`HookCtx`]: step, epoch, total steps, group names, learning rates,
//! weight decays, frozen flags, metrics; it may freeze and unfreeze groups, set per-group
//! learning rate and weight decay, stop, and ask for a checkpoint. Changes are validated
//! when the script makes them (so an unknown group is an error at that line) and applied to
//! the optimizer, in order, when the hook returns. A ctx kept past its hook refuses changes.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext, AST};

use super::error::{script_error, to_rhai};
use super::exit::exit_error;
use super::session::Session;
use crate::error::{Error, Result};
use crate::optim::GroupState;
use crate::train::{HookContext, TrainHooks};

type RhaiResult<T> = std::result::Result<T, Box<EvalAltResult>>;

enum Change {
    Freeze(String),
    Unfreeze(String, bool),
    SetLr(String, f64),
    SetWeightDecay(String, f64),
}

struct CtxState {
    live: bool,
    step: u64,
    epoch: u64,
    total_steps: u64,
    lr_factor: f64,
    groups: Vec<GroupState>,
    metrics: BTreeMap<String, f64>,
    reset_on_unfreeze: bool,
    changes: Vec<Change>,
    stop: bool,
    save: bool,
}

/// The `ctx` object hooks receive (Rhai type name `Ctx`).
#[derive(Clone)]
pub struct HookCtx(Rc<RefCell<CtxState>>);

fn rt<T>(msg: String) -> RhaiResult<T> {
    Err(msg.into())
}

impl HookCtx {
    fn snapshot(ctx: &HookContext, reset_on_unfreeze: bool) -> Self {
        HookCtx(Rc::new(RefCell::new(CtxState {
            live: true,
            step: ctx.step,
            epoch: ctx.epoch,
            total_steps: ctx.total_steps,
            lr_factor: ctx.optimizer.lr_factor(),
            groups: ctx.optimizer.groups(),
            metrics: ctx.metrics.clone(),
            reset_on_unfreeze,
            changes: Vec::new(),
            stop: false,
            save: false,
        })))
    }

    fn with_group<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut GroupState) -> RhaiResult<T>,
    ) -> RhaiResult<T> {
        let mut st = self.0.borrow_mut();
        let names: Vec<String> = st.groups.iter().map(|g| g.name.clone()).collect();
        match st.groups.iter_mut().find(|g| g.name == name) {
            Some(g) => f(g),
            None => rt(format!(
                "unknown parameter group '{name}'; the groups are: {}",
                names.join(", ")
            )),
        }
    }

    fn change(&mut self, name: &str, c: Change, f: impl FnOnce(&mut GroupState)) -> RhaiResult<()> {
        if !self.0.borrow().live {
            return rt("this ctx belongs to a hook that has returned; changes must be made inside the hook".into());
        }
        self.with_group(name, |g| {
            f(g);
            Ok(())
        })?;
        self.0.borrow_mut().changes.push(c);
        Ok(())
    }

    /// Freeze group `name`.
    pub fn freeze(&mut self, name: &str) -> RhaiResult<()> {
        self.change(name, Change::Freeze(name.into()), |g| g.frozen = true)
    }

    /// Unfreeze group `name`, resetting its optimizer state per the run's default.
    pub fn unfreeze(&mut self, name: &str) -> RhaiResult<()> {
        let reset = self.0.borrow().reset_on_unfreeze;
        self.unfreeze_reset(name, reset)
    }

    /// Unfreeze group `name`, resetting its optimizer state when `reset`.
    pub fn unfreeze_reset(&mut self, name: &str, reset: bool) -> RhaiResult<()> {
        self.change(name, Change::Unfreeze(name.into(), reset), |g| g.frozen = false)
    }

    /// Set the base learning rate of group `name`.
    pub fn set_lr(&mut self, name: &str, lr: f64) -> RhaiResult<()> {
        check_rate("learning rate", lr)?;
        self.change(name, Change::SetLr(name.into(), lr), |g| g.lr = lr)
    }

    /// Set the weight decay of group `name`.
    pub fn set_weight_decay(&mut self, name: &str, wd: f64) -> RhaiResult<()> {
        check_rate("weight decay", wd)?;
        self.change(name, Change::SetWeightDecay(name.into(), wd), |g| g.weight_decay = wd)
    }

    fn group_names(&self) -> Vec<String> {
        self.0.borrow().groups.iter().map(|g| g.name.clone()).collect()
    }
}

fn check_rate(what: &str, v: f64) -> RhaiResult<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        rt(format!("{what} must be finite and >= 0, got {v}"))
    }
}

fn to_map(m: &BTreeMap<String, f64>) -> Map {
    m.iter().map(|(k, v)| (k.as_str().into(), Dynamic::from_float(*v))).collect()
}

/// Register the `Ctx` type and its methods on `engine`.
pub fn register_ctx(engine: &mut Engine) {
    engine
        .register_type_with_name::<HookCtx>("Ctx")
        .register_get("step", |c: &mut HookCtx| c.0.borrow().step as i64)
        .register_get("epoch", |c: &mut HookCtx| c.0.borrow().epoch as i64)
        .register_get("total_steps", |c: &mut HookCtx| c.0.borrow().total_steps as i64)
        .register_get("lr_factor", |c: &mut HookCtx| c.0.borrow().lr_factor)
        .register_get("num_groups", |c: &mut HookCtx| c.0.borrow().groups.len() as i64)
        .register_get("groups", |c: &mut HookCtx| -> Array {
            c.group_names().into_iter().map(Dynamic::from).collect()
        })
        .register_get("metrics", |c: &mut HookCtx| to_map(&c.0.borrow().metrics))
        .register_fn("metric", |c: &mut HookCtx, name: &str| -> Dynamic {
            c.0.borrow().metrics.get(name).map_or(Dynamic::UNIT, |v| Dynamic::from_float(*v))
        })
        .register_fn("lr", |c: &mut HookCtx, name: &str| c.with_group(name, |g| Ok(g.lr)))
        .register_fn("weight_decay", |c: &mut HookCtx, name: &str| {
            c.with_group(name, |g| Ok(g.weight_decay))
        })
        .register_fn("is_frozen", |c: &mut HookCtx, name: &str| {
            c.with_group(name, |g| Ok(g.frozen))
        })
        .register_fn("freeze", |c: &mut HookCtx, name: &str| c.freeze(name))
        .register_fn("unfreeze", |c: &mut HookCtx, name: &str| c.unfreeze(name))
        .register_fn("unfreeze", |c: &mut HookCtx, name: &str, reset: bool| {
            c.unfreeze_reset(name, reset)
        })
        .register_fn("set_lr", |c: &mut HookCtx, name: &str, lr: f64| c.set_lr(name, lr))
        .register_fn("set_lr_all", |c: &mut HookCtx, lr: f64| -> RhaiResult<()> {
            for name in c.group_names() {
                c.set_lr(&name, lr)?;
            }
            Ok(())
        })
        .register_fn("set_weight_decay", |c: &mut HookCtx, name: &str, wd: f64| {
            c.set_weight_decay(name, wd)
        })
        .register_fn("stop", |c: &mut HookCtx| c.0.borrow_mut().stop = true)
        .register_fn("save_checkpoint", |c: &mut HookCtx| c.0.borrow_mut().save = true)
        .register_fn("to_string", |c: &mut HookCtx| {
            let st = c.0.borrow();
            format!("Ctx(epoch {}, step {}/{})", st.epoch, st.step, st.total_steps)
        });
}

/// The script functions a training run calls.
#[derive(Clone, Default)]
pub struct HookFns {
    /// `on_epoch_start(ctx)`.
    pub on_epoch_start: Option<FnPtr>,
    /// `on_step(ctx)`, every `step_every` steps.
    pub on_step: Option<FnPtr>,
    /// Steps between `on_step` calls (default 1 when `on_step` is given).
    pub step_every: u64,
    /// `on_eval(ctx, metrics)`.
    pub on_eval: Option<FnPtr>,
}

impl HookFns {
    /// Read `#{on_epoch_start, on_step, step_every, on_eval}`; other keys are refused.
    pub fn from_map(map: &Map) -> Result<Self> {
        let mut fns = HookFns::default();
        let mut every = None;
        for (k, v) in map {
            let fnptr = || {
                v.clone().try_cast::<FnPtr>().ok_or_else(|| {
                    Error::Invalid(format!(
                        "hooks.{k} must be a function (a closure |ctx| ... or Fn(\"name\")), got {}",
                        v.type_name()
                    ))
                })
            };
            match k.as_str() {
                "on_epoch_start" => fns.on_epoch_start = Some(fnptr()?),
                "on_step" => fns.on_step = Some(fnptr()?),
                "on_eval" => fns.on_eval = Some(fnptr()?),
                "step_every" => {
                    let n = v.as_int().map_err(|t| {
                        Error::Invalid(format!("hooks.step_every must be an integer, got {t}"))
                    })?;
                    if n < 1 {
                        return Err(Error::Invalid(format!("hooks.step_every must be >= 1, got {n}")));
                    }
                    every = Some(n as u64);
                }
                other => {
                    return Err(Error::Invalid(format!(
                        "unknown hook '{other}'; hooks are on_epoch_start, on_step, step_every, on_eval"
                    )))
                }
            }
        }
        fns.step_every = if fns.on_step.is_some() { every.unwrap_or(1) } else { 0 };
        Ok(fns)
    }
}

/// How hooks reach the script: from inside a running script (an API call's context), or
/// standalone with an engine and a compiled script (tests, benchmarks).
pub enum Caller<'a> {
    /// Inside a native function called by the script.
    Context(&'a NativeCallContext<'a>),
    /// Outside any evaluation.
    Standalone {
        /// The engine.
        engine: &'a Engine,
        /// The compiled script holding the hook functions.
        ast: &'a AST,
    },
}

/// [`TrainHooks`] backed by Rhai functions.
///
/// A hook's failure stops training: its Rhai error is kept (with its call stack) for the API
/// call to re-raise through [`RhaiHooks::finish`]. A hook that hits a sandbox limit (too many
/// operations, call depth, data size) is reported as inside that hook, at that step. `exit`
/// in a hook ends the run (see [`super::exit`]): `exit(0)` stops training as `ctx.stop()`
/// does, `exit(n > 0)` aborts it.
pub struct RhaiHooks<'a> {
    fns: HookFns,
    caller: Caller<'a>,
    reset_on_unfreeze: bool,
    main_file: String,
    script_error: Option<Box<EvalAltResult>>,
    exit: Option<HookExit>,
}

/// An `exit(code)` called inside a hook.
struct HookExit {
    code: u8,
    hook: &'static str,
    step: u64,
}

/// Frames of hooks in a script call stack are named `hook <name> (<function>) at step <n>`;
/// Rhai function names have no spaces, so [`super::error`] tells them apart.
pub(crate) const HOOK_FRAME: &str = "hook ";

impl<'a> RhaiHooks<'a> {
    /// Hooks `fns` called through `caller`; `ctx.unfreeze(name)` resets optimizer state when
    /// `reset_on_unfreeze`. Errors are located relative to `main_file`.
    pub fn new(fns: HookFns, caller: Caller<'a>, reset_on_unfreeze: bool, main_file: &str) -> Self {
        RhaiHooks {
            fns,
            caller,
            reset_on_unfreeze,
            main_file: main_file.into(),
            script_error: None,
            exit: None,
        }
    }

    /// The Rhai error of the hook that failed, if one did (for re-raising inside the script
    /// with its call stack intact).
    pub fn take_script_error(&mut self) -> Option<Box<EvalAltResult>> {
        self.script_error.take()
    }

    /// What the training call returns to the script once the loop is over: the hook's own
    /// error (call stack intact) if a hook failed, the script's exit if a hook called `exit`
    /// (noted in `session` with the hook and step), otherwise `result` with a Graft error as
    /// a runtime error.
    pub fn finish<T>(&mut self, session: &Session, result: Result<T>) -> RhaiResult<T> {
        match (self.exit.take(), result) {
            // `exit(0)` stopped training, and the wind-down then failed: the failure counts.
            (Some(exit), Err(e)) if exit.code == 0 => {
                session.take_exit();
                Err(to_rhai(e))
            }
            (Some(exit), _) => {
                session.exit_in_hook(exit.hook, exit.step);
                Err(exit_error(exit.code))
            }
            (None, Ok(v)) => Ok(v),
            (None, Err(e)) => Err(self.take_script_error().unwrap_or_else(|| to_rhai(e))),
        }
    }

    fn source(&self) -> String {
        match &self.caller {
            Caller::Context(c) => {
                c.call_source().map_or_else(|| self.main_file.clone(), str::to_string)
            }
            Caller::Standalone { .. } => self.main_file.clone(),
        }
    }

    fn max_operations(&self) -> u64 {
        match &self.caller {
            Caller::Context(c) => c.engine().max_operations(),
            Caller::Standalone { engine, .. } => engine.max_operations(),
        }
    }

    fn call(
        &mut self,
        hook: &'static str,
        f: &FnPtr,
        ctx: &mut HookContext,
        metrics: Option<&BTreeMap<String, f64>>,
    ) -> Result<()> {
        if self.exit.is_some() {
            // `exit(0)` was called in an earlier hook: training is winding down, and the
            // script runs no more.
            ctx.stop = true;
            return Ok(());
        }
        let hc = HookCtx::snapshot(ctx, self.reset_on_unfreeze);
        let args: Vec<Dynamic> = match metrics {
            Some(m) => vec![Dynamic::from(hc.clone()), Dynamic::from_map(to_map(m))],
            None => vec![Dynamic::from(hc.clone())],
        };
        let result: RhaiResult<Dynamic> = match &self.caller {
            Caller::Context(c) => f.call_raw(c, None, args),
            Caller::Standalone { engine, ast } => f.call::<Dynamic>(engine, ast, args),
        };
        let mut st = hc.0.borrow_mut();
        st.live = false;
        let step = ctx.step;
        // The hook's frame in a call stack, made only when there is an error to report.
        let frame = || {
            let function = if f.is_anonymous() {
                "closure".to_string()
            } else {
                format!("fn {}", f.fn_name())
            };
            format!("{HOOK_FRAME}{hook} ({function}) at step {step}")
        };
        match result {
            Ok(_) => {}
            Err(e) => match *e {
                EvalAltResult::Exit(value, _) => {
                    // Graft's `exit` has checked the code; Rhai's own would not have.
                    let code = super::exit::exit_code(&value).unwrap_or(1);
                    self.exit = Some(HookExit { code, hook, step: ctx.step });
                    if code != 0 {
                        return Err(Error::Invalid(format!(
                            "the script called exit({code}) in hook {hook} at step {}",
                            ctx.step
                        )));
                    }
                    // `exit(0)`: the hook's changes so far apply, and training stops.
                    ctx.stop = true;
                }
                err if err.is_system_exception() => {
                    let (at, script) = self.limit_error(&err, hook, &frame());
                    self.script_error =
                        Some(Box::new(EvalAltResult::ErrorSystem(String::new(), Box::new(script))));
                    return Err(at);
                }
                mut err => {
                    if let EvalAltResult::ErrorInFunctionCall(name, ..) = &mut err {
                        if name.as_str() == f.fn_name() {
                            *name = frame();
                        }
                    }
                    let converted = script_error(&err, &self.main_file);
                    self.script_error = Some(Box::new(err));
                    return Err(converted);
                }
            },
        }
        for change in st.changes.drain(..) {
            match change {
                Change::Freeze(g) => ctx.optimizer.freeze(&g)?,
                Change::Unfreeze(g, reset) => ctx.optimizer.unfreeze(&g, reset)?,
                Change::SetLr(g, lr) => ctx.optimizer.set_lr(&g, lr)?,
                Change::SetWeightDecay(g, wd) => ctx.optimizer.set_weight_decay(&g, wd)?,
            }
        }
        ctx.stop |= st.stop;
        ctx.save_checkpoint |= st.save;
        Ok(())
    }

    /// A sandbox limit hit inside a hook, as a located error naming the hook (twice: one for
    /// the training loop, one for the script). Rhai re-positions such errors at every call
    /// they leave and keeps no call stack for them, so the position is where the hook was
    /// called from: the training call in the script.
    fn limit_error(&self, err: &EvalAltResult, hook: &str, frame: &str) -> (Error, Error) {
        let pos = err.position();
        let file = self.source();
        let what = match err {
            EvalAltResult::ErrorTooManyOperations(..) => format!(
                "Too many operations: the script used up its {} operations (--max-operations) \
                 inside hook {hook}; look for an endless loop there",
                self.max_operations()
            ),
            other => {
                let text = other.to_string();
                let text = text.strip_suffix(&format!(" ({pos})")).unwrap_or(&text).to_string();
                format!("{text} inside hook {hook}")
            }
        };
        let make = || Error::Script {
            file: file.clone(),
            line: pos.line().unwrap_or(0),
            col: pos.position().unwrap_or(0),
            message: what.clone(),
            stack: vec![format!(
                "{frame} @ {file}:{}:{}",
                pos.line().unwrap_or(0),
                pos.position().unwrap_or(0)
            )],
        };
        (make(), make())
    }
}

impl TrainHooks for RhaiHooks<'_> {
    fn on_epoch_start(&mut self, ctx: &mut HookContext) -> Result<()> {
        match self.fns.on_epoch_start.clone() {
            Some(f) => self.call("on_epoch_start", &f, ctx, None),
            None => Ok(()),
        }
    }
    fn on_step(&mut self, ctx: &mut HookContext) -> Result<()> {
        match self.fns.on_step.clone() {
            Some(f) => self.call("on_step", &f, ctx, None),
            None => Ok(()),
        }
    }
    fn step_every(&self) -> u64 {
        self.fns.step_every
    }
    fn on_eval(&mut self, ctx: &mut HookContext, metrics: &BTreeMap<String, f64>) -> Result<()> {
        match self.fns.on_eval.clone() {
            Some(f) => self.call("on_eval", &f, ctx, Some(metrics)),
            None => Ok(()),
        }
    }
}
