//! How an agent meets its env beyond the id: an action repeat (frame skip) and the env's
//! keyword arguments each reach the env the agent trains on, are recorded in the checkpoint,
//! rebuilt by `graft rl eval` and checked on resume (the repeat also by collection with a
//! trained agent); a zero repeat is refused.

use std::process::Command;

use graft::data::{collect, CollectConfig, Dataset, PolicySpec};
use graft::rl::state::RunCheckpoint;
use graft::rl::{DqnConfig, RunOptions};

mod rl_common;
use rl_common::{run_script, tmp_dir, training};

/// A short DQN run on CartPole (500 decisions), checkpoint written at the end.
fn tiny_dqn() -> DqnConfig {
    DqnConfig {
        total_timesteps: 500,
        learning_starts: 100,
        train_frequency: 4,
        batch_size: 32,
        hidden: vec![16],
        ..DqnConfig::default()
    }
}

fn graft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().unwrap()
}

#[test]
fn action_repeat_is_trained_with_recorded_evaluated_and_checked() {
    let _g = training();
    let dir = tmp_dir("repeat");
    let opts = RunOptions { out: Some(dir.clone()), action_repeat: 4, ..RunOptions::default() };
    let summary = graft::rl::dqn::train(&tiny_dqn(), "CartPole-v1", 3, &opts).unwrap();
    // Each decision earns the rewards of up to 4 physics steps (1 each): an episode's return
    // is about 4x its length in decisions, where without the repeat they are equal.
    let eval = summary.final_eval.as_ref().unwrap();
    assert!(eval.mean() > 3.0 * eval.mean_length(), "{} vs {}", eval.mean(), eval.mean_length());
    let ckpt = dir.join("checkpoint.safetensors");
    assert_eq!(RunCheckpoint::read(&ckpt).unwrap().meta.action_repeat, 4);

    // `rl eval` rebuilds the repeat from the checkpoint: the same ratio.
    let out = graft(&["rl", "eval", dir.to_str().unwrap(), "--episodes", "3"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let number_after = |key: &str| -> f64 {
        let rest = &text[text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len()..];
        rest.trim_start().split([' ', ',']).next().unwrap().parse().unwrap()
    };
    let (ret, len) = (number_after("mean return"), number_after("mean length"));
    assert!(ret > 3.0 * len, "rl eval: return {ret}, length {len}: {text}");

    // Resuming with another repeat is refused by name, and the checkpoint is left as it was.
    let before = std::fs::read(&ckpt).unwrap();
    let resume = RunOptions { resume: true, action_repeat: 1, ..opts.clone() };
    let e = graft::rl::dqn::train(&tiny_dqn(), "CartPole-v1", 3, &resume).unwrap_err().to_string();
    assert!(e.contains("action repeat 4") && e.contains("action repeat 1"), "{e}");
    assert_eq!(std::fs::read(&ckpt).unwrap(), before);

    // Collection drives the agent at its own rate only.
    let mut c = CollectConfig::new("CartPole-v1", dir.join("data.arrow"));
    (c.policy, c.episodes, c.workers) = (PolicySpec::Checkpoint(ckpt.clone()), 1, 1);
    let e = collect(&c, &mut |_, _| {}).unwrap_err().to_string();
    assert!(e.contains("action repeat 4") && e.contains("--action-repeat 4"), "{e}");
    assert!(!dir.join("data.arrow").exists());
    c.action_repeat = 4;
    let written = collect(&c, &mut |_, _| {}).unwrap();
    assert_eq!(Dataset::open(&written.path).unwrap().meta().action_repeat(), 4);
}

#[test]
fn zero_action_repeat_is_refused() {
    let _g = training();
    let dir = tmp_dir("repeat-zero");
    let out = graft(&[
        "rl",
        "train",
        "--algo",
        "dqn",
        "--env",
        "CartPole-v1",
        "--steps",
        "10",
        "--action-repeat",
        "0",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    // A usage error (status 2) naming the flag and its range.
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--action-repeat") && stderr.contains("at least 1"), "{stderr}");
    assert!(!dir.join("run").exists(), "a refused run wrote its directory");
    // The library refuses it too, naming the env.
    let opts = RunOptions { action_repeat: 0, ..RunOptions::default() };
    let e = graft::rl::dqn::train(&DqnConfig::default(), "CartPole-v1", 0, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("CartPole-v1") && e.contains("action_repeat"), "{e}");
}

/// Sutton and Barto's CartPole reward (0 per step, -1 on termination) through `--kwarg`: the
/// evaluation after training and `rl eval` from the checkpoint both score on it (a return of
/// at most 0 instead of the episode length), and a resume with other kwargs is refused.
#[test]
fn env_kwargs_are_recorded_for_evaluation_and_resume() {
    let _g = training();
    let dir = tmp_dir("kwargs");
    let run = dir.join("run");
    let out = graft(&[
        "--threads",
        "1",
        "rl",
        "train",
        "--algo",
        "dqn",
        "--env",
        "CartPole-v1",
        "--config",
        r#"{"total_timesteps": 300, "learning_starts": 100, "hidden": [16]}"#,
        "--kwarg",
        "sutton_barto_reward=true",
        "--eval-every",
        "0",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta = RunCheckpoint::read(&run.join("checkpoint.safetensors")).unwrap().meta;
    assert_eq!(meta.env_kwargs["sutton_barto_reward"], serde_json::json!(true));

    let out = graft(&["rl", "eval", run.to_str().unwrap(), "--episodes", "3"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rest = &text[text.find("mean return").unwrap() + "mean return".len()..];
    let ret: f64 = rest.trim_start().split(' ').next().unwrap().parse().unwrap();
    assert!(ret <= 0.0, "rl eval scored {ret}, not on the Sutton-Barto reward: {text}");

    let mut opts = RunOptions { out: Some(run.clone()), resume: true, ..RunOptions::default() };
    let cfg = DqnConfig { total_timesteps: 300, learning_starts: 100, ..tiny_dqn() };
    let e = graft::rl::dqn::train(&cfg, "CartPole-v1", 0, &opts).unwrap_err().to_string();
    assert!(e.contains("sutton_barto_reward"), "{e}");
    opts.env_kwargs.insert("sutton_barto_reward".into(), graft::envs::Value::Bool(true));
    graft::rl::dqn::train(&cfg, "CartPole-v1", 0, &opts).unwrap();
}

/// The same from a script: `rl::train(#{action_repeat})` reaches the agent's env and its
/// checkpoint.
#[test]
fn scripts_set_the_action_repeat() {
    let _g = training();
    let dir = tmp_dir("repeat-script");
    let out = run_script(
        &dir,
        r#"let r = rl::train(#{algo: "dqn", env: "CartPole-v1", action_repeat: 4, eval_episodes: 2,
    config: #{total_timesteps: 300, learning_starts: 100, hidden: [16]}});
report::json("r.json", #{ret: r.final_return});
"#,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = dir.join("run");
    let meta = RunCheckpoint::read(&run.join("rl-dqn/checkpoint.safetensors")).unwrap().meta;
    assert_eq!(meta.action_repeat, 4);
}
