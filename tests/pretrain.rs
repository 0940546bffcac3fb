//! Pretraining evidence on tiny budgets (CPU, seconds each): every pretext loss falls well
//! below its start; inverse dynamics on CartPole frames predicts held-out actions well above
//! chance; RotNet on scikit-learn's digits beats a random-init encoder under the same linear
//! probe; a run stopped at step K and resumed ends bit-identical to an uninterrupted one; a
//! diverging run stops with a clear error and keeps its last good checkpoint.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, RwLock, RwLockWriteGuard};

use graft::data::{collect, CollectConfig, PolicySpec};
use graft::models::cnn::{MinAtarCnnConfig, NatureCnnConfig};
use graft::models::vit::{Pool, VitConfig};
use graft::models::{checkpoint, ModelConfig};
use graft::pretrain::config::{DataConfig, TaskConfig, TrainerConfig};
use graft::pretrain::probe::{probe_images, ProbeConfig};
use graft::pretrain::sources::Images;
use graft::pretrain::trainer::{self, variables_sorted, Loop};
use graft::pretrain::{prepare, run, Prepared, PretrainConfig, PretrainOutcome};
use graft::train::{HookContext, LrSchedule, NoHooks, OptimizerConfig, TrainHooks};
use tch::{nn, Device, Kind, Tensor};

mod support;
use support::python;

/// libtorch's random generator is one per process: a run's exact replay, and a loss or
/// accuracy checked against a threshold, need no other run drawing from it at the same time,
/// so every training test holds this lock (they run one at a time).
static GENERATOR: RwLock<()> = RwLock::new(());

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    GENERATOR.write().unwrap_or_else(|e| e.into_inner())
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("graft-pretrain-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn small_cnn() -> ModelConfig {
    ModelConfig::NatureCnn(NatureCnnConfig { hidden: 64, ..NatureCnnConfig::default() })
}

fn config(
    task: TaskConfig,
    data: &Path,
    model: ModelConfig,
    steps: u64,
    lr: f64,
) -> PretrainConfig {
    PretrainConfig {
        task,
        data: DataConfig { path: data.to_path_buf(), image_size: None, ..Default::default() },
        model,
        trainer: TrainerConfig {
            steps,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(lr),
            schedule: LrSchedule::Constant,
            log_every: 10,
            progress: false,
            ..TrainerConfig::default()
        },
        device: "cpu".into(),
        resume: false,
    }
}

fn run_task(name: &str, cfg: &PretrainConfig) -> PretrainOutcome {
    // Exclusive: libtorch's generator is global to the process, so two runs in parallel
    // would draw each other's numbers and their losses (checked against thresholds below)
    // would vary from run to run.
    let _g = exclusive();
    let out = tmp_dir(name);
    let o = run(cfg, &out, &mut NoHooks).unwrap();
    eprintln!("{name}: first {:?} final {:?} {:?}", o.first_loss, o.final_loss, o.metrics);
    o
}

fn assert_falls(o: &PretrainOutcome, ratio: f64) {
    let (first, last) = (o.first_loss.unwrap(), o.final_loss.unwrap());
    assert!(
        last < ratio * first,
        "loss fell only from {first} to {last} (wanted below {ratio} of the start)"
    );
}

/// CartPole-v1 expert episodes as state vectors.
fn cartpole_states() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tmp_dir("data-states");
        let mut cfg = CollectConfig::new("CartPole-v1", dir.join("cartpole.arrow"));
        cfg.policy = PolicySpec::Heuristic;
        cfg.episodes = 8;
        cfg.seed = 3;
        cfg.workers = 1;
        cfg.kwargs.insert("max_episode_steps".into(), graft::envs::Value::Int(100));
        collect(&cfg, &mut |_, _| {}).unwrap().path
    })
}

/// CartPole-v1 expert episodes as 40×40 RGB frames with the state beside them.
fn cartpole_frames() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tmp_dir("data-frames");
        let mut cfg = CollectConfig::new("CartPole-v1", dir.join("cartpole.arrow"));
        (cfg.policy, cfg.episodes, cfg.seed, cfg.workers) = (PolicySpec::Random, 12, 5, 1);
        cfg.pixels = Some((40, 40));
        collect(&cfg, &mut |_, _| {}).unwrap().path
    })
}

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

fn mlp() -> ModelConfig {
    ModelConfig::preset("mlp").unwrap()
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
    let Prepared { mut task, mut vs, mut optimizer, .. } = prepare(cfg).unwrap();
    trainer::fit(
        task.as_mut(),
        Loop {
            config: &cfg.trainer,
            vs: &mut vs,
            optimizer: &mut optimizer,
            out_dir: out,
            resume: cfg.resume,
            hooks: &mut NoHooks,
            halt_after,
        },
    )
    .unwrap();
    variables_sorted(&vs)
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
    cfg.trainer.grad_clip = Some(1.0);
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
    let ckpt = checkpoint::Checkpoint::read(out.join("checkpoints/last.safetensors")).unwrap();
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

// --- images: scikit-learn's digits (1,797 8x8 grayscale, 10 classes) -------------------

/// Digits as `[N, 1, 8, 8]` uint8 (values × 16, clamped) with labels, read from scikit-learn.
fn digits() -> Images {
    static RAW: OnceLock<(Vec<u8>, Vec<i64>)> = OnceLock::new();
    let (x, y) = RAW.get_or_init(|| {
        let dir = tmp_dir("digits");
        let (xp, yp) = (dir.join("x.bin"), dir.join("y.bin"));
        let code = "import sys, numpy as np\nfrom sklearn.datasets import load_digits\n\
                    d = load_digits()\n\
                    open(sys.argv[1], 'wb').write(np.clip(d.images * 16, 0, 255).astype(np.uint8).tobytes())\n\
                    open(sys.argv[2], 'wb').write(d.target.astype(np.int64).tobytes())\n";
        let st = Command::new(python()).arg("-c").arg(code).arg(&xp).arg(&yp).status().unwrap();
        assert!(st.success());
        let x = std::fs::read(&xp).unwrap();
        let y: Vec<i64> = std::fs::read(&yp)
            .unwrap()
            .chunks(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        (x, y)
    });
    let n = y.len() as i64;
    assert_eq!(n, 1797);
    Images::new(Tensor::from_slice(x).view([n, 1, 8, 8]), Some(Tensor::from_slice(y))).unwrap()
}

/// Digits upsampled to 16×16 (for the ViT's 4×4 patches and the autoencoder), as a file.
fn digits_file(side: i64) -> PathBuf {
    static FILES: Mutex<Vec<(i64, PathBuf)>> = Mutex::new(Vec::new());
    let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = files.iter().find(|(s, _)| *s == side) {
        return p.clone();
    }
    let d = digits();
    let images = if side == 8 {
        d.images.shallow_clone()
    } else {
        d.images
            .to_kind(Kind::Float)
            .upsample_nearest2d([side, side], None, None)
            .to_kind(Kind::Uint8)
    };
    let dir = tmp_dir(&format!("digits-file-{side}"));
    let path = dir.join("digits.safetensors");
    Images::new(images, d.labels).unwrap().save(&path).unwrap();
    files.push((side, path.clone()));
    path
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
        (c.min_scale, c.flip) = (0.5, false);
    }
    if let TaskConfig::Byol(c) = &mut task {
        (c.min_scale, c.flip) = (0.5, false);
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

/// The evidence of issue #8: RotNet features beat random ones under the same linear probe.
/// The encoder is a narrow one (8 conv channels, 16 features): with a wide one, random
/// features of 8×8 digits already reach 96 % and leave nothing to show. Measured: random
/// init 0.65, RotNet 0.82 (seed 1, 300 steps).
#[test]
fn rotation_pretraining_beats_random_init_under_a_linear_probe() {
    let _g = exclusive();
    let data = digits();
    let model = ModelConfig::MinatarCnn(MinAtarCnnConfig {
        conv_channels: 8,
        hidden: 16,
        ..MinAtarCnnConfig::default()
    });
    let out = tmp_dir("rotnet-probe");
    let mut cfg = config(TaskConfig::named("rotation").unwrap(), &digits_file(8), model, 300, 3e-3);
    cfg.trainer.seed = 1;
    let o = run(&cfg, &out, &mut NoHooks).unwrap();
    let probe = ProbeConfig::default();
    let fitted = o.model.clone();
    let score = |path: Option<&Path>| {
        tch::manual_seed(1);
        let mut vs = nn::VarStore::new(Device::Cpu);
        let enc = fitted.build(&vs.root()).unwrap();
        if let Some(p) = path {
            checkpoint::load(&mut vs, p).unwrap();
        }
        probe_images(&enc, 1.0, &data, &probe).unwrap()
    };
    let random = score(None);
    let pretrained = score(Some(&o.encoder_path));
    eprintln!("random init {random:?}\nrotnet {pretrained:?}");
    assert!(
        pretrained.linear_accuracy > random.linear_accuracy + 0.08,
        "RotNet probe {} vs random {}",
        pretrained.linear_accuracy,
        random.linear_accuracy
    );
}

/// Train `cfg` through the normal `prepare` / `trainer::fit` path, then score the same
/// networks on the unseen episodes of `held_out`: the task is built again on them and the
/// trained variables copied in (same names). Returns (accuracy, transitions).
fn held_out_accuracy(cfg: &PretrainConfig, held_out: &Path, name: &str) -> (f64, usize) {
    let Prepared { mut task, mut vs, mut optimizer, .. } = prepare(cfg).unwrap();
    trainer::fit(
        task.as_mut(),
        Loop {
            config: &cfg.trainer,
            vs: &mut vs,
            optimizer: &mut optimizer,
            out_dir: &tmp_dir(name),
            resume: false,
            hooks: &mut NoHooks,
            halt_after: None,
        },
    )
    .unwrap();
    let mut test_cfg = cfg.clone();
    test_cfg.data.path = held_out.to_path_buf();
    let test = prepare(&test_cfg).unwrap();
    let mut test_vs = test.vs;
    test_vs.copy(&vs).unwrap();
    let mut test_task = test.task;
    let all: Vec<usize> = (0..test_task.num_items()).collect();
    let out = tch::no_grad(|| test_task.loss(&all, false)).unwrap();
    let acc = out.metrics.iter().find(|(k, _)| *k == "accuracy").unwrap().1.double_value(&[]);
    eprintln!("{name}: held-out accuracy {acc} ({} transitions)", all.len());
    (acc, all.len())
}

/// Inverse dynamics on CartPole states: the action is identifiable from `(s_t, s_{t+1})`
/// (the velocities change by ±τ·F/m), so held-out episodes' actions are predicted well
/// above chance.
#[test]
fn inverse_dynamics_predicts_held_out_cartpole_actions_well_above_chance() {
    let _g = exclusive();
    let dir = tmp_dir("idm-test-data");
    let mut c = CollectConfig::new("CartPole-v1", dir.join("test.arrow"));
    (c.policy, c.episodes, c.seed, c.workers) = (PolicySpec::Heuristic, 3, 99, 1);
    c.kwargs.insert("max_episode_steps".into(), graft::envs::Value::Int(100));
    let test_path = collect(&c, &mut |_, _| {}).unwrap().path;
    let cfg =
        config(TaskConfig::named("inverse_dynamics").unwrap(), cartpole_states(), mlp(), 300, 3e-3);
    let (acc, _) = held_out_accuracy(&cfg, &test_path, "idm-states");
    assert!(acc > 0.85, "held-out accuracy {acc}");
}

/// One way of collecting CartPole frames and pretraining inverse dynamics on them.
#[derive(Debug, Clone, Copy)]
struct FramesRecipe {
    policy: &'static str,
    /// Physics steps per stored transition.
    repeat: usize,
    /// Frames stacked in each observation.
    stack: usize,
    /// The Nature CNN's `input_shift`.
    shift: f64,
    semi_implicit: bool,
    /// Frame width and height.
    size: (u32, u32),
}

/// The recipe the test below uses.
const FRAMES: FramesRecipe = FramesRecipe {
    policy: "random",
    repeat: 4,
    stack: 2,
    shift: -1.0,
    semi_implicit: false,
    size: (60, 40),
};

/// CartPole episodes as RGB frames collected as `r` says.
fn cartpole_recipe_frames(r: &FramesRecipe, name: &str, episodes: usize, seed: u64) -> PathBuf {
    let mut c = CollectConfig::new("CartPole-v1", tmp_dir(name).join("frames.arrow"));
    (c.policy, c.episodes, c.seed, c.workers) = (r.policy.parse().unwrap(), episodes, seed, 1);
    (c.pixels, c.action_repeat) = (Some(r.size), r.repeat);
    if r.policy == "heuristic" {
        // Expert episodes last 500 physics steps: a few give as many transitions.
        c.episodes = episodes / 40;
    }
    if r.semi_implicit {
        c.kwargs.insert(
            "kinematics_integrator".into(),
            graft::envs::Value::Str("semi-implicit".into()),
        );
    }
    collect(&c, &mut |_, _| {}).unwrap().path
}

/// Held-out accuracy of inverse dynamics pretrained as `r` says: 600 Adam steps (lr 1e-3,
/// batch 32) of a Nature CNN with 64 features on grayscale frames; 400 training episodes
/// (seeds `1000·seed + 1 ..`) and 150 held-out ones (seeds from `1000·seed + 500`).
fn frames_accuracy(r: &FramesRecipe, seed: u64) -> (f64, usize) {
    let train = cartpole_recipe_frames(r, "idm-frames-train", 400, 1000 * seed + 1);
    let test = cartpole_recipe_frames(r, "idm-frames-test", 150, 1000 * seed + 500);
    let model = ModelConfig::NatureCnn(NatureCnnConfig {
        hidden: 64,
        input_shift: r.shift,
        ..NatureCnnConfig::default()
    });
    let mut cfg = config(TaskConfig::named("inverse_dynamics").unwrap(), &train, model, 600, 1e-3);
    (cfg.data.grayscale, cfg.data.frame_stack, cfg.trainer.seed) = (true, r.stack, seed);
    held_out_accuracy(&cfg, &test, "idm-frames")
}

/// Inverse dynamics on CartPole FRAMES of a random policy (its actions say nothing about the
/// state, so this is inverse dynamics, not imitation). Three things make the action visible
/// to a small CNN (see `src/pretrain/state/inverse_dynamics.rs`): an action repeat of 4
/// (under CartPole's default Euler step a frame does not depend on the action that led to it
/// at all; after 4 physics steps the pole tip has moved about 1 px), 2 stacked grayscale
/// frames (the velocity before the action), and inputs shifted so that the white background
/// is 0 (`input_shift` −1; from raw `[0, 1]` frames the same network learns far less in
/// this budget). Measured over seeds 0..5 (`frames_recipe_sweep`, 26 Nov 2026):
/// 0.881, 0.873, 0.901, 0.869, 0.836 (this test is seed 0); without the repeat 0.48 to 0.51,
/// with one frame 0.69 to 0.71, from raw frames 0.65 to 0.68. The threshold leaves a margin
/// under the lowest recipe run and stays above every variant that lacks a part of it.
#[test]
fn inverse_dynamics_predicts_held_out_actions_from_cartpole_frames() {
    let _g = exclusive();
    let (acc, n) = frames_accuracy(&FRAMES, 0);
    assert!(n > 400, "only {n} held-out transitions");
    assert!(acc > 0.78, "held-out accuracy {acc} from frames");
}

/// The figures behind the test above and the docs of `inverse_dynamics.rs`: held-out accuracy
/// of each recipe variant over 5 seeds (about 5 minutes on one core, debug test profile).
/// Run with `cargo test --test pretrain frames_recipe_sweep -- --ignored --nocapture`.
#[test]
#[ignore]
fn frames_recipe_sweep() {
    let _g = exclusive();
    let variants = [
        ("recipe", FRAMES),
        ("no action repeat", FramesRecipe { repeat: 1, ..FRAMES }),
        ("action repeat 2", FramesRecipe { repeat: 2, ..FRAMES }),
        ("one frame", FramesRecipe { stack: 1, ..FRAMES }),
        ("raw [0,1] input", FramesRecipe { shift: 0.0, ..FRAMES }),
        ("semi-implicit", FramesRecipe { semi_implicit: true, ..FRAMES }),
        ("84x84 frames", FramesRecipe { size: (84, 84), ..FRAMES }),
        ("heuristic expert", FramesRecipe { policy: "heuristic", ..FRAMES }),
        ("expert, raw input", FramesRecipe { policy: "heuristic", shift: 0.0, ..FRAMES }),
        ("expert, no repeat", FramesRecipe { policy: "heuristic", repeat: 1, ..FRAMES }),
    ];
    for (name, r) in variants {
        let accs: Vec<f64> = (0..5).map(|seed| frames_accuracy(&r, seed).0).collect();
        let mean = accs.iter().sum::<f64>() / accs.len() as f64;
        let min = accs.iter().cloned().fold(f64::INFINITY, f64::min);
        println!("SWEEP {name:<18} mean {mean:.3} min {min:.3} {accs:.3?}");
    }
}

fn graft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().unwrap()
}

#[test]
fn cli_pretrains_writes_a_run_directory_and_probes_the_encoder() {
    let _g = exclusive();
    let out = tmp_dir("cli");
    let data = cartpole_states().to_str().unwrap().to_string();
    let o = out.to_str().unwrap();
    let r = graft(&[
        "pretrain",
        "--task",
        "inverse_dynamics",
        "--data",
        &data,
        "--model",
        "mlp",
        "--steps",
        "20",
        "--batch",
        "16",
        "--lr",
        "3e-3",
        "--checkpoint-every",
        "10",
        "--out",
        o,
        "--quiet",
        "--device",
        "cpu",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("encoder.safetensors"), "{stdout}");
    for f in ["config.json", "metrics.csv", "checkpoints/last.safetensors", "encoder.safetensors"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let events = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref().unwrap().file_name().to_string_lossy().starts_with("events.out.tfevents")
        })
        .count();
    assert_eq!(events, 1);
    let enc = out.join("encoder.safetensors");
    let r = graft(&[
        "probe",
        "--encoder",
        enc.to_str().unwrap(),
        "--data",
        &data,
        "--baseline",
        "--json",
        "--device",
        "cpu",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    for side in ["pretrained", "random_init"] {
        let acc = v[side]["action_accuracy"].as_f64().unwrap();
        let r2 = v[side]["state_r2"].as_f64();
        assert!((0.0..=1.0).contains(&acc), "{v}");
        assert!(r2.is_none(), "state vectors have no separate state column: {v}");
    }
    // Bad input: one paragraph naming the problem, exit status 1.
    let r = graft(&["pretrain", "--task", "rotnet", "--data", &data, "--out", o]);
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("unknown pretext task 'rotnet'") && err.contains("rotation"), "{err}");
    let r = graft(&["probe", "--encoder", &data, "--data", &data]);
    assert_eq!(r.status.code(), Some(1));
}

/// Image tasks read #6's image datasets directly: an ImageFolder of digits
/// (scripts/export-digits.py) through `graft pretrain` and `graft probe`.
#[test]
fn cli_pretrains_and_probes_on_an_image_folder() {
    let _g = exclusive();
    let dir = tmp_dir("digits-folder");
    let folder = dir.join("digits");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/export-digits.py");
    let st = Command::new(python()).arg(&script).arg(&folder).status().unwrap();
    assert!(st.success());
    let out = dir.join("run");
    let model = r#"{"kind": "minatar_cnn", "conv_channels": 8, "hidden": 16}"#;
    let (f, o) = (folder.to_str().unwrap(), out.to_str().unwrap());
    let r = graft(&[
        "pretrain", "--task", "rotation", "--data", f, "--model", model, "--steps", "10",
        "--batch", "64", "--out", o, "--quiet", "--device", "cpu",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let saved =
        PretrainConfig::from_json(&std::fs::read_to_string(out.join("config.json")).unwrap())
            .unwrap();
    match saved.model {
        ModelConfig::MinatarCnn(c) => assert_eq!((c.height, c.width), (8, 8)),
        m => panic!("model {m:?}"),
    }
    let enc = out.join("encoder.safetensors");
    let r = graft(&[
        "probe",
        "--encoder",
        enc.to_str().unwrap(),
        "--data",
        f,
        "--json",
        "--device",
        "cpu",
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let acc = v["pretrained"]["linear_accuracy"].as_f64().unwrap();
    assert!(acc > 0.3, "a linear probe on 10 classes of digits: {v}");
    assert_eq!(
        v["pretrained"]["n_train"].as_u64().unwrap() + v["pretrained"]["n_test"].as_u64().unwrap(),
        1797
    );
}

/// An encoder pretrained on stacked, grayscale dataset frames must see exactly what an RL
/// agent with the same `PixelObservation` sees: replay every stored episode through
/// `PixelObservation::wrap` (same reset seed, same actions) and compare byte for byte,
/// observation and next observation, including the reset padding at each episode's start.
#[test]
fn stacked_dataset_frames_equal_the_agents_pixel_observations() {
    use graft::envs::wrappers::PixelObservation;
    use graft::envs::{Action, Kwargs};
    use graft::pretrain::sources::{FrameOptions, Trajectories};

    let dir = tmp_dir("frames-match");
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("noisy.arrow"));
    (cfg.policy, cfg.episodes, cfg.seed, cfg.workers) = (PolicySpec::Heuristic, 3, 11, 1);
    (cfg.pixels, cfg.epsilon) = (Some((24, 16)), 0.5);
    cfg.kwargs.insert("max_episode_steps".into(), graft::envs::Value::Int(30));
    collect(&cfg, &mut |_, _| {}).unwrap();
    let (k, h, w) = (3usize, 16i64, 24i64);
    let data = Trajectories::open(&cfg.output, Device::Cpu, 1.0)
        .unwrap()
        .with_frames(FrameOptions { grayscale: true, stack: k })
        .unwrap();
    assert_eq!(data.input_shape(), vec![k as i64, h, w]);
    let pixels = PixelObservation { size: [24, 16], grayscale: true, frame_stack: k };
    let mut checked = 0;
    for e in data.dataset().episodes().to_vec() {
        let mut env = pixels.wrap(graft::envs::make("CartPole-v1", &cfg.kwargs).unwrap()).unwrap();
        // Collection resets episode e (ids count from 0) with seed + e.
        let (mut obs, _) = env.reset(Some(11 + e.id as u64), &Kwargs::new()).unwrap();
        let idx: Vec<usize> = (e.first_transition..e.first_transition + e.len).collect();
        let b = data.batch(&idx).unwrap();
        // [B, H, W, k] -> [B, k, H, W], the agent's layout.
        let as_agent = |t: &Tensor| t.permute([0, 3, 1, 2]).contiguous();
        let (stored, stored_next) = (as_agent(&b.obs), as_agent(&b.next_obs));
        let actions = Vec::<i64>::try_from(&b.actions).unwrap();
        for (t, a) in actions.iter().enumerate() {
            let here = Vec::<u8>::try_from(&stored.get(t as i64).reshape([-1])).unwrap();
            assert_eq!(here, obs.u8, "episode {} step {t}: observation", e.id);
            let step = env.step(&Action::Discrete(*a)).unwrap();
            let next = Vec::<u8>::try_from(&stored_next.get(t as i64).reshape([-1])).unwrap();
            assert_eq!(next, step.obs.u8, "episode {} step {t}: next observation", e.id);
            obs = step.obs;
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} steps compared");
}
