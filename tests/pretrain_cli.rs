//! `graft pretrain` and `graft probe` from the command line (a run directory, probes on state
//! vectors and on an image folder, errors on bad input), and the frames an encoder pretrains
//! on against what an RL agent with the same pixel wrapper sees.

use std::path::Path;
use std::process::Command;

use graft::data::{collect, CollectConfig, PolicySpec};
use graft::models::ModelConfig;
use graft::pretrain::PretrainConfig;
use tch::{Device, Tensor};

mod pretrain_common;
mod support;
use pretrain_common::*;
use support::python;

fn graft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().unwrap()
}

/// `graft probe --json` of the run's encoder in `run_dir` on `data` (plus `extra` flags), on
/// the CPU; the parsed report.
fn probe_json(run_dir: &Path, data: &str, extra: &[&str]) -> serde_json::Value {
    let enc = run_dir.join("encoder.safetensors");
    let mut args = vec!["probe", "--encoder", enc.to_str().unwrap(), "--data", data];
    args.extend(extra.iter().copied().chain(["--json", "--device", "cpu"]));
    let r = graft(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    serde_json::from_slice(&r.stdout).unwrap()
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
    for f in ["config.json", "metrics.csv", "checkpoint.safetensors", "encoder.safetensors"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    // A run directory in the layout of earlier versions (training state under
    // checkpoints/last.safetensors) is not resumed from scratch: the error says where to move it.
    std::fs::create_dir_all(out.join("checkpoints")).unwrap();
    std::fs::rename(out.join("checkpoint.safetensors"), out.join("checkpoints/last.safetensors"))
        .unwrap();
    let mut again: Vec<&str> = vec!["pretrain", "--task", "inverse_dynamics", "--data", &data];
    again.extend(["--model", "mlp", "--steps", "20", "--batch", "16", "--out", o, "--resume"]);
    let old = graft(&again);
    let err = String::from_utf8_lossy(&old.stderr);
    assert!(!old.status.success() && err.contains("move it to"), "{err}");
    assert!(err.contains("checkpoints/last.safetensors"), "{err}");
    std::fs::rename(out.join("checkpoints/last.safetensors"), out.join("checkpoint.safetensors"))
        .unwrap();
    let events = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref().unwrap().file_name().to_string_lossy().starts_with("events.out.tfevents")
        })
        .count();
    assert_eq!(events, 1);
    let v = probe_json(&out, &data, &["--baseline"]);
    for side in ["pretrained", "random_init"] {
        let acc = v[side]["action_accuracy"].as_f64().unwrap();
        let r2 = v[side]["state_r2"].as_f64();
        assert!((0.0..=1.0).contains(&acc), "{v}");
        assert!(r2.is_none(), "state vectors have no separate state column: {v}");
    }
    // Bad input: an unknown task is a usage error (status 2) listing the tasks.
    let r = graft(&["pretrain", "--task", "rotnet", "--data", &data, "--out", o]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("'rotnet'") && err.contains("rotation, simclr"), "{err}");
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
    let v = probe_json(&out, f, &[]);
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
