//! RL agents: loss terms against hand-computed values, TD targets at episode ends, a short
//! PPO run that must beat a random policy, exact resume after a stop, resume after SIGKILL,
//! a frozen pretrained torso, loading an agent for evaluation and collection, bad input.
//! Pixel observations: tests/rl_pixels.rs; schedule hooks: tests/rl_hooks.rs.

use std::path::Path;
use std::process::Command;

use tch::{Device, Kind, Tensor};

use graft::data::{collect, CollectConfig, PolicySpec};
use graft::models::checkpoint::{save, Checkpoint, CheckpointMeta};
use graft::models::{mlp, MlpConfig};
use graft::rl::buffer::{NStep, ReplayBuffer};
use graft::rl::dqn::td_target;
use graft::rl::eval::evaluate;
use graft::rl::nets::ObsSpec;
use graft::rl::ppo::ppo_loss;
use graft::rl::{
    AgentConfig, DqnConfig, DqnOptimizer, PpoConfig, RunOptions, SacConfig, Td3Config,
    TrainedPolicy,
};

mod rl_common;
use rl_common::{run_script, tmp_dir, training};

fn t(xs: &[f64]) -> Tensor {
    Tensor::from_slice(xs).to_kind(Kind::Float)
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-4, "{what}: got {a}, expected {b}");
}

#[test]
fn ppo_loss_terms_equal_hand_computed_values() {
    // ratios 0.5/0.4 = 1.25 (clipped at 1.2) and 0.3/0.33 = 0.909 (inside the clip range).
    let new_lp = t(&[0.5f64.ln(), 0.3f64.ln()]);
    let old_lp = t(&[0.4f64.ln(), 0.33f64.ln()]);
    let adv = t(&[1.0, -2.0]);
    let (new_v, old_v, ret) = (t(&[1.0, 3.0]), t(&[0.5, 2.0]), t(&[2.0, 1.0]));
    let ent = t(&[0.6, 0.8]);
    let cfg = PpoConfig { norm_adv: false, ..PpoConfig::default() };
    let l = ppo_loss(&new_lp, &ent, &new_v, &old_lp, &adv, &ret, &old_v, &cfg);
    // max(-A r, -A clip(r)): max(-1.25, -1.2) = -1.2; max(1.81818, 1.81818); mean 0.309091.
    close(l.pg_loss, (-1.2 + 2.0 / 1.1) / 2.0, "policy loss");
    // Values clipped to old ± 0.2 = [0.7, 2.2]; max((1-2)², (0.7-2)²) = 1.69, max(4, 1.44) = 4.
    close(l.v_loss, 0.5 * (1.69 + 4.0) / 2.0, "value loss");
    close(l.entropy, 0.7, "entropy");
    close(l.clipfrac, 0.5, "clip fraction");
    let kl = ((0.25 - 1.25f64.ln()) + ((1.0 / 1.1 - 1.0) - (1.0f64 / 1.1).ln())) / 2.0;
    close(l.approx_kl, kl, "approx kl");
    close(l.total.double_value(&[]), l.pg_loss - 0.01 * 0.7 + 0.5 * l.v_loss, "total");
    // Unclipped value loss: 0.5 * mean(1, 4).
    let cfg2 = PpoConfig { norm_adv: false, clip_vloss: false, ..PpoConfig::default() };
    close(
        ppo_loss(&new_lp, &ent, &new_v, &old_lp, &adv, &ret, &old_v, &cfg2).v_loss,
        1.25,
        "unclipped value loss",
    );
    // Normalised advantages: (A - mean) / std(unbiased) = [0.7071, -0.7071].
    let l = ppo_loss(&new_lp, &ent, &new_v, &old_lp, &adv, &ret, &old_v, &PpoConfig::default());
    let a = 0.5f64.sqrt();
    let want = ((-a * 1.25f64).max(-a * 1.2) + (a / 1.1).max(a * 0.909_090_909)) / 2.0;
    close(l.pg_loss, want, "policy loss with normalised advantages");
}

#[test]
fn dqn_targets_bootstrap_truncated_but_not_terminated_episodes() {
    let q_next = Tensor::from_slice(&[1.0f32, 3.0, 2.0, 5.0]).view([2, 2]);
    let online = Tensor::from_slice(&[4.0f32, 0.0, 0.0, 1.0]).view([2, 2]);
    let (r, term, disc) = (t(&[1.0, 1.0]), t(&[0.0, 1.0]), t(&[0.9, 0.9]));
    let y: Vec<f32> = Vec::try_from(&td_target(&q_next, None, &r, &term, &disc)).unwrap();
    assert_eq!(y, vec![1.0 + 0.9 * 3.0, 1.0]);
    // Double DQN: the online net picks action 0 for row 0, so the target's value 1 is used.
    let y: Vec<f32> = Vec::try_from(&td_target(&q_next, Some(&online), &r, &term, &disc)).unwrap();
    assert_eq!(y, vec![1.0 + 0.9 * 1.0, 1.0]);

    // Through the buffer: the same step stored once truncated, once terminated.
    let mut rb = ReplayBuffer::new(4, ObsSpec::Vector(1), 1);
    let mut ns = NStep::new(1, 0.9);
    ns.push((&[0.0], &[]), &[1.0], 1.0, (&[5.0], &[]), false, true, &mut rb);
    ns.push((&[0.0], &[]), &[1.0], 1.0, (&[5.0], &[]), true, false, &mut rb);
    let b = rb.gather(&[0, 1], Device::Cpu);
    let q_next = Tensor::from_slice(&[10.0f32, 10.0]).view([2, 1]);
    let y: Vec<f32> =
        Vec::try_from(&td_target(&q_next, None, &b.rewards, &b.terminated, &b.discounts)).unwrap();
    assert_eq!(y, vec![1.0 + 0.9 * 10.0, 1.0], "truncated bootstraps, terminated does not");
}

#[test]
fn short_ppo_run_on_cartpole_clearly_beats_random() {
    let _turn = training();
    let cfg = PpoConfig { total_timesteps: 12_288, ..PpoConfig::cartpole() };
    let opts = RunOptions { eval_episodes: 10, ..Default::default() };
    let summary = graft::rl::ppo::train(&cfg, "CartPole-v1", 1, &opts).unwrap();
    let trained = summary.final_eval.unwrap().mean();
    let make = || Ok(graft::envs::make("CartPole-v1", &Default::default())?);
    let random = |x: &Tensor| Tensor::randint(2, [x.size()[0]], (Kind::Int64, Device::Cpu));
    let baseline = evaluate(&make, 20, 1_000_003, Device::Cpu, &random).unwrap().mean();
    assert!(baseline < 40.0, "random policy scored {baseline}");
    assert!(
        trained > 3.0 * baseline && trained > 100.0,
        "PPO reached {trained}, random {baseline}"
    );
}

/// Run `cfg` straight through, and again stopped at `stop` and resumed: same final file.
fn assert_exact_resume(name: &str, cfg: &AgentConfig, env: &str, stop: u64) {
    rl_common::assert_exact_resume(name, cfg, env, stop, &RunOptions::default());
}

#[test]
fn ppo_resumed_run_ends_with_the_same_parameters() {
    let cfg =
        PpoConfig { total_timesteps: 4 * 64, num_envs: 2, num_steps: 32, ..PpoConfig::default() };
    assert_exact_resume("ppo", &AgentConfig::Ppo(cfg), "CartPole-v1", 128);
}

#[test]
fn dqn_resumed_run_ends_with_the_same_parameters() {
    let cfg = DqnConfig {
        total_timesteps: 400,
        learning_starts: 50,
        train_frequency: 4,
        target_network_frequency: 40,
        batch_size: 16,
        n_step: 3,
        double_q: true,
        ..DqnConfig::default()
    };
    assert_exact_resume("dqn", &AgentConfig::Dqn(cfg), "CartPole-v1", 170);
}

#[test]
fn sac_resumed_run_ends_with_the_same_parameters() {
    let cfg = SacConfig {
        total_timesteps: 100,
        learning_starts: 40,
        batch_size: 16,
        hidden: vec![32, 32],
        ..SacConfig::default()
    };
    assert_exact_resume("sac", &AgentConfig::Sac(cfg), "Pendulum-v1", 70);
}

#[test]
fn td3_resumed_run_ends_with_the_same_parameters() {
    let cfg = Td3Config {
        total_timesteps: 100,
        learning_starts: 40,
        batch_size: 16,
        hidden: vec![32, 32],
        ..Td3Config::default()
    };
    assert_exact_resume("td3", &AgentConfig::Td3(cfg), "Pendulum-v1", 70);
}

/// TD3 on a Control Suite task from its state, and the trained actor back as a policy (what
/// `graft rl eval` and `graft collect --policy checkpoint:` use): a short run that must act
/// inside the box; TD3 on a discrete env is refused by name.
#[test]
fn td3_trains_on_dmc_and_its_actor_acts() {
    let _turn = training();
    let dir = tmp_dir("td3-dmc");
    let cfg = Td3Config {
        total_timesteps: 300,
        learning_starts: 100,
        batch_size: 32,
        hidden: vec![32, 32],
        ..Td3Config::default()
    };
    let opts = RunOptions { out: Some(dir.clone()), eval_episodes: 1, ..Default::default() };
    let summary = AgentConfig::Td3(cfg.clone()).train("dmc/cartpole-swingup", 0, &opts).unwrap();
    assert_eq!(summary.env_steps, 300);
    let env = graft::envs::make("dmc/cartpole-swingup", &Default::default()).unwrap();
    let policy = graft::rl::TrainedPolicy::load(&dir, env.as_ref(), Device::Cpu).unwrap();
    assert_eq!(policy.meta.algo, "td3");
    let graft::envs::Action::Continuous(a) = policy.act(&[0.0; 5], &[]).unwrap() else {
        panic!("td3 acts continuously")
    };
    assert!(a.len() == 1 && (-1.0..=1.0).contains(&a[0]), "{a:?}");
    let e = graft::rl::td3::train(&cfg, "CartPole-v1", 0, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("td3 needs continuous actions"), "{e}");
}

#[test]
fn sigkilled_run_resumes_from_its_last_checkpoint_and_finishes() {
    let dir = tmp_dir("sigkill");
    let out = dir.to_str().unwrap();
    let args = [
        "rl",
        "train",
        "--algo",
        "dqn",
        "--env",
        "CartPole-v1",
        "--steps",
        "60000",
        "--out",
        out,
        "--checkpoint-every",
        "500",
        "--eval-every",
        "0",
        "--eval-episodes",
        "2",
        "--quiet",
        "--config",
        r#"{"learning_starts": 100, "train_frequency": 1, "batch_size": 32}"#,
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_graft")).args(args).spawn().unwrap();
    let ckpt = dir.join("checkpoint.safetensors");
    let t0 = std::time::Instant::now();
    while !ckpt.exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(ckpt.exists(), "no checkpoint written");
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let killed_at = graft::rl::state::RunCheckpoint::read(&ckpt).unwrap().meta.env_steps;
    assert!(killed_at > 0 && killed_at < 60_000, "killed at {killed_at}");
    // No temporary file left looking like a checkpoint.
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        !n.ends_with(".safetensors") || n == "checkpoint.safetensors"
    }));
    let mut resumed: Vec<&str> = args.to_vec();
    // Finish 600 steps after the checkpoint (the budget may change on resume).
    let budget = (killed_at + 600).to_string();
    resumed[7] = &budget;
    resumed.push("--resume");
    let status = Command::new(env!("CARGO_BIN_EXE_graft")).args(&resumed).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let meta = graft::rl::state::RunCheckpoint::read(&ckpt).unwrap().meta;
    assert_eq!(meta.env_steps, killed_at + 600);
    // The metric log was cut back to the checkpoint and continued: readable, steps in order.
    let rows = graft::report::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    let returns: Vec<u64> =
        rows.iter().filter(|r| r.tag == "charts/episodic_return").map(|r| r.step).collect();
    assert!(!returns.is_empty() && returns.windows(2).all(|w| w[0] <= w[1]), "{returns:?}");
    assert!(rows.iter().any(|r| r.tag == "eval/return_mean" && r.step == meta.env_steps));
    assert_eq!(
        graft::rl::state::RunCheckpoint::read(&ckpt).unwrap().actions().unwrap().len() as u64,
        meta.env_steps
    );
}

#[test]
fn frozen_pretrained_torso_keeps_its_weights_and_heads_learn() {
    let _turn = training();
    let dir = tmp_dir("frozen");
    // A "pretrained" encoder: an MLP saved on its own (keys layers.0.weight, ...).
    let enc_path = dir.join("encoder.safetensors");
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let cfg = MlpConfig { input_dim: 4, hidden: vec![64, 64], ..MlpConfig::default() };
    let _enc = mlp(&vs.root(), &cfg).unwrap();
    save(&enc_path, &vs, &CheckpointMeta::new(None, None)).unwrap();
    let mut ppo =
        PpoConfig { total_timesteps: 2 * 128, num_envs: 2, num_steps: 64, ..PpoConfig::default() };
    ppo.torso.init_encoder = Some(enc_path.clone());
    ppo.torso.freeze = true;
    let opts = RunOptions { out: Some(dir.join("run")), eval_episodes: 1, ..Default::default() };
    graft::rl::ppo::train(&ppo, "CartPole-v1", 0, &opts).unwrap();
    let run = Checkpoint::read(dir.join("run/checkpoint.safetensors")).unwrap();
    let enc = Checkpoint::read(&enc_path).unwrap();
    for (k, v) in &enc.tensors {
        for part in ["actor", "critic"] {
            let key = format!("policy/{part}.torso.{k}");
            let got = run.tensors.get(&key).unwrap_or_else(|| panic!("missing {key}"));
            assert!(got.equal(v), "{key} changed although frozen");
        }
    }
    // A checkpoint that does not fit the torso is refused with the keys named.
    let mut bad = ppo.clone();
    bad.torso.checkpoint_prefix = "encoder".into();
    let err = graft::rl::ppo::train(&bad, "CartPole-v1", 0, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("encoder.safetensors") && err.contains("missing"), "{err}");
}

#[test]
fn trained_agent_evaluates_and_collects_with_its_greedy_policy() {
    let _turn = training();
    let dir = tmp_dir("collect");
    let cfg = PpoConfig { total_timesteps: 4096, ..PpoConfig::default() };
    let opts = RunOptions { out: Some(dir.join("run")), eval_episodes: 1, ..Default::default() };
    graft::rl::ppo::train(&cfg, "CartPole-v1", 5, &opts).unwrap();
    let ckpt = dir.join("run/checkpoint.safetensors");
    let env = graft::envs::make("CartPole-v1", &Default::default()).unwrap();
    let policy = TrainedPolicy::load(&ckpt, env.as_ref(), Device::Cpu).unwrap();
    assert_eq!(policy.meta.algo, "ppo");
    let mut cc = CollectConfig::new("CartPole-v1", dir.join("data.arrow"));
    cc.policy = format!("checkpoint:{}", ckpt.display()).parse::<PolicySpec>().unwrap();
    cc.episodes = 4;
    cc.seed = 11;
    cc.workers = 2;
    let summary = collect(&cc, &mut |_, _| {}).unwrap();
    // Collection resets episode e with seed + e, as evaluate does: the same greedy returns.
    let make = || Ok(graft::envs::make("CartPole-v1", &Default::default())?);
    let stats = evaluate(&make, 4, 11, Device::Cpu, &|x| policy.act_tensor(x)).unwrap();
    assert_eq!(summary.returns, stats.returns);
    // A model checkpoint without a policy is refused by name.
    let err =
        TrainedPolicy::load(&dir.join("nope.safetensors"), env.as_ref(), Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("nope.safetensors"), "{err}");
}

#[test]
fn bad_configs_are_clear_errors() {
    // The bad-alpha case seeds libtorch and builds networks before its optimizer refuses.
    let _turn = training();
    let e = AgentConfig::parse("ppo", Some(r#"{"learning_rat": 1e-3}"#), "CartPole-v1")
        .unwrap_err()
        .to_string();
    assert!(e.contains("learning_rat"), "{e}");
    let e = AgentConfig::parse("a2c", None, "CartPole-v1").unwrap_err().to_string();
    assert!(e.contains("a2c"), "{e}");
    let e =
        AgentConfig::parse("dqn", Some("no-such-preset"), "CartPole-v1").unwrap_err().to_string();
    assert!(e.contains("no-such-preset") && e.contains("sb3_zoo_cartpole"), "{e}");
    let dqn = DqnConfig { total_timesteps: 10, ..DqnConfig::default() };
    let e = graft::rl::dqn::train(&dqn, "Pendulum-v1", 0, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("discrete"), "{e}");
    let sac = SacConfig { total_timesteps: 10, ..SacConfig::default() };
    let e = graft::rl::sac::train(&sac, "CartPole-v1", 0, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("continuous"), "{e}");
    let ppo = PpoConfig { total_timesteps: 10, ..PpoConfig::default() };
    let e = graft::rl::ppo::train(&ppo, "CartPole-v1", 0, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("total_timesteps"), "{e}");
    assert_eq!(
        AgentConfig::parse("sac", None, "Pendulum-v1").unwrap(),
        AgentConfig::Sac(SacConfig::pendulum())
    );
    assert_eq!(
        AgentConfig::parse("ppo", None, "Pendulum-v1").unwrap(),
        AgentConfig::Ppo(PpoConfig::continuous())
    );
    // MinAtar's DQN: the preset, and its optimizer spelled in JSON.
    let minatar = DqnConfig::minatar();
    assert_eq!(
        AgentConfig::parse("dqn", Some("minatar"), "MinAtar/Breakout-v1").unwrap(),
        AgentConfig::Dqn(minatar.clone())
    );
    let json =
        r#"{"optimizer": {"kind": "rmsprop", "alpha": 0.95, "eps": 0.01, "centered": true}}"#;
    let AgentConfig::Dqn(parsed) = AgentConfig::parse("dqn", Some(json), "CartPole-v1").unwrap()
    else {
        panic!("not a DQN config")
    };
    assert_eq!(parsed.optimizer, minatar.optimizer);
    let e = AgentConfig::parse("dqn", Some(r#"{"optimizer": {"kind": "rmsprob"}}"#), "CartPole-v1")
        .unwrap_err()
        .to_string();
    assert!(e.contains("rmsprob"), "{e}");
    let bad_alpha = DqnConfig {
        total_timesteps: 10,
        optimizer: DqnOptimizer::Rmsprop { alpha: 1.5, eps: 0.01, centered: true },
        ..DqnConfig::default()
    };
    let e = graft::rl::dqn::train(&bad_alpha, "CartPole-v1", 0, &RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("alpha"), "{e}");
}

/// `rl::train` sees what the CLI sees: a preset from the one table with fields changed over
/// it, and its result is the run's summary serialised (`ended`, `stopped_early`, the final
/// evaluation as mean and std, the checkpoint's path).
#[test]
fn scripts_train_from_the_clis_presets_and_get_the_summary() {
    let _turn = training();
    let dir = tmp_dir("rhai-preset");
    let o = run_script(
        &dir,
        r#"let r = rl::train(#{algo: "dqn", env: "CartPole-v1", preset: "sb3_zoo_cartpole",
    eval_episodes: 2, config: #{total_timesteps: 300, learning_starts: 100, hidden: [16]}});
report::json("r.json", r);
"#,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = dir.join("run");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("r.json")).unwrap()).unwrap();
    assert_eq!((r["env_steps"].as_u64(), r["ended"].as_str()), (Some(300), Some("budget")));
    assert_eq!(r["stopped_early"], false);
    assert!(r["final_return"].as_f64().is_some() && r["final_std"].as_f64().is_some(), "{r}");
    assert_eq!(r["evals"][0][0], 300);
    let ckpt = Path::new(r["checkpoint"].as_str().unwrap());
    let config = graft::rl::state::RunCheckpoint::read(ckpt).unwrap().meta.config;
    let want = DqnConfig {
        total_timesteps: 300,
        learning_starts: 100,
        hidden: vec![16],
        ..DqnConfig::sb3_zoo_cartpole()
    };
    assert_eq!(config, serde_json::to_value(&want).unwrap());
}

// ---- Pixel observations ----
