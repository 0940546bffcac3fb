//! Pretraining evidence against chance and against random features: inverse dynamics predicts
//! held-out CartPole actions from states and from frames; RotNet on scikit-learn's digits
//! beats a random-init encoder under the same linear probe. The frames recipe's sweep over
//! seeds and variants is `frames_recipe_sweep` (ignored; minutes).

use std::path::{Path, PathBuf};

use graft::data::{collect, CollectConfig, PolicySpec};
use graft::models::cnn::{MinAtarCnnConfig, NatureCnnConfig};
use graft::models::{checkpoint, ModelConfig};
use graft::pretrain::config::TaskConfig;
use graft::pretrain::probe::{probe_images, ProbeConfig};
use graft::pretrain::{prepare, run, PretrainConfig};
use graft::train::NoHooks;
use tch::{nn, Device};

mod pretrain_common;
mod support;
use pretrain_common::*;

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
    let vs = prepare_and_fit(cfg, &tmp_dir(name), None);
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
/// Run with `cargo test --test pretrain_evidence frames_recipe_sweep -- --ignored --nocapture`.
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
