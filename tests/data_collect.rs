//! Collection with the heuristic experts, random and checkpoint policies (the same data for
//! any worker count), pixel collection, and the `graft collect` / `graft data` commands.

use std::path::Path;
use std::process::Command;

use graft::data::{collect, validate, CollectConfig, Dataset, ObsColumn, PolicySpec};

mod data_common;
use data_common::*;

fn collect_to(
    dir: &Path,
    env: &str,
    policy: PolicySpec,
    episodes: usize,
    workers: usize,
) -> (graft::data::CollectSummary, Dataset) {
    let mut cfg = CollectConfig::new(env, dir.join(format!("{env}.arrow")));
    cfg.policy = policy;
    cfg.episodes = episodes;
    cfg.workers = workers;
    cfg.seed = 7;
    let summary = collect(&cfg, &mut |_, _| {}).unwrap();
    let ds = Dataset::open(&summary.path).unwrap();
    (summary, ds)
}

#[test]
fn cartpole_expert_averages_at_least_475() {
    let dir = tmp_dir("cartpole");
    let (summary, ds) = collect_to(&dir, "CartPole-v1", PolicySpec::Heuristic, 20, 2);
    let mean = summary.returns.iter().sum::<f64>() / 20.0;
    assert!(mean >= 475.0, "mean return {mean}");
    assert_eq!(ds.num_episodes(), 20);
    assert_eq!(ds.meta().algorithm_name, "heuristic");
    let spec = ds.meta().env_spec.as_ref().unwrap();
    assert_eq!(spec["id"], "CartPole-v1");
    assert_eq!(spec["max_episode_steps"], 500);
    let returns: Vec<f64> = (0..20).map(|e| ds.episode(e).unwrap().total_return()).collect();
    assert_eq!(returns, summary.returns);
    assert!(validate::validate(&summary.path).is_valid());
}

#[test]
fn mountain_car_expert_reaches_the_goal() {
    let dir = tmp_dir("mountaincar");
    let (_, ds) = collect_to(&dir, "MountainCar-v0", PolicySpec::Heuristic, 10, 2);
    for e in 0..10 {
        let ep = ds.episode(e).unwrap();
        assert_eq!(ep.ended(), (true, false), "episode {e} did not reach the goal");
        assert!(ep.observation(ep.len()).unwrap().f32[0] >= 0.5);
    }
}

#[test]
fn pendulum_and_acrobot_experts_beat_random() {
    let dir = tmp_dir("swing");
    for (env, margin) in [("Pendulum-v1", 300.0), ("Acrobot-v1", 200.0)] {
        let (expert, _) = collect_to(&dir, env, PolicySpec::Heuristic, 10, 2);
        let (random, _) = collect_to(&dir, env, PolicySpec::Random, 10, 2);
        let mean = |r: &[f64]| r.iter().sum::<f64>() / r.len() as f64;
        let (e, r) = (mean(&expert.returns), mean(&random.returns));
        assert!(e > r + margin, "{env}: expert {e} vs random {r}");
    }
}

#[test]
fn collection_is_the_same_whatever_the_worker_count() {
    let a = tmp_dir("workers-1");
    let b = tmp_dir("workers-3");
    let (sa, da) = collect_to(&a, "CartPole-v1", PolicySpec::Random, 9, 1);
    let (sb, db) = collect_to(&b, "CartPole-v1", PolicySpec::Random, 9, 3);
    assert_eq!(sa.returns, sb.returns);
    assert_eq!(da.num_transitions(), db.num_transitions());
    for t in (0..da.num_transitions()).step_by(7) {
        assert_eq!(da.transition(t).unwrap(), db.transition(t).unwrap());
    }
}

/// Regression: MinAtar keeps its sticky `last_action` across resets (as minatar does), so
/// when each worker reused one env, an episode's first sticky step repeated the last action
/// of whichever episode that worker ran before — the dataset depended on scheduling. Every
/// episode now gets a fresh env: the files are byte-identical for 1, 2 and 3 workers.
#[test]
fn minatar_collection_is_the_same_whatever_the_worker_count() {
    let env = "MinAtar/Breakout-v1";
    let mut files = Vec::new();
    for workers in [1, 2, 3] {
        let dir = tmp_dir(&format!("minatar-workers-{workers}"));
        let mut cfg = CollectConfig::new(env, dir.join("breakout.arrow"));
        cfg.policy = PolicySpec::Random;
        cfg.episodes = 40;
        cfg.workers = workers;
        cfg.seed = 3;
        let summary = collect(&cfg, &mut |_, _| {}).unwrap();
        assert_eq!(summary.episodes, 40);
        files.push((workers, summary, std::fs::read(dir.join("breakout.arrow")).unwrap()));
    }
    let (_, first, bytes) = &files[0];
    for (workers, summary, other) in &files[1..] {
        assert_eq!(summary.returns, first.returns, "{workers} workers: other returns");
        assert_eq!(summary.steps, first.steps, "{workers} workers: other lengths");
        assert!(other == bytes, "{workers} workers: the dataset file differs from 1 worker's");
    }
}

#[test]
fn pixel_collection_stores_frames_and_state() {
    let dir = tmp_dir("pixel-collect");
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("px.arrow"));
    cfg.policy = PolicySpec::Heuristic;
    cfg.episodes = 2;
    cfg.pixels = Some((64, 64));
    cfg.seed = 1;
    let summary = collect(&cfg, &mut |_, _| {}).unwrap();
    let ds = Dataset::open(&summary.path).unwrap();
    assert_eq!(ds.layout().obs, ObsColumn::U8 { len: 64 * 64 * 3, shape: vec![64, 64, 3] });
    assert_eq!(ds.layout().state, Some(4));
    // The expert acted on the state, so pixels did not change its returns.
    assert!(summary.returns.iter().all(|&r| r >= 475.0), "{:?}", summary.returns);
    let t = ds.transition(0).unwrap();
    assert!(t.obs.u8.iter().any(|&p| p != 255), "the frame is blank");
    let spec = ds.meta().env_spec.as_ref().unwrap();
    assert_eq!(spec["additional_wrappers"][0]["name"], "AddRenderObservation");
}

#[test]
fn checkpoint_policy_with_a_missing_agent_file_is_a_clear_error() {
    // Collection with a trained agent is tested in tests/rl.rs; here: a bad path writes nothing.
    let dir = tmp_dir("ckpt");
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("c.arrow"));
    cfg.policy = "checkpoint:agent.safetensors".parse().unwrap();
    let err = collect(&cfg, &mut |_, _| {}).unwrap_err().to_string();
    assert!(err.contains("agent.safetensors"), "{err}");
    assert!(!dir.join("c.arrow").exists() && !dir.join("c.arrow.tmp").exists());
}

fn graft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().unwrap()
}

#[test]
fn collect_info_and_validate_commands() {
    let dir = tmp_dir("cli");
    let path = dir.join("cp.arrow");
    let p = path.to_str().unwrap();
    let out = graft(&[
        "--seed",
        "3",
        "collect",
        "--env",
        "CartPole-v1",
        "--policy",
        "heuristic",
        "--episodes",
        "3",
        "-o",
        p,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 episodes, 1500 steps"));

    let out = graft(&["data", "info", p]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "dataset_id: cartpole/heuristic-v0",
        "episodes: 3, transitions: 1500, rows: 1503",
        "episode return: mean 500.000",
        "observations: FixedSizeList",
    ] {
        assert!(text.contains(want), "missing '{want}' in:\n{text}");
    }

    let out = graft(&["data", "validate", p]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    let bytes = std::fs::read(&path).unwrap();
    let broken = dir.join("broken.arrow");
    std::fs::write(&broken, &bytes[..bytes.len() - 100]).unwrap();
    let out = graft(&["data", "validate", broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let all =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("truncated") && all.contains("broken.arrow"), "{all}");
    assert!(!all.contains("internal error"), "{all}");

    let out = graft(&[
        "collect",
        "--env",
        "CartPole-v1",
        "--policy",
        "checkpoint:x.safetensors",
        "-o",
        p,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.safetensors"));
    let out = graft(&["collect", "--env", "CartPole-v1", "--pixels", "64by64", "-o", p]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected WIDTHxHEIGHT"));
}

/// Issue #22: `graft collect` on a Control Suite task from pixels (the papers' 84x84 frames,
/// the task's action repeat of 4 taken by default) writes a dataset `graft pretrain` reads.
#[test]
fn dmc_pixel_collection_feeds_pretraining() {
    let dir = tmp_dir("dmc-collect");
    let path = dir.join("cheetah.arrow");
    let p = path.to_str().unwrap();
    let out = graft(&[
        "--seed",
        "0",
        "collect",
        "--env",
        "dmc/cheetah-run",
        "--pixels",
        "84x84",
        "--episodes",
        "1",
        "--kwarg",
        "fast_frames=true",
        "-o",
        p,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // 1000 control steps, 4 per stored transition.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 episodes, 250 steps"), "{text}");
    let ds = Dataset::open(&path).unwrap();
    assert_eq!(ds.layout().obs, ObsColumn::U8 { len: 84 * 84 * 3, shape: vec![84, 84, 3] });
    assert_eq!(ds.layout().state, Some(17), "cheetah's proprioceptive state");
    let t = ds.transition(10).unwrap();
    assert!(t.obs.u8.iter().any(|&p| p != t.obs.u8[0]), "the frame is flat");
    let pre = dir.join("pre");
    let out = graft(&[
        "pretrain",
        "--task",
        "inverse_dynamics",
        "--data",
        p,
        "--model",
        "nature_cnn",
        "--steps",
        "2",
        "--batch",
        "8",
        "--out",
        pre.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        pre.join("checkpoint.safetensors").exists() || pre.join("encoder.safetensors").exists()
    );
}
