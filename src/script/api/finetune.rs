//! `finetune::run(model, data, config)` — fine-tune a model on a supervised set under a
//! strategy, with Rhai schedule hooks. `config` fills [`FinetuneConfig`] (the same struct as
//! JSON) plus two script-only keys: `head` (attach a new linear head of that width before
//! training; `"auto"` = the data's classes or regression width) and `hooks` (see
//! [`crate::script::hooks`]). Returns the run's [`FitSummary`](crate::finetune::FitSummary) serialised (steps, epochs,
//! ended, metrics, checkpoint), `stopped_early` (`ended == "hook"`) and the optimizer's
//! groups (name, lr, weight_decay, frozen).
//!
//! ```rhai
//! let result = finetune::run(m, set, #{
//!     head: "auto",
//!     strategy: #{kind: "feature_extraction"},
//!     epochs: 3,
//!     optimizer: #{kind: "adam", lr: param("lr", 1e-3)},
//!     hooks: #{on_eval: |ctx, m| if m["val/accuracy"] > 0.98 { ctx.stop() }},
//! });
//! ```

use rhai::{Array, Dynamic, Map, Module, NativeCallContext};

use super::data::SupervisedHandle;
use super::model::ModelHandle;
use super::{fail, from_map, to_dyn, RhaiResult};
use crate::distributed::{world, Backend};
use crate::finetune::{FinetuneConfig, Finetuner};
use crate::script::error::to_rhai;
use crate::script::hooks::{Caller, HookFns, RhaiHooks};
use crate::script::session::Session;

fn run(
    ctx: &NativeCallContext,
    session: &Session,
    model: &ModelHandle,
    data: &SupervisedHandle,
    mut options: Map,
) -> RhaiResult<Map> {
    let hooks = match options.remove("hooks") {
        None => HookFns::default(),
        Some(h) => match h.try_cast::<Map>() {
            Some(map) => HookFns::from_map(&map).map_err(to_rhai)?,
            None => {
                return fail("finetune: hooks must be a map #{on_epoch_start: |ctx| ...}".into())
            }
        },
    };
    let head = options.remove("head");
    if !options.contains_key("seed") {
        options.insert("seed".into(), Dynamic::from(session.seed() as i64));
    }
    let config: FinetuneConfig = from_map("finetune config", options)?;
    if let Some(h) = head {
        let width = if h.clone().try_cast::<rhai::ImmutableString>().is_some_and(|s| s == "auto") {
            data.0.output_dim()
        } else {
            match h.as_int() {
                Ok(w) => w,
                Err(_) => return fail("finetune: head must be a width or \"auto\"".into()),
            }
        };
        model.attach_head(width).map_err(to_rhai)?;
    }
    let (train, val) = data.0.split(config.val_fraction, config.seed).map_err(to_rhai)?;
    let main_file = session.script().display().to_string();
    let mut rhai_hooks =
        RhaiHooks::new(hooks, Caller::Context(ctx), config.reset_state_on_unfreeze, &main_file);
    let st = model.0.borrow();
    let Some(net) = st.net.as_ref() else { return fail("model is busy".into()) };
    let mut trainer = Finetuner::new(&st.vs, net.as_ref(), config).map_err(to_rhai)?;
    // Under `graft run --nproc N` every rank trains its share of each mini-batch and rank 0
    // writes the checkpoints into the run directory.
    if let Some(env) = world::from_env().map_err(to_rhai)? {
        let backend =
            if st.vs.device() == tch::Device::Cpu { Backend::Gloo } else { Backend::Nccl };
        let pg = world::take_group(backend, &env).map_err(to_rhai)?;
        trainer = trainer.with_process_group(pg).map_err(to_rhai)?;
    }
    let run_dir = session.run_dir();
    let val = if val.is_empty() { None } else { Some(&val) };
    // The logger is lent to the loop for the whole run; `report::log` inside a hook is
    // refused with an error meanwhile.
    let mut logger = session.take_metrics().map_err(to_rhai)?;
    let result = trainer.fit(&train, val, &mut rhai_hooks, Some(&mut logger), Some(&run_dir));
    session.return_metrics(logger);
    if let Some(pg) = trainer.take_process_group() {
        world::return_group(pg);
    }
    // A hook's own Rhai error keeps its call stack, a hook's `exit` ends the script here;
    // other failures become located runtime errors at this call.
    let summary = rhai_hooks.finish(session, result)?;
    if trainer.config().lora.as_ref().is_some_and(|l| l.merge) {
        trainer.merge_lora().map_err(to_rhai)?;
        session.log_line("finetune: LoRA updates merged into the weights");
    }
    let metrics: Vec<String> = summary.metrics.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
    session.log_line(&format!(
        "finetune: {} steps over {} epochs{}; metrics: {}",
        summary.steps,
        summary.epochs,
        summary.ended.note(),
        if metrics.is_empty() { "none".to_string() } else { metrics.join(", ") }
    ));
    let mut out: Map = to_dyn(&summary)?.cast();
    out.insert("stopped_early".into(), Dynamic::from(summary.ended.by_hook()));
    out.insert("groups".into(), to_dyn(&trainer.optimizer.groups())?);
    Ok(out)
}

/// The `finetune` module.
pub fn module(session: &Session) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    m.set_native_fn(
        "run",
        move |ctx: NativeCallContext,
              model: &mut ModelHandle,
              data: SupervisedHandle,
              options: Map| { super::located(&ctx, run(&ctx, &s, model, &data, options)) },
    );
    m.set_native_fn("strategies", || {
        Ok(["feature_extraction", "full", "select_layers"]
            .iter()
            .map(|s| Dynamic::from(s.to_string()))
            .collect::<Array>())
    });
    m
}
