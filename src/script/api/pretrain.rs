//! `pretrain::run(config)` — a whole pretraining run
//! ([`crate::pretrain::run`](fn@crate::pretrain::run)) from a map filling [`PretrainConfig`] (the same struct as `graft pretrain`'s JSON), plus two
//! script-only keys: `name` (the run's subfolder, default `pretrain`; the pretraining
//! writes its own `config.json`, metrics and checkpoints there) and `hooks` (schedule hooks,
//! as for `finetune::run`). `trainer.seed` defaults to the run's master seed (`graft run --seed`).
//! Returns the run's [`PretrainOutcome`](crate::pretrain::PretrainOutcome)
//! serialised: `#{steps, ended, stopped_early, first_loss, final_loss, metrics, encoder,
//! checkpoint, model}`; `model::load_encoder(r.encoder)` picks the encoder up for fine-tuning.
//!
//! ```rhai
//! let r = pretrain::run(#{
//!     task: #{task: "simclr"}, data: #{path: "runs/digits"},
//!     model: #{kind: "resnet", layers: [1, 1, 1, 1], base_width: 8, stem: "cifar"},
//!     trainer: #{steps: 200, batch_size: 64},
//! });
//! let m = model::load_encoder(r.encoder);
//! ```
//!
//! `pretrain::probe(model, data[, options])` evaluates a model's frozen features
//! ([`crate::pretrain::probe`]): on labelled images a linear probe and k-NN
//! (`#{linear_accuracy, knn_accuracy, n_train, n_test}`), on a trajectory dataset (`.arrow`)
//! the state R² and action probes (`#{state_r2, action_accuracy, majority_accuracy, …}`).
//! `options` fills [`ProbeConfig`] (seed defaults to the run's) plus `image_size` (resize
//! images to that square side). A freshly built model is the random-init baseline:
//!
//! ```rhai
//! let pre = pretrain::probe(model::load_encoder(r.encoder), "runs/digits");
//! let random = pretrain::probe(model::build(r.model), "runs/digits");
//! print(`linear probe: ${pre.linear_accuracy} vs ${random.linear_accuracy} at random init`);
//! ```

use rhai::{Dynamic, Map, Module, NativeCallContext};

use super::model::ModelHandle;
use super::{fail, from_map, to_dyn, RhaiResult};
use crate::pretrain::base::pixel_factor;
use crate::pretrain::probe::{probe_control, probe_images, ProbeConfig};
use crate::pretrain::run::open_images;
use crate::pretrain::{PretrainConfig, Trajectories};
use crate::script::error::to_rhai;
use crate::script::hooks::{Caller, HookFns, RhaiHooks};
use crate::script::session::Session;

fn run(ctx: &NativeCallContext, session: &Session, mut options: Map) -> RhaiResult<Map> {
    let hooks = match options.remove("hooks") {
        None => HookFns::default(),
        Some(h) => match h.try_cast::<Map>() {
            Some(map) => HookFns::from_map(&map).map_err(to_rhai)?,
            None => {
                return fail("pretrain: hooks must be a map #{on_epoch_start: |ctx| ...}".into())
            }
        },
    };
    let name = match options.remove("name") {
        None => "pretrain".to_string(),
        Some(n) => match n.try_cast::<rhai::ImmutableString>() {
            Some(s) => s.to_string(),
            None => return fail("pretrain: name must be a string".into()),
        },
    };
    // The run's master seed reaches the pretraining (its initialisation, augmentations, batch
    // order) unless the script sets `trainer.seed` itself: `graft run --seed 0` and `--seed 1`
    // must pretrain different encoders, and one seed the same one.
    let mut trainer = match options.remove("trainer") {
        None => Map::new(),
        Some(t) => match t.try_cast::<Map>() {
            Some(map) => map,
            None => return fail("pretrain: trainer must be a map #{steps: ..., ...}".into()),
        },
    };
    if !trainer.contains_key("seed") {
        trainer.insert("seed".into(), Dynamic::from(session.seed() as i64));
    }
    options.insert("trainer".into(), Dynamic::from_map(trainer));
    let config: PretrainConfig = from_map("pretrain config", options)?;
    // The same folder on every rank: under `graft run --nproc N` the run is data-parallel,
    // rank 0 writes it and every rank resumes from it.
    let out_dir = session.shared_output_path(&name).map_err(to_rhai)?;
    if out_dir.join("config.json").exists() && !config.resume {
        return fail(format!(
            "pretrain: {} already holds a pretraining run; give another name (or resume: true)",
            out_dir.display()
        ));
    }
    let main_file = session.script().display().to_string();
    // Pretraining resets optimizer state on unfreeze as fine-tuning does by default.
    let mut rhai_hooks = RhaiHooks::new(hooks, Caller::Context(ctx), true, &main_file);
    let result = crate::pretrain::run(&config, &out_dir, &mut rhai_hooks);
    let outcome = rhai_hooks.finish(session, result)?;
    let final_loss = outcome.final_loss.map_or(String::new(), |l| format!(", final loss {l:.4}"));
    session.log_line(&format!(
        "pretrain: {} steps{}{final_loss}, encoder {}",
        outcome.steps,
        outcome.ended.note(),
        outcome.encoder_path.display()
    ));
    let mut out: Map = to_dyn(&outcome)?.cast();
    out.insert("stopped_early".into(), Dynamic::from(outcome.ended.by_hook()));
    Ok(out)
}

/// `pretrain::probe`: the frozen features of `model` on the images or trajectories at `data`.
fn probe(session: &Session, model: &ModelHandle, data: &str, mut options: Map) -> RhaiResult<Map> {
    let image_size = match options.remove("image_size") {
        None => None,
        Some(v) => match v.as_int() {
            Ok(s) if s > 0 && s <= u32::MAX as i64 => Some(s as u32),
            _ => {
                return fail(format!("pretrain::probe: image_size must be a positive int, got {v}"))
            }
        },
    };
    if !options.contains_key("seed") {
        options.insert("seed".into(), Dynamic::from(session.seed() as i64));
    }
    let cfg: ProbeConfig = from_map("pretrain::probe options", options)?;
    let st = model.0.borrow();
    if st.head.is_some()
        || st.net.as_ref().is_some_and(|n| n.layer_groups().iter().any(|g| g.name == "head"))
    {
        return fail(
            "pretrain::probe: the model has a head; probe an encoder (model::load_encoder, or a \
             config built with num_classes: ())"
                .into(),
        );
    }
    let Some(net) = st.net.as_ref() else { return fail("model is busy".into()) };
    let path = session.input_path(data);
    let device = st.vs.device();
    let factor = pixel_factor(&st.config);
    let json = if path.extension().is_some_and(|e| e == "arrow") {
        let trajectories = Trajectories::open(&path, device, factor).map_err(to_rhai)?;
        serde_json::to_value(probe_control(net.as_ref(), &trajectories, &cfg).map_err(to_rhai)?)
    } else {
        let images = open_images(&path, image_size, device).map_err(to_rhai)?;
        serde_json::to_value(probe_images(net.as_ref(), factor, &images, &cfg).map_err(to_rhai)?)
    }
    .map_err(|e| to_rhai(crate::Error::Invalid(format!("pretrain::probe: {e}"))))?;
    match rhai::serde::to_dynamic(json)?.try_cast::<Map>() {
        Some(out) => Ok(out),
        None => fail("pretrain::probe: the probe gave no result map".into()),
    }
}

/// The `pretrain` module.
pub fn module(session: &Session) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    m.set_native_fn("run", move |ctx: NativeCallContext, options: Map| {
        super::located(&ctx, run(&ctx, &s, options))
    });
    let s = session.clone();
    api_fn!(m, "probe", |model: &mut ModelHandle, data: &str| {
        probe(&s, model, data, Map::new())
    });
    let s = session.clone();
    api_fn!(m, "probe", |model: &mut ModelHandle, data: &str, options: Map| {
        probe(&s, model, data, options)
    });
    m.set_native_fn("tasks", || {
        Ok(crate::pretrain::TASKS
            .iter()
            .map(|t| Dynamic::from(t.to_string()))
            .collect::<rhai::Array>())
    });
    m
}
