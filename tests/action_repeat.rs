//! Collection with an action repeat (`CollectConfig::action_repeat`, `graft collect
//! --action-repeat`, Rhai `data::collect(#{action_repeat})`): each stored transition is k
//! physics steps with one action. Checked against a replay in a plain env, stepped one
//! physics step at a time; bad values are refused with a clear error and no file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use graft::data::{collect, CollectConfig, Dataset, PolicySpec};
use graft::envs::{registry, ActionRef, Env, Kwargs, Obs};

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-repeat-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn graft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().unwrap()
}

/// Collect `episodes` random-policy CartPole episodes with `repeat`, as 24×16 frames with
/// the state beside them.
fn collect_repeat(dir: &Path, repeat: usize, episodes: usize) -> Dataset {
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("repeat.arrow"));
    (cfg.policy, cfg.episodes, cfg.seed, cfg.workers) = (PolicySpec::Random, episodes, 11, 2);
    (cfg.pixels, cfg.action_repeat) = (Some((24, 16)), repeat);
    let summary = collect(&cfg, &mut |_, _| {}).unwrap();
    Dataset::open(&summary.path).unwrap()
}

/// Replay every episode of a k-repeat dataset in a plain `CartPole-v1` (same reset seed):
/// each stored transition must equal k single physics steps with its action — the next
/// state bit for bit, the reward their sum (one per step), the end flags those of the last
/// step, which comes early only when the episode ends inside the repeat — and its stored
/// frame the plain env's rendering after those steps.
#[test]
fn a_repeat_dataset_replays_as_k_single_steps_with_the_same_action() {
    let k = 3;
    let ds = collect_repeat(&tmp_dir("replay"), k, 6);
    assert_eq!(ds.meta().action_repeat(), k as u64);
    let spec = ds.meta().env_spec.as_ref().unwrap();
    // Innermost first: the frame is rendered once, after the k steps.
    assert_eq!(spec["additional_wrappers"][0]["name"], "RepeatAction");
    assert_eq!(spec["additional_wrappers"][0]["kwargs"]["num_repeats"], k);
    assert_eq!(spec["additional_wrappers"][1]["name"], "AddRenderObservation");

    let mut physics_steps = 0;
    let mut frame = vec![0u8; 24 * 16 * 3];
    for e in 0..ds.num_episodes() {
        let ep = ds.episode(e).unwrap();
        let mut env = registry::make("CartPole-v1", &Kwargs::new()).unwrap();
        let mut obs = Obs::zeros(env.observation_space());
        env.reset_into(Some(11 + e as u64), &Kwargs::new(), obs.as_mut()).unwrap();
        assert_eq!(ep.observation(0).unwrap().f32, &obs.f32[..], "episode {e}: reset state");
        for (t, tr) in ep.transitions().enumerate() {
            let ActionRef::Discrete(a) = tr.action else { panic!("not a discrete action") };
            let (mut reward, mut n, mut ended) = (0.0, 0, (false, false));
            while n < k && !(ended.0 || ended.1) {
                let out = env.step_into(ActionRef::Discrete(a), obs.as_mut()).unwrap();
                (reward, n, ended) = (reward + out.reward, n + 1, (out.terminated, out.truncated));
            }
            let at = format!("episode {e}, transition {t}");
            assert_eq!(tr.next_obs.f32, &obs.f32[..], "{at}: state after {n} steps");
            assert_eq!((tr.reward, (tr.terminated, tr.truncated)), (reward, ended), "{at}");
            assert!(n == k || ended.0 || ended.1, "{at}: fewer than {k} steps without an end");
            env.render_into(24, 16, &mut frame).unwrap();
            assert!(tr.next_obs.u8 == &frame[..], "{at}: the stored frame differs");
            physics_steps += n;
        }
        assert!(ep.ended().0, "episode {e} did not end where the replay did");
    }
    // Random CartPole lasts about 22 physics steps: 6 episodes store about a third as many
    // transitions as physics steps.
    assert!(
        ds.num_transitions() * 2 < physics_steps,
        "{} of {physics_steps}",
        ds.num_transitions()
    );
}

#[test]
fn without_a_repeat_the_dataset_records_none() {
    let ds = collect_repeat(&tmp_dir("plain"), 1, 1);
    assert_eq!(ds.meta().action_repeat(), 1);
    let spec = ds.meta().env_spec.as_ref().unwrap();
    let names: Vec<_> = spec["additional_wrappers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["AddRenderObservation"]);
}

/// 0 is refused up front, naming the setting, from the library, the CLI and a script, and
/// no dataset file is left behind.
#[test]
fn an_action_repeat_of_zero_is_refused_everywhere() {
    let dir = tmp_dir("zero");
    let out = dir.join("zero.arrow");
    let mut cfg = CollectConfig::new("CartPole-v1", &out);
    cfg.action_repeat = 0;
    let err = collect(&cfg, &mut |_, _| {}).unwrap_err().to_string();
    assert!(err.contains("action_repeat must be at least 1"), "{err}");
    assert!(!out.exists());

    let o = graft(&[
        "collect",
        "--env",
        "CartPole-v1",
        "--action-repeat",
        "0",
        "-o",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--action-repeat") && stderr.contains("at least 1"), "{stderr}");
    assert!(!out.exists());

    let script = dir.join("s.rhai");
    std::fs::write(
        &script,
        "let x = 1;\ndata::collect(#{env: \"CartPole-v1\", episodes: 1, action_repeat: 0});\n",
    )
    .unwrap();
    let run = dir.join("run");
    let o = graft(&["run", script.to_str().unwrap(), "--out", run.to_str().unwrap(), "--quiet"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("s.rhai:2:") && stderr.contains("action_repeat must be at least 1"));
    assert!(!run.join("data").exists(), "a data folder was made for a refused collection");
}

/// The CLI and a script record the repeat they were given; `graft data info` shows it.
#[test]
fn cli_and_script_collect_with_an_action_repeat() {
    let dir = tmp_dir("cli");
    let out = dir.join("cli.arrow");
    let o = graft(&[
        "collect",
        "--env",
        "CartPole-v1",
        "--episodes",
        "2",
        "--action-repeat",
        "4",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ds = Dataset::open(&out).unwrap();
    assert_eq!(ds.meta().action_repeat(), 4);
    // Rewards are sums over the repeated steps: a first push never ends CartPole.
    assert_eq!(ds.transition(0).unwrap().reward, 4.0);
    let info = graft(&["data", "info", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&info.stdout);
    assert!(stdout.contains("action_repeat: 4 physics steps per transition"), "{stdout}");

    let script = dir.join("s.rhai");
    std::fs::write(
        &script,
        "let ds = data::collect(#{env: \"CartPole-v1\", episodes: 2, action_repeat: 2});\n\
         report::json(\"out.json\", #{data: ds.path});\n",
    )
    .unwrap();
    let run = dir.join("run");
    let o = graft(&["run", script.to_str().unwrap(), "--out", run.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("out.json")).unwrap()).unwrap();
    assert_eq!(Dataset::open(r["data"].as_str().unwrap()).unwrap().meta().action_repeat(), 2);
}
