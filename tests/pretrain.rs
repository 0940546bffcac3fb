//! Pretraining on tiny budgets (CPU, seconds each): every pretext loss falls well below its
//! start; a run stopped at step K and resumed ends bit-identical to an uninterrupted one; a
//! diverging run stops with a clear error and keeps its last good checkpoint; the exported
//! encoder loads by its own config; bad configs are refused. Held-out evidence is in
//! tests/pretrain_evidence.rs, the CLI in tests/pretrain_cli.rs.

use std::path::Path;

use graft::models::cnn::MinAtarCnnConfig;
use graft::models::vit::{Pool, VitConfig};
use graft::models::{checkpoint, ModelConfig};
use graft::optim::LrSchedule;
use graft::pretrain::config::TaskConfig;
use graft::pretrain::trainer::variables_sorted;
use graft::pretrain::{run, PretrainConfig, PretrainOutcome};
use graft::train::{HookContext, NoHooks, TrainHooks};
use tch::{nn, Device, Tensor};

mod pretrain_common;
mod support;
use pretrain_common::*;

/// State prediction from frames: the standardised MSE starts near 1 (R² near 0) and falls
/// as the network reads the cart's position and the pole's angle off the frame.
#[test]
fn state_prediction_loss_falls() {
    let cfg = config(
        TaskConfig::named("state_prediction").unwrap(),
        cartpole_frames(),
        small_cnn(),
        60,
        1e-3,
    );
    assert_falls(&run_task("state_prediction", &cfg), 0.7);
}

fn state_task(name: &str, steps: u64, lr: f64, ratio: f64) {
    let mut task = TaskConfig::named(name).unwrap();
    if let TaskConfig::NextAction(c) | TaskConfig::MaskedAction(c) = &mut task {
        (c.context, c.gpt.width, c.gpt.depth, c.gpt.heads) = (8, 32, 1, 2);
        // More masked actions per batch than BERT's 15 % keep the tiny test's loss less noisy.
        (c.mask_ratio, c.gpt.dropout) = (0.3, 0.0);
    }
    let cfg = config(task, cartpole_states(), mlp(), steps, lr);
    assert_falls(&run_task(name, &cfg), ratio);
}

// Loss at the end (mean of the last 10 steps) against the first step's, on 8 expert
// episodes of CartPole state vectors with the default MLP. The ratios leave a wide margin
// under what the runs reach (printed with --nocapture).

#[test]
fn inverse_dynamics_loss_falls() {
    state_task("inverse_dynamics", 60, 3e-3, 0.5);
}

#[test]
fn behaviour_cloning_loss_falls() {
    state_task("behaviour_cloning", 300, 3e-3, 0.6);
}

#[test]
fn forward_prediction_loss_falls() {
    state_task("forward_prediction", 60, 1e-3, 0.5);
}

#[test]
fn temporal_contrastive_loss_falls() {
    state_task("temporal_contrastive", 60, 1e-3, 0.7);
}

#[test]
fn next_action_loss_falls() {
    state_task("next_action", 60, 1e-3, 0.7);
}

#[test]
fn masked_action_loss_falls() {
    // Binary actions of an expert that is hard to predict from a short context: the loss
    // starts near ln 2 and this run ends at 0.79 of it (masked-action accuracy about 0.68).
    state_task("masked_action", 400, 3e-3, 0.85);
}

/// Run `cfg` in `out` up to `halt_after` (as if killed there), or to the end.
fn fit(cfg: &PretrainConfig, out: &Path, halt_after: Option<u64>) -> Vec<(String, Tensor)> {
    variables_sorted(&prepare_and_fit(cfg, out, halt_after))
}

fn assert_resume_is_exact(name: &str, mut cfg: PretrainConfig) {
    let _g = exclusive();
    cfg.trainer.steps = 20;
    cfg.trainer.checkpoint_every = 5;
    let whole = fit(&cfg, &tmp_dir(&format!("{name}-whole")), None);
    let out = tmp_dir(&format!("{name}-resumed"));
    // Killed at step 12: the last checkpoint is step 10, steps 11 and 12 are done again.
    let halted = fit(&cfg, &out, Some(12));
    cfg.resume = true;
    let resumed = fit(&cfg, &out, None);
    assert_eq!(whole.len(), resumed.len());
    let mut differs_from_halted = false;
    for ((k, a), (k2, b)) in whole.iter().zip(&resumed) {
        assert_eq!(k, k2);
        assert!(a.equal(b), "{name}: variable {k} differs after resuming");
    }
    for ((_, a), (_, h)) in whole.iter().zip(&halted) {
        differs_from_halted |= !a.equal(h);
    }
    assert!(differs_from_halted, "{name}: the halted run already equals the whole one");
}

#[test]
fn resume_equals_uninterrupted_with_masks_dropout_and_data_order() {
    let mut task = TaskConfig::named("masked_action").unwrap();
    if let TaskConfig::MaskedAction(c) = &mut task {
        (c.context, c.gpt.width, c.gpt.depth, c.gpt.heads) = (4, 16, 1, 1);
    }
    let mut cfg = config(task, cartpole_states(), mlp(), 20, 1e-3);
    cfg.trainer.schedule = LrSchedule::WarmupCosine { warmup_steps: 3, min_factor: 0.1 };
    cfg.trainer.max_grad_norm = Some(1.0);
    assert_resume_is_exact("masked", cfg);
}

#[test]
fn resume_equals_uninterrupted_with_ema_targets() {
    let cfg = config(
        TaskConfig::named("temporal_contrastive").unwrap(),
        cartpole_states(),
        mlp(),
        20,
        1e-3,
    );
    assert_resume_is_exact("atc", cfg);
}

/// Sets every learning rate to 1e300 after step 4: the parameters overflow at step 5 and
/// the loss is NaN at step 6.
struct Sabotage;

impl TrainHooks for Sabotage {
    fn step_every(&self) -> u64 {
        1
    }
    fn on_step(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
        if ctx.step == 4 {
            ctx.optimizer.set_lr_all(1e300);
        }
        Ok(())
    }
}

#[test]
fn divergence_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint() {
    let _g = exclusive();
    let mut cfg =
        config(TaskConfig::named("behaviour_cloning").unwrap(), cartpole_states(), mlp(), 50, 1e-3);
    cfg.trainer.checkpoint_every = 2;
    let out = tmp_dir("diverge");
    let err = run(&cfg, &out, &mut Sabotage).unwrap_err();
    assert!(matches!(err, graft::Error::Diverged { step: 6, .. }), "{err}");
    assert!(err.to_string().contains("diverged at step 6"), "{err}");
    let ckpt = checkpoint::Checkpoint::read(out.join("checkpoint.safetensors")).unwrap();
    for (k, t) in &ckpt.tensors {
        if t.is_floating_point() {
            assert!(
                bool::try_from(t.isfinite().all()).unwrap(),
                "{k} in the kept checkpoint is not finite"
            );
        }
    }
    // It is step 4's state: resuming from it reproduces step 4's parameters.
    let mut again = cfg.clone();
    again.trainer.steps = 4;
    let reference = run(&again, &tmp_dir("diverge-ref"), &mut NoHooks).unwrap();
    let ref_state = checkpoint::Checkpoint::read(&reference.checkpoint_path).unwrap();
    let key = ckpt.tensors.keys().find(|k| k.ends_with("head.0.weight")).unwrap().clone();
    assert!(ckpt.tensors[&key].equal(&ref_state.tensors[&key]));
    assert!(!out.join("encoder.safetensors").exists(), "a diverged run must not export an encoder");
}

#[test]
fn the_exported_encoder_loads_by_its_own_config() {
    let _g = exclusive();
    let cfg =
        config(TaskConfig::named("behaviour_cloning").unwrap(), cartpole_states(), mlp(), 5, 1e-3);
    let out = tmp_dir("export");
    let o = run(&cfg, &out, &mut NoHooks).unwrap();
    let meta = checkpoint::Checkpoint::read(&o.encoder_path).unwrap().meta;
    let model = meta.model_config().unwrap().unwrap();
    assert_eq!(meta.step, Some(5));
    let mut vs = nn::VarStore::new(Device::Cpu);
    let encoder = model.build(&vs.root()).unwrap();
    checkpoint::load(&mut vs, &o.encoder_path).unwrap();
    assert_eq!(encoder.output_dim(), 64);
    // The exported values are the trained ones, found under `encoder.` in the training state.
    let state = checkpoint::Checkpoint::read(&o.checkpoint_path).unwrap();
    let trained =
        state.tensors.iter().find(|(k, _)| k.ends_with("encoder.layers.0.weight")).unwrap().1;
    let exported = vs.variables()["layers.0.weight"].shallow_clone();
    assert!(trained.equal(&exported));
    let saved = std::fs::read_to_string(out.join("config.json")).unwrap();
    let back = PretrainConfig::from_json(&saved).unwrap();
    assert_eq!(back.task.name(), "behaviour_cloning");
    assert!(out.join("metrics.csv").exists());
}

#[test]
fn configs_refuse_unknown_fields_and_tasks() {
    let _g = exclusive();
    let err = PretrainConfig::from_json(r#"{"task": {"task": "simclr", "temprature": 0.1}}"#)
        .unwrap_err();
    assert!(err.to_string().contains("temprature"), "{err}");
    let err = TaskConfig::named("rotnet").unwrap_err();
    assert!(err.to_string().contains("rotation"), "{err}");
    let cfg = PretrainConfig::from_json(r#"{"task": {"task": "simclr"}, "trainer": {"steps": 3}}"#)
        .unwrap();
    match cfg.task {
        TaskConfig::Simclr(c) => assert_eq!(c.temperature, 0.5),
        _ => panic!("wrong task"),
    }
    // An image task on a trajectory file of state vectors is refused, naming the file.
    let bad = config(TaskConfig::named("rotation").unwrap(), cartpole_states(), mlp(), 3, 1e-3);
    let err = run(&bad, &tmp_dir("bad"), &mut NoHooks).unwrap_err().to_string();
    assert!(err.contains("cartpole.arrow") && err.contains("not uint8 images"), "{err}");
    // A state-action task on an image file is refused by name.
    let bad =
        config(TaskConfig::named("inverse_dynamics").unwrap(), &digits_file(8), mlp(), 3, 1e-3);
    let err = run(&bad, &tmp_dir("bad2"), &mut NoHooks).unwrap_err().to_string();
    assert!(err.contains("digits.safetensors"), "{err}");
}

fn small_grid_cnn() -> ModelConfig {
    ModelConfig::MinatarCnn(MinAtarCnnConfig {
        conv_channels: 16,
        hidden: 64,
        ..MinAtarCnnConfig::default()
    })
}

fn image_task(
    name: &str,
    model: ModelConfig,
    side: i64,
    steps: u64,
    lr: f64,
    ratio: f64,
) -> PretrainOutcome {
    let mut task = TaskConfig::named(name).unwrap();
    // Digits are small and not mirror-symmetric: milder crops, no flips.
    if let TaskConfig::Simclr(c) = &mut task {
        (c.views.min_scale, c.views.flip) = (0.5, false);
    }
    if let TaskConfig::Byol(c) = &mut task {
        (c.views.min_scale, c.views.flip) = (0.5, false);
    }
    let cfg = config(task, &digits_file(side), model, steps, lr);
    let o = run_task(name, &cfg);
    assert_falls(&o, ratio);
    o
}

#[test]
fn rotation_loss_falls() {
    image_task("rotation", small_grid_cnn(), 8, 60, 3e-3, 0.6);
}

#[test]
fn denoising_loss_falls() {
    image_task("denoising", small_grid_cnn(), 16, 60, 3e-3, 0.6);
}

#[test]
fn simclr_loss_falls() {
    image_task("simclr", small_grid_cnn(), 16, 100, 3e-3, 0.85);
}

#[test]
fn byol_loss_falls() {
    image_task("byol", small_grid_cnn(), 16, 60, 3e-3, 0.7);
}

#[test]
fn mae_loss_falls() {
    let vit = ModelConfig::Vit(VitConfig {
        image_size: 16,
        patch_size: 4,
        in_channels: 1,
        depth: 2,
        width: 32,
        heads: 2,
        pool: Pool::Mean,
        num_classes: None,
        ..VitConfig::default()
    });
    image_task("mae", vit, 16, 60, 1e-3, 0.8);
}
