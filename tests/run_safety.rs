//! Nothing lost, nothing panics (issue "runs never overwritten, corrupt data refused, every
//! size bounded"), from the command line as a user meets it: a command that writes a run
//! refuses a directory that holds one (and leaves its files byte for byte), writes nothing
//! before its inputs are validated, a killed run resumes with a clean log, thread counts and
//! sizes are bounded before anything is spawned or allocated, and a user's encoder that does
//! not fit a user's data is refused by name instead of by a libtorch panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod pretrain_common;
mod support;
use pretrain_common::{cartpole_frames, cartpole_states, exclusive};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn graft(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().expect("graft runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-run-safety-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files
                    .insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

fn assert_refused(r: &Run, what: &str) {
    assert_ne!(r.code, 0, "{what}: accepted\n{}{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("internal error"), "{}", r.stderr);
}

const PPO: &[&str] = &[
    "--threads",
    "1",
    "rl",
    "train",
    "--algo",
    "ppo",
    "--env",
    "CartPole-v1",
    "--steps",
    "512",
    "--eval-every",
    "0",
    "--eval-episodes",
    "2",
    "--quiet",
];

fn ppo(out: &Path, extra: &[&str]) -> Run {
    let mut args = PPO.to_vec();
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    graft(&args)
}

#[test]
fn rl_train_never_replaces_an_earlier_run_unless_asked() {
    let out = fresh_dir("rl");
    let first = ppo(&out, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = snapshot(&out);
    assert!(before.contains_key(Path::new("config.json")), "{:?}", before.keys());

    let again = ppo(&out, &[]);
    assert_refused(&again, "a second run into the same directory");
    assert!(again.stderr.contains("already holds a run"), "{}", again.stderr);
    assert!(again.stderr.contains("--resume") && again.stderr.contains("--overwrite"));
    assert_eq!(snapshot(&out), before, "a refused command changed the earlier run");

    // --overwrite with an input that fails validation writes nothing either.
    let mut bad = PPO.to_vec();
    bad[7] = "NoSuchEnv-v0";
    bad.extend(["--out", out.to_str().unwrap(), "--overwrite"]);
    let r = graft(&bad);
    assert_refused(&r, "an unknown env");
    assert_eq!(snapshot(&out), before, "a command that failed validation wrote files");

    let both = ppo(&out, &["--resume", "--overwrite"]);
    assert_eq!(both.code, 2, "{}", both.stderr);

    // Resuming a finished run trains nothing and says so, without NaN.
    let resumed = ppo(&out, &["--resume"]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert!(resumed.stdout.contains("already finished (512 env steps)"), "{}", resumed.stdout);
    assert!(resumed.stdout.contains("its last evaluation: mean return"), "{}", resumed.stdout);
    assert!(!resumed.stdout.contains("NaN"), "{}", resumed.stdout);

    let replaced = ppo(&out, &["--overwrite"]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    let after = snapshot(&out);
    let events = after.keys().filter(|p| p.to_string_lossy().contains("tfevents")).count();
    assert_eq!(events, 1, "the earlier run's event files were not removed: {:?}", after.keys());
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn rl_train_refuses_zero_evaluation_episodes() {
    let out = fresh_dir("rl-eval0");
    let mut args = PPO.to_vec();
    let at = args.iter().position(|a| *a == "--eval-episodes").unwrap();
    args[at + 1] = "0";
    args.extend(["--out", out.to_str().unwrap()]);
    let r = graft(&args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("0 is not in 1..=100000"), "{}", r.stderr);
    assert!(!out.exists(), "a refused command created the run directory");
}

fn pretrain(out: &Path, data: &Path, steps: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--threads",
        "1",
        "--device",
        "cpu",
        "pretrain",
        "--task",
        "inverse_dynamics",
        "--model",
        "mlp",
        "--data",
        data.to_str().unwrap(),
        "--steps",
        steps,
        "--batch",
        "16",
        "--checkpoint-every",
        "5",
        "--log-every",
        "1",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    graft(&args)
}

#[test]
fn pretrain_never_replaces_an_earlier_run_unless_asked() {
    let _g = exclusive();
    let out = fresh_dir("pretrain");
    let data = cartpole_states();
    let first = pretrain(&out, data, "10", &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = snapshot(&out);

    let again = pretrain(&out, data, "10", &[]);
    assert_refused(&again, "a second pretraining run into the same directory");
    assert!(again.stderr.contains("already holds a run"), "{}", again.stderr);
    assert_eq!(snapshot(&out), before);

    let missing = out.join("no-such-data.arrow");
    let r = pretrain(&out, &missing, "10", &["--overwrite"]);
    assert_refused(&r, "missing data");
    assert_eq!(snapshot(&out), before, "a command that failed validation wrote files");

    let replaced = pretrain(&out, data, "10", &["--overwrite"]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_resumed_pretraining_run_cuts_its_log_back_to_the_checkpoint_and_clears_temporaries() {
    let _g = exclusive();
    let out = fresh_dir("pretrain-killed");
    let data = cartpole_states();
    let first = pretrain(&out, data, "10", &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // What a `kill -9` after step 10 leaves: rows past the checkpoint's step, a half-written
    // last row, and the temporaries of a checkpoint and a log being written.
    let csv = out.join("metrics.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("11,loss,12345,0.0\n12,loss,12345,0.0\n13,lo");
    std::fs::write(&csv, text).unwrap();
    let stale =
        [out.join(".checkpoint.safetensors.tmp.999999999"), out.join(".metrics.csv.tmp.999999999")];
    for p in &stale {
        std::fs::write(p, "partial").unwrap();
    }

    let resumed = pretrain(&out, data, "14", &["--resume"]);
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    for p in &stale {
        assert!(!p.exists(), "{} was left behind", p.display());
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(!text.contains("12345"), "rows past the checkpoint survived:\n{text}");
    let mut last_step: BTreeMap<String, u64> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let parts: Vec<&str> = line.split(',').collect();
        assert_eq!(parts.len(), 4, "malformed row {line:?}");
        let step: u64 = parts[0].parse().unwrap();
        let prev = last_step.insert(parts[1].to_string(), step);
        assert!(prev.is_none_or(|p| p < step), "step {step} of {} twice:\n{text}", parts[1]);
    }
    assert_eq!(last_step.get("loss"), Some(&14), "{text}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn probing_a_state_encoder_on_pixels_is_refused_by_name() {
    let _g = exclusive();
    let out = fresh_dir("probe");
    let trained = pretrain(&out, cartpole_states(), "4", &[]);
    assert_eq!(trained.code, 0, "{}", trained.stderr);
    let encoder = out.join("encoder.safetensors");
    let frames = cartpole_frames();
    let r = graft(&[
        "--threads",
        "1",
        "--device",
        "cpu",
        "probe",
        "--encoder",
        encoder.to_str().unwrap(),
        "--data",
        frames.to_str().unwrap(),
    ]);
    assert_refused(&r, "a state encoder on pixel data");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("the model does not fit the data"), "{}", r.stderr);
    assert!(r.stderr.contains("takes vectors of 4 values"), "{}", r.stderr);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn thread_counts_past_the_cores_are_refused_before_any_thread_starts() {
    let r = graft(&["--threads", "100000", "doctor"]);
    assert_refused(&r, "--threads 100000");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("threads must be between 1 and"), "{}", r.stderr);
    assert!(r.stderr.contains("got 100000"), "{}", r.stderr);
    let forced = graft(&["--threads", "100000", "--force-threads", "doctor"]);
    assert!(forced.stderr.contains("between 1 and 1024"), "{}", forced.stderr);
    let zero = graft(&["--threads", "0", "doctor"]);
    assert_refused(&zero, "--threads 0");
}

/// Run `script` (Rhai source) with `graft run`; the run.
fn script(name: &str, source: &str) -> Run {
    let dir = fresh_dir(&format!("script-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.rhai"));
    std::fs::write(&path, source).unwrap();
    let out = dir.join("run");
    let r = graft(&[
        "--threads",
        "1",
        "--device",
        "cpu",
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    r
}

#[test]
fn huge_sizes_from_scripts_are_refused_with_the_numbers() {
    let cases = [
        ("blobs", "data::blobs(#{n: 100000000, dim: 100000});", "data::blobs of 100000000 points"),
        (
            "mlp",
            r#"model::build(#{kind: "mlp", input_dim: 1000000, hidden: [1000000]});"#,
            "model 'mlp'",
        ),
        (
            "head",
            "let set = data::blobs(#{n: 64, dim: 4, classes: 2});\n\
             let m = model::build(#{kind: \"mlp\", input_dim: 4, hidden: [8]});\n\
             finetune::run(m, set, #{head: 100000000000, epochs: 1});",
            "a head of 100000000000 outputs",
        ),
        (
            "pixels",
            r#"data::collect(#{env: "CartPole-v1", episodes: 1, pixels: [100000, 100000]});"#,
            "between 1x1 and 4096x4096",
        ),
    ];
    for (name, source, expected) in cases {
        let r = script(name, source);
        assert_refused(&r, name);
        assert!(r.stderr.contains(expected), "{name}: {}", r.stderr);
        if name != "pixels" {
            assert!(r.stderr.contains("is available"), "{name}: {}", r.stderr);
        }
    }
}

#[test]
fn rl_train_in_a_script_refuses_zero_evaluation_episodes() {
    let r = script(
        "rl-eval0",
        r#"rl::train(#{algo: "ppo", env: "CartPole-v1", config: #{total_timesteps: 512}, eval_episodes: 0});"#,
    );
    assert_refused(&r, "eval_episodes: 0");
    assert!(r.stderr.contains("eval_episodes must be at least 1"), "{}", r.stderr);
}

#[test]
fn collect_never_replaces_a_dataset_unless_asked() {
    let dir = fresh_dir("collect");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.arrow");
    let p = path.to_str().unwrap();
    let args = ["collect", "--env", "CartPole-v1", "--episodes", "1", "--workers", "1", "-o", p];
    let first = graft(&args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = std::fs::read(&path).unwrap();
    let mut again = args.to_vec();
    again.extend(["--seed", "7"]);
    let r = graft(&again);
    assert_refused(&r, "collect over an existing file");
    assert!(r.stderr.contains("the file exists; pass --overwrite"), "{}", r.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    again.push("--overwrite");
    assert_eq!(graft(&again).code, 0);
    assert_ne!(std::fs::read(&path).unwrap(), before, "--overwrite did not replace the file");
    let mut zero = args.to_vec();
    zero[6] = "0";
    zero.push("--overwrite");
    let r = graft(&zero);
    assert_refused(&r, "--workers 0");
    assert!(r.stderr.contains("--workers") && r.stderr.contains("at least 1"), "{}", r.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_script_collecting_twice_under_one_name_is_refused_unless_asked() {
    let twice = "let a = data::collect(#{env: \"CartPole-v1\", episodes: 1});\n\
                 let b = data::collect(#{env: \"CartPole-v1\", episodes: 1, seed: 9});\n";
    let r = script("collect-twice", twice);
    assert_refused(&r, "a second collection under the same name");
    assert!(r.stderr.contains("the file exists") && r.stderr.contains("overwrite: true"));
    let replace = "let a = data::collect(#{env: \"CartPole-v1\", episodes: 1});\n\
                   let b = data::collect(#{env: \"CartPole-v1\", episodes: 1, overwrite: true});\n";
    let r = script("collect-replace", replace);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_conversion_never_writes_over_its_input_or_an_existing_file() {
    let dir = fresh_dir("convert");
    std::fs::create_dir_all(&dir).unwrap();
    let arrow = dir.join("d.arrow");
    let a = arrow.to_str().unwrap();
    let made = graft(&["collect", "--env", "CartPole-v1", "--episodes", "1", "-o", a]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let before = std::fs::read(&arrow).unwrap();
    // The same file, spelt another way.
    let alias = dir.join(".").join("d.arrow");
    for extra in [&[][..], &["--overwrite"][..]] {
        let mut args = vec!["data", "export", a, "-o", alias.to_str().unwrap()];
        args.extend(extra);
        let r = graft(&args);
        assert_refused(&r, "export onto its own input");
        assert!(r.stderr.contains("is the input file itself"), "{}", r.stderr);
        assert_eq!(std::fs::read(&arrow).unwrap(), before);
    }
    let parquet = dir.join("d.parquet");
    let p = parquet.to_str().unwrap();
    assert_eq!(graft(&["data", "export", a, "-o", p]).code, 0);
    let r = graft(&["data", "export", a, "-o", p]);
    assert_refused(&r, "export onto an existing file");
    assert!(r.stderr.contains("pass --overwrite"), "{}", r.stderr);
    assert_eq!(graft(&["data", "export", a, "-o", p, "--overwrite"]).code, 0);
    let r = graft(&["data", "import", p, "-o", a]);
    assert_refused(&r, "import onto an existing dataset");
    assert_eq!(std::fs::read(&arrow).unwrap(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn special_files_given_as_text_inputs_are_refused_without_reading() {
    let cases: [&[&str]; 4] = [
        &["run", "/dev/zero"],
        &["rl", "train", "--algo", "ppo", "--env", "CartPole-v1", "--config", "/dev/zero"],
        &["pretrain", "--task", "rotation", "--data", "x", "--config", "/dev/zero"],
        &["images", "info", "/dev/zero"],
    ];
    for args in cases {
        // Reading /dev/zero has no end: a command that tried would not return.
        let r = graft(args);
        assert_refused(&r, &args.join(" "));
        assert!(r.stderr.contains("/dev/zero"), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn rl_sizes_past_the_memory_are_refused_before_anything_is_allocated() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--config", r#"{"num_envs": 100000000, "total_timesteps": 100000000000}"#],
            "100000000 copies of CartPole-v1",
        ),
        (&["--pixels", "4096x4096", "--frame-stack", "64"], "3221225472 values per observation"),
        (
            &[
                "--algo",
                "dqn",
                "--pixels",
                "512x512",
                "--frame-stack",
                "4",
                "--config",
                r#"{"buffer_size": 10000000, "total_timesteps": 100000000}"#,
            ],
            "a DQN replay buffer of 10000000 transitions",
        ),
    ];
    for (extra, expected) in cases {
        let out = fresh_dir("rl-sizes");
        let mut args =
            vec!["--threads", "1", "rl", "train", "--algo", "ppo", "--env", "CartPole-v1"];
        // A later --algo replaces the first: clap keeps the last value given.
        if extra.first() == Some(&"--algo") {
            args.truncate(4);
            args.extend(["--env", "CartPole-v1"]);
        }
        args.extend(extra);
        args.extend(["--out", out.to_str().unwrap(), "--quiet"]);
        let r = graft(&args);
        assert_refused(&r, expected);
        assert!(r.stderr.contains(expected), "{expected}: {}", r.stderr);
        assert!(!out.exists(), "a refused run created {}", out.display());
    }
}

#[test]
fn dist_check_refuses_an_earlier_log_unless_resumed() {
    let dir = fresh_dir("dist-log");
    let logs = dir.to_str().unwrap();
    let args = ["--threads", "1", "dist", "check", "--steps", "4", "--log-dir", logs];
    let first = graft(&args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = snapshot(&dir);
    let again = graft(&args);
    assert_refused(&again, "a second check into the same log directory");
    assert!(again.stderr.contains("already holds a run"), "{}", again.stderr);
    assert_eq!(snapshot(&dir), before);
    std::fs::remove_dir_all(&dir).unwrap();
}
