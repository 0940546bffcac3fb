//! The `graft` binary as a user meets it: exit codes and messages.

use std::process::Command;

fn graft(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().expect("graft runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn doctor_reports_libtorch_and_cuda_state() {
    let (code, out, err) = graft(&["doctor"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("libtorch: 2.11.0"), "{out}");
    assert!(out.contains("libtorch loaded from: /"), "{out}");
    assert!(out.contains("CUDA: "), "{out}");
    assert!(out.contains("threads: "), "{out}");
}

#[test]
fn doctor_train_check_shows_a_falling_loss() {
    let (code, out, err) =
        graft(&["--device", "cpu", "--threads", "1", "doctor", "--train-check", "--steps", "60"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("decreasing: yes"), "{out}");
}

#[test]
fn bad_device_is_a_clear_error_not_a_panic() {
    let (code, _, err) = graft(&["--device", "tpu:0", "doctor"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid value 'tpu:0' for '--device <DEVICE>'"), "{err}");
    assert!(err.contains("[possible values: auto, cpu, cuda, cuda:N]"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The spellings it accepted before are still accepted.
    for ok in ["cpu", "CPU", "auto"] {
        let (code, _, err) = graft(&["--device", ok, "doctor"]);
        assert_eq!(code, 0, "--device {ok}: {err}");
    }
}

#[test]
fn missing_cuda_names_the_fix() {
    let (code, out, err) = graft(&["--device", "cuda:0", "doctor", "--train-check"]);
    if out.contains("CUDA: available") {
        assert_eq!(code, 0, "{err}");
    } else {
        assert_eq!(code, 1);
        assert!(err.contains("CUDA is not available"), "{err}");
        assert!(err.contains("LD_LIBRARY_PATH") || err.contains("driver"), "{err}");
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let (code, _, err) = graft(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("frobnicate"), "{err}");
}

#[test]
fn envs_list_shows_gymnasium_ids_spaces_and_limits() {
    let (code, out, err) = graft(&["envs", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("CartPole-v1"), "{out}");
    assert!(
        out.contains("Box([-4.8 -inf -0.41887903 -inf], [4.8 inf 0.41887903 inf], (4,), float32)"),
        "{out}"
    );
    assert!(out.contains("max_episode_steps: 500, reward_threshold: 475"), "{out}");
    assert!(out.contains("Pendulum-v1"), "{out}");
}

#[test]
fn envs_render_writes_a_png_of_the_requested_size() {
    let dir = std::env::temp_dir().join(format!("graft-cli-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let full = dir.join("cartpole.png");
    let (code, _, err) = graft(&[
        "envs",
        "render",
        "CartPole-v1",
        "--seed",
        "3",
        "--steps",
        "4",
        "-o",
        full.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(image::image_dimensions(&full).unwrap(), (600, 400));
    let small = dir.join("acrobot.png");
    let (code, _, err) =
        graft(&["envs", "render", "Acrobot-v1", "--size", "84x84", "-o", small.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(image::image_dimensions(&small).unwrap(), (84, 84));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue #22: `graft envs render dmc/walker-walk` shows dm_control's view: 320x240 by default
/// (`physics.render()`'s size), and at 84x84 the frame dm_control renders after the same
/// seeded reset (`envs/tests/fixtures/dmc/gen_dmc.py`).
#[test]
fn envs_render_dmc_shows_dm_controls_view() {
    let dir = std::env::temp_dir().join(format!("graft-cli-dmc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let full = dir.join("walker.png");
    let (code, _, err) =
        graft(&["envs", "render", "dmc/walker-walk", "-o", full.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(image::image_dimensions(&full).unwrap(), (320, 240));
    let small = dir.join("walker84.png");
    let args =
        ["envs", "render", "dmc/walker-walk", "--seed", "0", "--steps", "0", "--size", "84x84"];
    let (code, _, err) = graft(&[&args[..], &["-o", small.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "{err}");
    let ours = image::open(&small).unwrap().to_rgb8().into_raw();
    let fixture =
        concat!(env!("CARGO_MANIFEST_DIR"), "/envs/tests/fixtures/dmc/frame_walker-walk_reset.rgb");
    let theirs = std::fs::read(fixture).unwrap();
    assert_eq!(ours.len(), theirs.len());
    let mean = ours.iter().zip(&theirs).map(|(a, b)| a.abs_diff(*b) as f64).sum::<f64>()
        / ours.len() as f64;
    assert!(mean <= 1.0, "mean absolute difference {mean} from dm_control's frame");
    let (code, _, err) = graft(&["envs", "render", "dmc/walker-fly", "-o", full.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("walker has the tasks run, stand, walk"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue #24: `graft envs render ALE/Breakout-v5` writes the 160x210 screen, the frame the
/// env's RGB observation holds after the same seeded reset. Without the feature the id gets a
/// message that says how to enable it.
#[test]
fn envs_render_atari_writes_the_screen() {
    let dir = std::env::temp_dir().join(format!("graft-cli-atari-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("breakout.png");
    let args = ["envs", "render", "ALE/Breakout-v5", "--seed", "4", "--steps", "0", "-o"];
    let (code, _, err) = graft(&[&args[..], &[out.to_str().unwrap()]].concat());
    if cfg!(feature = "atari") {
        assert_eq!(code, 0, "{err}");
        #[cfg(feature = "atari")]
        {
            use graft_envs::Env;
            let mut env = graft_envs::make("ALE/Breakout-v5", &Default::default()).unwrap();
            let (obs, _) = env.reset(Some(4), &Default::default()).unwrap();
            assert_eq!(image::open(&out).unwrap().to_rgb8().into_raw(), obs.u8);
        }
        assert_eq!(image::image_dimensions(&out).unwrap(), (160, 210));
    } else {
        assert_eq!(code, 1);
        assert!(err.contains("--features atari"), "{err}");
        assert!(!out.exists());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn envs_render_bad_input_gets_clear_errors_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("graft-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("x.png");
    let out_s = out.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["envs", "render", "NoSuchEnv-v9", "-o", out_s], "unknown environment id 'NoSuchEnv-v9'"),
        (
            &["envs", "render", "CartPole-v1", "--kwarg", "bogus=1", "-o", out_s],
            "bad argument 'bogus'",
        ),
        (
            &["envs", "render", "CartPole-v1", "--size", "84by84", "-o", out_s],
            "expected WIDTHxHEIGHT",
        ),
        (
            &["envs", "render", "CartPole-v1", "-o", "/nonexistent-graft-dir/x.png"],
            "does not exist",
        ),
        (&["envs", "render", "CartPole-v1", "-o", dir.to_str().unwrap()], "is a directory"),
    ];
    for (args, needle) in cases {
        let (code, _, err) = graft(args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no temporary files left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `graft ARGS` with extra environment variables (and `RUST_LOG` removed unless given), so
/// the tests of what reaches stderr do not depend on the caller's environment.
fn graft_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_graft"));
    cmd.args(args).env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("graft runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tmp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn closed_sets_are_refused_with_their_valid_values() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["rl", "train", "--algo", "nonsense", "--env", "CartPole-v1"],
            "[possible values: ppo, dqn, sac, td3, drqv2]",
        ),
        (
            &["pretrain", "--task", "rotnet", "--data", "x.arrow"],
            "[possible values: inverse_dynamics, forward_prediction",
        ),
        (&["pretrain", "--task", "simclr", "--optimizer", "lamb"], "adam, adamw, sgd"),
        (&["dist", "check", "--backend", "mpi"], "[possible values: gloo, nccl]"),
        (&["dist", "check", "--optimizer", "rmsprop"], "[possible values: sgd, adam, adamw]"),
        (&["images", "info", ".", "--format", "png"], "folder, cifar10, cifar100"),
    ];
    for (args, needle) in cases {
        let (code, _, err) = graft(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("invalid value"), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // --help lists them too.
    let (code, out, _) = graft(&["rl", "train", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("[possible values: ppo, dqn, sac, td3, drqv2]"), "{out}");
    let (_, out, _) = graft(&["--help"]);
    assert!(out.contains("[possible values: auto, cpu, cuda, cuda:N]"), "{out}");
}

#[test]
fn numbers_out_of_range_are_refused_with_the_range_not_coerced() {
    let dir = tmp_dir("ranges");
    let out = dir.join("run");
    let o = out.to_str().unwrap();
    let ppo = ["rl", "train", "--algo", "ppo", "--env", "CartPole-v1", "--out", o];
    let with = |extra: &[&'static str]| -> Vec<String> {
        ppo.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with(&["--eval-episodes", "0"]), "0 is not in 1..=100000"),
        (with(&["--steps", "0"]), "0 is not in 1.. (at least 1)"),
        (with(&["--action-repeat", "0"]), "0 is not in 1.. (at least 1)"),
        (with(&["--frame-stack", "0"]), "0 is not in 1.. (at least 1)"),
        (with(&["--steps=-5"]), "'-5' is not a whole number in 1.."),
        (
            ["pretrain", "--task", "simclr", "--lr", "NaN"].map(String::from).to_vec(),
            "must be a finite number above 0, got NaN",
        ),
        (
            ["pretrain", "--task", "simclr", "--lr", "0"].map(String::from).to_vec(),
            "must be a finite number above 0, got 0",
        ),
        (
            ["pretrain", "--task", "simclr", "--batch", "0"].map(String::from).to_vec(),
            "0 is not in 1..",
        ),
        (
            ["probe", "--encoder", "e", "--data", "d", "--train-fraction", "1"]
                .map(String::from)
                .to_vec(),
            "must be in (0, 1)",
        ),
        (["probe", "--encoder", "e", "--data", "d", "--k", "0"].map(String::from).to_vec(), "1.."),
        (["rl", "eval", "ckpt", "--episodes", "0"].map(String::from).to_vec(), "1.."),
        (["dist", "check", "--bucket-kb", "0"].map(String::from).to_vec(), "1.."),
        (["doctor", "--train-check", "--steps", "10"].map(String::from).to_vec(), "at least 50"),
        (["run", "s.rhai", "--nproc", "0"].map(String::from).to_vec(), "1.."),
    ];
    for (args, needle) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = graft(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: expected '{needle}' in {err}");
    }
    assert!(!out.exists(), "a refused command wrote its run directory");
    // The thread cap names the machine's cores (and --force-threads lifts it to 1024).
    let (code, _, err) = graft(&["--threads", "100000", "envs", "list"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("threads must be between 1 and") && err.contains("--force-threads"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A script whose `print` is an info event, run with extra global flags and environment.
fn run_print_script(name: &str, flags: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tmp_dir(name);
    let script = dir.join("hello.rhai");
    std::fs::write(&script, "print(\"hello from the script\");\n").unwrap();
    let out = dir.join("run");
    let mut args: Vec<&str> = flags.to_vec();
    args.extend(["--threads", "1", "run", script.to_str().unwrap()]);
    args.extend(["--out", out.to_str().unwrap()]);
    let r = graft_env(&args, env);
    assert_eq!(r.0, 0, "{flags:?}: {}", r.2);
    // The run log has the line whatever stderr shows; stdout names the run directory.
    let log = std::fs::read_to_string(out.join("run.log")).unwrap();
    assert!(log.contains("hello from the script"), "{log}");
    assert!(r.1.contains(out.to_str().unwrap()), "{}", r.1);
    std::fs::remove_dir_all(&dir).unwrap();
    r
}

#[test]
fn verbosity_flags_and_rust_log_choose_what_reaches_stderr() {
    // By default a script's print shows, as its text alone.
    let (_, _, err) = run_print_script("log-default", &[], &[]);
    assert!(err.lines().any(|l| l == "hello from the script"), "{err}");
    assert!(!err.contains("graft: debug:"), "{err}");
    // -q hides info lines (the old `run --quiet` spelling too); results stay on stdout.
    let (_, _, err) = run_print_script("log-q", &["-q"], &[]);
    assert!(!err.contains("hello from the script"), "{err}");
    let dir = tmp_dir("log-quiet");
    let script = dir.join("s.rhai");
    std::fs::write(&script, "print(\"hello from the script\");\n").unwrap();
    let out = dir.join("run");
    let (code, _, err) = graft_env(
        &["run", script.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("hello from the script"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    // -v adds debug lines, named by their module.
    let (_, _, err) = run_print_script("log-v", &["-v"], &[]);
    assert!(err.contains("graft: debug: graft::device: libtorch intra-op threads: 1"), "{err}");
    assert!(err.contains("hello from the script"), "{err}");
    // RUST_LOG overrides the flags: debug for one module, or nothing at all.
    let (_, _, err) = run_print_script("log-env", &[], &[("RUST_LOG", "graft::device=debug")]);
    assert!(err.contains("libtorch intra-op threads: 1"), "{err}");
    let (_, _, err) = run_print_script("log-off", &["-v"], &[("RUST_LOG", "off")]);
    assert!(!err.contains("hello from the script") && !err.contains("debug"), "{err}");
    // A warning keeps its prefix and shows under -q.
    let dir = tmp_dir("log-warn");
    let script = dir.join("s.rhai");
    std::fs::write(&script, "if false { param(\"a\", 2); }\nprint(\"x\");\n").unwrap();
    let out = dir.join("run");
    let (code, _, err) = graft_env(
        &["-q", "--threads", "1", "run", script.to_str().unwrap()]
            .into_iter()
            .chain(["--out", out.to_str().unwrap(), "--set", "a=1"])
            .collect::<Vec<_>>(),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.trim(), "graft: warning: --set a was never read by the script", "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn user_facing_output_never_shows_rust_option_debug_forms() {
    let dir = tmp_dir("no-some");
    // The stages' summary lines of a script (pretraining's final loss, RL's final return).
    let script = dir.join("chain.rhai");
    std::fs::write(
        &script,
        r#"let ds = data::collect(#{env: "CartPole-v1", policy: "heuristic", episodes: 2, seed: 1});
let p = pretrain::run(#{
    task: #{task: "inverse_dynamics"},
    data: #{path: ds.path},
    model: #{kind: "mlp", input_dim: 4, hidden: [16]},
    trainer: #{steps: 4, batch_size: 32, log_every: 2, progress: false},
    device: "cpu",
});
let m = model::load_encoder(p.encoder);
finetune::run(m, data::behaviour_cloning(ds), #{head: 2, epochs: 1, batch_size: 64});
rl::train(#{algo: "ppo", env: "CartPole-v1", eval_episodes: 1,
    config: #{total_timesteps: 128, num_envs: 2, num_steps: 64}});
"#,
    )
    .unwrap();
    let run = dir.join("run");
    let (code, out, err) = graft_env(
        &["--threads", "1", "--device", "cpu", "run", script.to_str().unwrap()]
            .into_iter()
            .chain(["--out", run.to_str().unwrap()])
            .collect::<Vec<_>>(),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let log = std::fs::read_to_string(run.join("run.log")).unwrap();
    assert!(log.contains("pretrain: 4 steps, final loss "), "{log}");
    assert!(log.contains("final return "), "{log}");
    // The CLI's own summary of a short RL run.
    let rl_out = dir.join("rl");
    let (code, out2, err2) = graft_env(
        &[
            "--threads",
            "1",
            "rl",
            "train",
            "--algo",
            "ppo",
            "--env",
            "CartPole-v1",
            "--steps",
            "128",
            "--eval-every",
            "0",
            "--eval-episodes",
            "1",
            "--config",
            r#"{"num_envs": 2, "num_steps": 64}"#,
            "--out",
            rl_out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err2}");
    assert!(out2.contains("final evaluation return"), "{out2}");
    for text in [&out, &err, &log, &out2, &err2] {
        assert!(!text.contains("Some(") && !text.contains("None"), "{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
