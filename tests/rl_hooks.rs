//! Schedule hooks in PPO and DQN at their documented env steps, from Rust and Rhai: when each
//! hook runs, and a hook unfreezing a group of a frozen pretrained torso or stopping the run.
//! Pixel observations are in tests/rl_pixels.rs.

use std::path::{Path, PathBuf};

use tch::Device;

use graft::models::checkpoint::{save, Checkpoint, CheckpointMeta};
use graft::models::{mlp, MlpConfig};
use graft::rl::state::RunCheckpoint;
use graft::rl::{DqnConfig, PpoConfig, RunOptions};
use graft::train::{HookContext, TrainHooks};

mod rl_common;
use rl_common::{run_script, tmp_dir, training};

// ---- Schedule hooks ----

/// Records every hook call; unfreezes a group and/or stops at given points.
#[derive(Default)]
struct Recording {
    every: u64,
    /// `(step, epoch, total_steps)` at each `on_epoch_start`.
    epoch_starts: Vec<(u64, u64, u64)>,
    /// `step` at each `on_step`.
    steps: Vec<u64>,
    /// `step` at each `on_eval`, and whether its metrics held a finite mean return.
    evals: Vec<(u64, bool)>,
    /// The optimizer's groups, as the first hook saw them.
    groups: Vec<String>,
    /// Frozen flag of `watch` after each `on_step`.
    frozen: Vec<bool>,
    watch: String,
    unfreeze_at: Option<u64>,
    stop_at_step: Option<u64>,
    stop_at_eval: Option<u64>,
}

impl TrainHooks for Recording {
    fn step_every(&self) -> u64 {
        self.every
    }

    fn on_epoch_start(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
        if self.groups.is_empty() {
            self.groups = ctx.optimizer.group_names();
        }
        self.epoch_starts.push((ctx.step, ctx.epoch, ctx.total_steps));
        Ok(())
    }

    fn on_step(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
        self.steps.push(ctx.step);
        if self.unfreeze_at == Some(ctx.step) {
            ctx.optimizer.unfreeze(&self.watch, true)?;
        }
        self.frozen.push(ctx.optimizer.is_frozen(&self.watch)?);
        ctx.stop |= self.stop_at_step == Some(ctx.step);
        Ok(())
    }

    fn on_eval(
        &mut self,
        ctx: &mut HookContext,
        metrics: &std::collections::BTreeMap<String, f64>,
    ) -> graft::Result<()> {
        let mean = metrics.get("eval/return_mean").copied();
        self.evals.push((ctx.step, mean.is_some_and(f64::is_finite)));
        ctx.stop |= self.stop_at_eval == Some(ctx.step);
        Ok(())
    }
}

/// A "pretrained" 4 -> 16 -> 16 MLP encoder saved on its own (keys `layers.{0,1}.*`).
fn tiny_encoder(dir: &Path) -> PathBuf {
    let path = dir.join("encoder.safetensors");
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let cfg = MlpConfig { input_dim: 4, hidden: vec![16, 16], ..MlpConfig::default() };
    let _enc = mlp(&vs.root(), &cfg).unwrap();
    save(&path, &vs, &CheckpointMeta::new(None, None)).unwrap();
    path
}

/// Which encoder tensors the run's torso `<part>/<torso>.<key>` still holds bit-identically.
fn unchanged_torso_keys(run: &Path, encoder: &Path, torso: &str) -> Vec<String> {
    let run = Checkpoint::read(run.join("checkpoint.safetensors")).unwrap();
    let enc = Checkpoint::read(encoder).unwrap();
    let mut same = Vec::new();
    for (k, v) in &enc.tensors {
        let key = format!("{torso}.{k}");
        let got = run.tensors.get(&key).unwrap_or_else(|| panic!("missing {key}"));
        if got.equal(v) {
            same.push(k.clone());
        }
    }
    same
}

const LAYER0: [&str; 2] = ["layers.0.bias", "layers.0.weight"];
const LAYER1: [&str; 2] = ["layers.1.bias", "layers.1.weight"];
const ALL_LAYERS: [&str; 4] =
    ["layers.0.bias", "layers.0.weight", "layers.1.bias", "layers.1.weight"];

/// PPO, 5 updates of 2 envs x 32 steps (64 env steps each) from a frozen pretrained torso:
/// `on_epoch_start` before every update at 0, 64, …, 256; `on_step` (every 96 env steps) after
/// the updates that cross 96, 192 and 288, i.e. at 128, 192 and 320; `on_eval` at the
/// evaluations (every 128 env steps, and the last). Unfreezing the actor's first torso group
/// at 128 lets it (and nothing else of the torso) move; a stop at 192 ends the run there,
/// evaluated and checkpointed, with the torso untouched.
#[test]
fn ppo_hooks_run_at_the_documented_steps_and_drive_a_frozen_torso() {
    let _turn = training();
    let dir = tmp_dir("ppo-hooks");
    let encoder = tiny_encoder(&dir);
    let mut cfg = PpoConfig {
        total_timesteps: 320,
        num_envs: 2,
        num_steps: 32,
        hidden: vec![16, 16],
        ..PpoConfig::default()
    };
    cfg.torso.init_encoder = Some(encoder.clone());
    cfg.torso.freeze = true;
    let opts = |name: &str| RunOptions {
        out: Some(dir.join(name)),
        eval_every: 128,
        eval_episodes: 1,
        ..Default::default()
    };
    let watch = "actor.torso.layers.0".to_string();

    let mut hooks =
        Recording { every: 96, watch: watch.clone(), unfreeze_at: Some(128), ..Default::default() };
    let summary =
        graft::rl::ppo::train_with_hooks(&cfg, "CartPole-v1", 2, &opts("full"), &mut hooks)
            .unwrap();
    assert_eq!(summary.env_steps, 320);
    let starts: Vec<(u64, u64, u64)> = (0..5).map(|i| (64 * i, i, 320)).collect();
    assert_eq!(hooks.epoch_starts, starts);
    assert_eq!(hooks.steps, vec![128, 192, 320]);
    assert_eq!(hooks.frozen, vec![false, false, false]);
    assert_eq!(hooks.evals, vec![(128, true), (256, true), (320, true)]);
    for g in [
        "actor.torso.layers.0",
        "actor.torso.layers.1",
        "critic.torso.layers.0",
        "critic.torso.layers.1",
    ] {
        assert!(hooks.groups.iter().any(|n| n == g), "no group {g} in {:?}", hooks.groups);
    }
    // Only the unfrozen group moved.
    assert_eq!(unchanged_torso_keys(&dir.join("full"), &encoder, "policy/actor.torso"), LAYER1);
    assert_eq!(
        unchanged_torso_keys(&dir.join("full"), &encoder, "policy/critic.torso"),
        ALL_LAYERS
    );

    // Same run without the unfreeze, stopped by on_step at 192 (between evaluations).
    let mut hooks = Recording { every: 96, watch, stop_at_step: Some(192), ..Default::default() };
    let summary =
        graft::rl::ppo::train_with_hooks(&cfg, "CartPole-v1", 2, &opts("stopped"), &mut hooks)
            .unwrap();
    assert_eq!(summary.env_steps, 192);
    assert_eq!(summary.ended, graft::rl::Ended::Hook);
    assert_eq!(hooks.steps, vec![128, 192]);
    assert_eq!(hooks.frozen, vec![true, true]);
    assert_eq!(hooks.evals, vec![(128, true), (192, true)], "the stop is evaluated");
    assert_eq!(summary.evals.iter().map(|e| e.0).collect::<Vec<_>>(), vec![128, 192]);
    assert!(summary.final_eval.is_some());
    let meta = RunCheckpoint::read(&dir.join("stopped")).unwrap().meta;
    assert_eq!(meta.env_steps, 192);
    for part in ["actor", "critic"] {
        let torso = format!("policy/{part}.torso");
        assert_eq!(unchanged_torso_keys(&dir.join("stopped"), &encoder, &torso), ALL_LAYERS);
    }
}

/// DQN has one update round: `on_epoch_start` once, at step 0; `on_step` every 100 env steps;
/// `on_eval` at the evaluations every 150. The torso group unfrozen at 100 moves, the other
/// stays; a stop from `on_eval` at 150 ends the run there with the torso untouched.
#[test]
fn dqn_hooks_run_at_the_documented_steps_and_drive_a_frozen_torso() {
    let _turn = training();
    let dir = tmp_dir("dqn-hooks");
    let encoder = tiny_encoder(&dir);
    let mut cfg = DqnConfig {
        total_timesteps: 300,
        learning_starts: 50,
        train_frequency: 4,
        target_network_frequency: 40,
        batch_size: 16,
        hidden: vec![16, 16],
        ..DqnConfig::default()
    };
    cfg.torso.init_encoder = Some(encoder.clone());
    cfg.torso.freeze = true;
    let opts = |name: &str| RunOptions {
        out: Some(dir.join(name)),
        eval_every: 150,
        eval_episodes: 1,
        ..Default::default()
    };
    let watch = "torso.layers.0".to_string();

    let mut hooks = Recording {
        every: 100,
        watch: watch.clone(),
        unfreeze_at: Some(100),
        ..Default::default()
    };
    let summary =
        graft::rl::dqn::train_with_hooks(&cfg, "CartPole-v1", 2, &opts("full"), &mut hooks)
            .unwrap();
    assert_eq!(summary.env_steps, 300);
    assert_eq!(hooks.epoch_starts, vec![(0, 0, 300)]);
    assert!(hooks.groups.contains(&watch), "groups {:?}", hooks.groups);
    assert_eq!(hooks.steps, vec![100, 200, 300]);
    assert_eq!(hooks.frozen, vec![false, false, false]);
    assert_eq!(hooks.evals, vec![(150, true), (300, true)]);
    assert_eq!(unchanged_torso_keys(&dir.join("full"), &encoder, "q/torso"), LAYER1);

    let mut hooks = Recording { every: 100, watch, stop_at_eval: Some(150), ..Default::default() };
    let summary =
        graft::rl::dqn::train_with_hooks(&cfg, "CartPole-v1", 2, &opts("stopped"), &mut hooks)
            .unwrap();
    assert_eq!(summary.env_steps, 150);
    assert_eq!(summary.ended, graft::rl::Ended::Hook);
    assert_eq!(hooks.steps, vec![100]);
    assert_eq!(hooks.frozen, vec![true]);
    assert_eq!(hooks.evals, vec![(150, true)]);
    assert!(summary.final_eval.is_some());
    assert_eq!(RunCheckpoint::read(&dir.join("stopped")).unwrap().meta.env_steps, 150);
    assert_eq!(unchanged_torso_keys(&dir.join("stopped"), &encoder, "q/torso"), ALL_LAYERS);
}

// ---- Rhai ----

/// `rl::train` with Rhai hooks: `ctx.step` counts env steps (PPO: checked after each update
/// of 2 envs x 32 steps, so every 64), and unfreezing a torso group of a frozen pretrained
/// torso at 128 lets exactly that group learn.
#[test]
fn rhai_rl_train_hooks_unfreeze_a_group_and_see_env_steps() {
    let _turn = training();
    let dir = tmp_dir("rhai-hooks");
    let o = run_script(
        &dir,
        r#"let enc = model::build(#{kind: "mlp", input_dim: 4, hidden: [16, 16]});
let path = model::save(enc, "encoder.safetensors");
let seen = [];
let frozen = [];
let r = rl::train(#{algo: "ppo", env: "CartPole-v1", eval_episodes: 1,
    config: #{total_timesteps: 256, num_envs: 2, num_steps: 32, hidden: [16, 16],
              torso: #{init_encoder: path, freeze: true}},
    hooks: #{
        step_every: 64,
        on_step: |ctx| {
            seen.push(ctx.step);
            if ctx.step == 128 { ctx.unfreeze("actor.torso.layers.1"); }
            frozen.push([ctx.is_frozen("actor.torso.layers.0"), ctx.is_frozen("actor.torso.layers.1")]);
        },
    }});
report::json("result.json", #{seen: seen, frozen: frozen, steps: r.env_steps,
    checkpoint: r.checkpoint, encoder: path});
"#,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/result.json")).unwrap())
            .unwrap();
    assert_eq!(r["seen"], serde_json::json!([64, 128, 192, 256]));
    let (t, f) = (true, false);
    assert_eq!(r["frozen"], serde_json::json!([[t, t], [t, f], [t, f], [t, f]]));
    assert_eq!(r["steps"], 256);
    let ckpt = PathBuf::from(r["checkpoint"].as_str().unwrap());
    let encoder = PathBuf::from(r["encoder"].as_str().unwrap());
    let run = ckpt.parent().unwrap();
    assert_eq!(unchanged_torso_keys(run, &encoder, "policy/actor.torso"), LAYER0);
    assert_eq!(unchanged_torso_keys(run, &encoder, "policy/critic.torso"), ALL_LAYERS);
}

#[test]
fn rhai_rl_train_refuses_hooks_for_sac() {
    let dir = tmp_dir("rhai-sac-hooks");
    let o = run_script(
        &dir,
        "let x = 1;\nrl::train(#{algo: \"sac\", env: \"Pendulum-v1\", config: #{total_timesteps: 10},\n    hooks: #{on_step: |ctx| ()}});\n",
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("internal error") && !stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("s.rhai:2:"), "not located at the call: {stderr}");
    assert!(stderr.contains("hooks are supported for ppo and dqn, not sac"), "{stderr}");
    assert!(!dir.join("run/rl-sac/checkpoint.safetensors").exists());
}

// ---- Known bugs (reported to the lead; each test fails until its fix lands) ----

/// DQN's torso groups are `torso.<group>` (the Q-network is built at its VarStore's root),
/// as src/script/api/rl.rs documents for schedule hooks.
#[test]
fn dqn_torso_groups_have_the_documented_names() {
    let _turn = training();
    let cfg = DqnConfig { total_timesteps: 1, learning_starts: 10, ..DqnConfig::default() };
    let mut hooks = Recording::default();
    graft::rl::dqn::train_with_hooks(&cfg, "CartPole-v1", 0, &RunOptions::default(), &mut hooks)
        .unwrap();
    assert!(hooks.groups.iter().any(|g| g == "torso.layers.0"), "{:?}", hooks.groups);
}
