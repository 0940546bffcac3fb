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

use super::error::script_error;
use crate::error::{Error, Result};
use crate::train::{GroupState, HookContext, TrainHooks};

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
pub struct RhaiHooks<'a> {
    fns: HookFns,
    caller: Caller<'a>,
    reset_on_unfreeze: bool,
    main_file: String,
    script_error: Option<Box<EvalAltResult>>,
}

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
        }
    }

    /// The Rhai error of the hook that failed, if one did (for re-raising inside the script
    /// with its call stack intact).
    pub fn take_script_error(&mut self) -> Option<Box<EvalAltResult>> {
        self.script_error.take()
    }

    fn call(
        &mut self,
        f: &FnPtr,
        ctx: &mut HookContext,
        metrics: Option<&BTreeMap<String, f64>>,
    ) -> Result<()> {
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
        if let Err(e) = result {
            let err = script_error(&e, &self.main_file);
            self.script_error = Some(e);
            return Err(err);
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
}

impl TrainHooks for RhaiHooks<'_> {
    fn on_epoch_start(&mut self, ctx: &mut HookContext) -> Result<()> {
        match self.fns.on_epoch_start.clone() {
            Some(f) => self.call(&f, ctx, None),
            None => Ok(()),
        }
    }
    fn on_step(&mut self, ctx: &mut HookContext) -> Result<()> {
        match self.fns.on_step.clone() {
            Some(f) => self.call(&f, ctx, None),
            None => Ok(()),
        }
    }
    fn step_every(&self) -> u64 {
        self.fns.step_every
    }
    fn on_eval(&mut self, ctx: &mut HookContext, metrics: &BTreeMap<String, f64>) -> Result<()> {
        match self.fns.on_eval.clone() {
            Some(f) => self.call(&f, ctx, Some(metrics)),
            None => Ok(()),
        }
    }
}
