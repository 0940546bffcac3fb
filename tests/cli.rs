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
    assert_eq!(code, 1);
    assert!(err.contains("unknown device 'tpu:0'"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
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
