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
