//! Data-parallel training over c10d on one machine, loopback only (127.0.0.1): two Gloo ranks
//! must step exactly as one process on the combined batch; a dead or hung rank must make the
//! others fail with a clear error within the configured timeout; bad launch environments must
//! be refused with errors naming the variable. The pretraining and fine-tuning trainers,
//! under `graft launch` and `graft run --nproc 2`, must also step as one process on the
//! combined batch, with rank 0 alone writing the run. Workers are the `graft` binary
//! (`graft launch`, `graft dist check`, `graft pretrain`, `graft run`), so the tests exercise
//! what users run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use graft::distributed::launch::free_port;
use graft::distributed::{Backend, DistEnv, ProcessGroup};
use graft::models::checkpoint::Checkpoint;
use tch::{Kind, Tensor};

const GRAFT: &str = env!("CARGO_BIN_EXE_graft");

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn graft(args: &[&str]) -> Output {
    Command::new(GRAFT).args(args).output().expect("graft runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        stderr(out),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Largest absolute difference between same-named tensors of two checkpoints.
fn max_diff(a: &Path, b: &Path) -> f64 {
    let a = Checkpoint::read(a).unwrap();
    let b = Checkpoint::read(b).unwrap();
    assert_eq!(a.tensors.keys().collect::<Vec<_>>(), b.tensors.keys().collect::<Vec<_>>());
    a.tensors
        .iter()
        .map(|(k, t)| (t - &b.tensors[k]).abs().max().double_value(&[]))
        .fold(0.0, f64::max)
}

/// `graft dist check` as one process (no torchrun variables) with `batch` samples per step.
fn single(out: &Path, batch: usize, extra: &[&str]) {
    let batch = batch.to_string();
    let mut args =
        vec!["--threads", "1", "dist", "check", "--steps", "6", "--batch", &batch, "--out"];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    assert_ok(&graft(&args), "single-process check");
}

/// The same through `graft launch --nproc 2`, `batch` samples per step on each rank.
fn two_ranks(out: &Path, batch: usize, extra: &[&str]) -> Output {
    two_ranks_steps(out, batch, 6, extra)
}

fn two_ranks_steps(out: &Path, batch: usize, steps: u64, extra: &[&str]) -> Output {
    let (batch, steps) = (batch.to_string(), steps.to_string());
    let mut args = vec![
        "launch",
        "--nproc",
        "2",
        "--",
        "--threads",
        "1",
        "dist",
        "check",
        "--steps",
        &steps,
        "--batch",
        &batch,
        "--out",
    ];
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    Command::new(GRAFT)
        .args(&args)
        .env("GRAFT_DIST_TIMEOUT_SECS", "60")
        .output()
        .expect("graft launch runs")
}

fn equal_to_combined_batch(optimizer: &[&str]) {
    let name = optimizer[1];
    let (one, two, half) = (
        tmp(&format!("one-{name}.st")),
        tmp(&format!("two-{name}.st")),
        tmp(&format!("half-{name}.st")),
    );
    single(&one, 16, optimizer);
    let out = two_ranks(&two, 8, optimizer);
    assert_ok(&out, "2-rank launch");
    assert!(String::from_utf8_lossy(&out.stdout).contains("[rank 0] dist check: 2 process(es)"));
    let d = max_diff(&one, &two);
    assert!(d <= 1e-6, "{name}: 2 ranks differ from one process on the combined batch by {d}");
    // The tolerance discriminates: one process on half the batch ends elsewhere.
    single(&half, 8, optimizer);
    let d_half = max_diff(&one, &half);
    assert!(d_half > 1e-4, "{name}: half the batch is indistinguishable ({d_half})");
}

#[test]
fn two_ranks_step_like_one_process_on_the_combined_batch_sgd() {
    equal_to_combined_batch(&["--optimizer", "sgd", "--lr", "0.05"]);
}

#[test]
fn two_ranks_step_like_one_process_on_the_combined_batch_adam() {
    // 1 KiB buckets: the 6 gradients travel in 4 buckets, so flattening and copying back
    // across bucket boundaries is exercised too.
    equal_to_combined_batch(&["--optimizer", "adam", "--lr", "0.01", "--bucket-kb", "1"]);
}

#[test]
fn only_rank_zero_writes_logs() {
    let dir = tmp("logs");
    let _ = std::fs::remove_dir_all(&dir);
    let out = two_ranks(&tmp("logs.st"), 8, &["--log-dir", dir.to_str().unwrap()]);
    assert_ok(&out, "2-rank launch with --log-dir");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // One writer: one metrics.csv and one event file (a second rank would add its own, named
    // by its pid).
    assert_eq!(
        files.iter().filter(|f| f.starts_with("events.out.tfevents.")).count(),
        1,
        "{files:?}"
    );
    let rows = graft::report::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    let losses: Vec<(u64, f64)> =
        rows.iter().filter(|r| r.tag == "loss").map(|r| (r.step, r.value)).collect();
    assert_eq!(losses.len(), 2, "{rows:?}");
    assert_eq!((losses[0].0, losses[1].0), (0, 5));
    assert!(losses[1].1 < losses[0].1, "loss did not fall: {losses:?}");
}

#[test]
fn resume_with_the_same_world_size_continues_exactly() {
    let (straight, first, resumed) = (tmp("straight.st"), tmp("first.ckpt"), tmp("resumed.st"));
    let adam = ["--optimizer", "adam", "--lr", "0.01"];
    assert_ok(&two_ranks(&straight, 8, &adam), "straight run");
    let mut args = adam.to_vec();
    let ckpt = first.to_str().unwrap();
    args.extend_from_slice(&["--checkpoint", ckpt]);
    // The first half: 3 of the 6 steps, then a new job resumes from its checkpoint.
    assert_ok(&two_ranks_steps(&tmp("unused.st"), 8, 3, &args), "first half");
    let mut rest = adam.to_vec();
    rest.extend_from_slice(&["--resume", ckpt]);
    assert_ok(&two_ranks(&resumed, 8, &rest), "resumed half");
    let d = max_diff(&straight, &resumed);
    assert!(d <= 1e-6, "resumed run differs from the straight one by {d}");
    // Another world size is refused, naming both.
    let out = graft(&["--threads", "1", "dist", "check", "--steps", "6", "--resume", ckpt]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("written by a job of 2 process(es), resumed with 1"),
        "{}",
        stderr(&out)
    );
}

/// Start one worker of a 2-rank job by hand (no launcher), as a multi-node setup would.
fn worker(rank: usize, port: u16, timeout_secs: &str, extra: &[&str]) -> Child {
    Command::new(GRAFT)
        .args(["--threads", "1", "dist", "check", "--batch", "8"])
        .args(extra)
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .env("WORLD_SIZE", "2")
        .env("RANK", rank.to_string())
        .env("GRAFT_DIST_TIMEOUT_SECS", timeout_secs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("worker starts")
}

/// Wait for `child` at most `limit`; kill it and fail the test if it is still running then.
fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("{what} still running after {limit:?} (hung): {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_rank_that_dies_mid_run_fails_the_others_with_a_clear_error() {
    let port = free_port().unwrap();
    let r0 = worker(0, port, "60", &["--steps", "100000"]);
    let r1 = worker(1, port, "60", &["--steps", "100000", "--fail-rank", "1", "--fail-step", "3"]);
    let out1 = wait_bounded(r1, Duration::from_secs(120), "rank 1");
    assert_eq!(out1.status.code(), Some(3), "{}", stderr(&out1));
    // A closed connection is noticed at once, long before the 60 s timeout.
    let t = Instant::now();
    let out0 = wait_bounded(r0, Duration::from_secs(50), "rank 0 after its peer died");
    assert!(t.elapsed() < Duration::from_secs(50));
    assert!(!out0.status.success());
    let msg = stderr(&out0);
    assert!(msg.contains("graft: error: distributed: rank 0 of 2: all-reduce"), "{msg}");
    assert!(msg.contains("another rank died"), "{msg}");
    assert!(msg.contains("Connection closed by peer") || msg.contains("Connection reset"), "{msg}");
}

#[test]
fn a_hung_rank_fails_the_others_after_the_timeout() {
    let port = free_port().unwrap();
    let r0 = worker(0, port, "8", &["--steps", "100000"]);
    let r1 = worker(1, port, "8", &["--steps", "100000"]);
    // Let them rendezvous and train, then freeze rank 1 (a hung node: its sockets stay open).
    std::thread::sleep(Duration::from_secs(3));
    let pid = r1.id() as i32;
    // SAFETY: signalling a child this test started.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let start = Instant::now();
    let out0 = wait_bounded(r0, Duration::from_secs(60), "rank 0 beside a hung peer");
    // SAFETY: as above; SIGKILL ends a stopped process too.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let _ = wait_bounded(r1, Duration::from_secs(30), "rank 1");
    assert!(!out0.status.success());
    let msg = stderr(&out0);
    assert!(msg.contains("graft: error: distributed:"), "{msg}");
    assert!(msg.to_lowercase().contains("timed out") || msg.contains("timeout"), "{msg}");
    // Not before the configured 8 s (minus the time rank 1 may have lagged), well within 60 s.
    assert!(start.elapsed() >= Duration::from_secs(4), "failed after {:?}", start.elapsed());
}

#[test]
fn the_launcher_stops_every_rank_when_one_dies() {
    let start = Instant::now();
    let out = Command::new(GRAFT)
        .args(["launch", "--nproc", "2", "--", "--threads", "1", "dist", "check"])
        .args(["--steps", "100000", "--batch", "8", "--fail-rank", "1", "--fail-step", "2"])
        .env("GRAFT_DIST_TIMEOUT_SECS", "60")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let msg = stderr(&out);
    assert!(msg.contains("rank 1 exited with status 3"), "{msg}");
    assert!(msg.contains("[rank 1] rank 1: exiting at step 2"), "{msg}");
    assert!(start.elapsed() < Duration::from_secs(60), "took {:?}", start.elapsed());
}

fn check_with_env(vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(GRAFT);
    cmd.args(["dist", "check", "--steps", "1"]);
    for v in ["MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK", "LOCAL_RANK"] {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn bad_environments_are_refused_with_the_variable_named() {
    let base = [("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", "29500")];
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("WORLD_SIZE", "0"), ("RANK", "0")], "WORLD_SIZE=0"),
        (&[("WORLD_SIZE", "2"), ("RANK", "2")], "RANK=2 is outside WORLD_SIZE=2"),
        (&[("WORLD_SIZE", "two"), ("RANK", "0")], "WORLD_SIZE='two'"),
    ];
    for (vars, expected) in cases {
        let mut all = base.to_vec();
        all.extend_from_slice(vars);
        let out = check_with_env(&all);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains(expected), "{expected}: {}", stderr(&out));
    }
    let out = check_with_env(&[("WORLD_SIZE", "2"), ("RANK", "1")]);
    assert!(stderr(&out).contains("MASTER_ADDR is not set"), "{}", stderr(&out));
}

#[test]
fn an_unreachable_master_fails_after_the_timeout() {
    // A port nobody listens on: rank 1 retries until its 2 s timeout, then says where it
    // looked.
    let port = free_port().unwrap().to_string();
    let start = Instant::now();
    let out = check_with_env(&[
        ("MASTER_ADDR", "127.0.0.1"),
        ("MASTER_PORT", &port),
        ("WORLD_SIZE", "2"),
        ("RANK", "1"),
        ("GRAFT_DIST_TIMEOUT_SECS", "2"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let msg = stderr(&out);
    assert!(
        msg.contains(&format!("rank 1 connecting to the TCPStore at 127.0.0.1:{port}")),
        "{msg}"
    );
    assert!(!msg.contains("frame #"), "C++ backtrace leaked: {msg}");
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn a_single_rank_group_runs_collectives_and_reports_bad_tensors() {
    let env = DistEnv {
        master_addr: "127.0.0.1".into(),
        master_port: free_port().unwrap(),
        world_size: 1,
        rank: 0,
        local_rank: 0,
        timeout: Duration::from_secs(30),
        gloo_ifname: None,
    };
    let pg = ProcessGroup::new(Backend::Gloo, &env).unwrap();
    assert_eq!((pg.rank(), pg.world_size(), pg.backend()), (0, 1, Backend::Gloo));
    let t = Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
    pg.all_reduce_sum(std::slice::from_ref(&t)).unwrap();
    pg.all_reduce_mean(std::slice::from_ref(&t)).unwrap();
    pg.broadcast(std::slice::from_ref(&t), 0).unwrap();
    pg.barrier().unwrap();
    assert_eq!(Vec::<f32>::try_from(&t).unwrap(), vec![1.0, 2.0, 3.0]);
    // C++ exceptions come back as errors, never as an abort.
    let strided = Tensor::arange(6, (Kind::Float, tch::Device::Cpu)).view([2, 3]).transpose(0, 1);
    let err = pg.all_reduce_sum(&[strided]).unwrap_err().to_string();
    assert!(err.contains("not contiguous"), "{err}");
    let err = pg.broadcast(std::slice::from_ref(&t), 1).unwrap_err().to_string();
    assert!(err.contains("root 1 is outside world size 1"), "{err}");
}

#[test]
fn nccl_without_cuda_is_a_clear_error() {
    // The CPU libtorch has no libtorch_cuda.so: the NCCL backend says so and how to get it
    // (while Gloo works with the same one-rank environment).
    if std::env::var_os("LD_LIBRARY_PATH").is_some_and(|p| p.to_string_lossy().contains("torch")) {
        return; // a CUDA libtorch may be in use: the error would be a different one
    }
    let port = free_port().unwrap().to_string();
    let out = check_with_env(&[
        ("MASTER_ADDR", "127.0.0.1"),
        ("MASTER_PORT", &port),
        ("WORLD_SIZE", "1"),
        ("RANK", "0"),
        ("GRAFT_DIST_TIMEOUT_SECS", "20"),
    ]);
    assert_ok(&out, "single-rank gloo check");
    let mut cmd = Command::new(GRAFT);
    cmd.args(["dist", "check", "--steps", "1", "--backend", "nccl"])
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", free_port().unwrap().to_string())
        .env("WORLD_SIZE", "1")
        .env("RANK", "0")
        .env("GRAFT_DIST_TIMEOUT_SECS", "20");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("NCCL backend unavailable"), "{}", stderr(&out));
}

// ---- The pretraining trainer and `graft run --nproc`, data-parallel ----

/// CartPole-v1 expert transitions (200 of them): behaviour cloning on them is deterministic
/// (no augmentation, no dropout) and its loss is a mean over independent items, so the
/// data-parallel step must equal one process's step on the combined batch.
fn cartpole() -> &'static Path {
    static P: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        use graft::data::{collect, CollectConfig, PolicySpec};
        let mut cfg = CollectConfig::new("CartPole-v1", tmp("cartpole.arrow"));
        (cfg.policy, cfg.episodes, cfg.seed, cfg.workers) = (PolicySpec::Heuristic, 4, 3, 1);
        cfg.kwargs.insert("max_episode_steps".into(), graft::envs::Value::Int(50));
        collect(&cfg, &mut |_, _| {}).unwrap().path
    })
}

const MLP: &str = r#"{"kind": "mlp", "input_dim": 4, "hidden": [32], "activation": "tanh"}"#;

/// A constant learning rate, so a run resumed with more steps than it was started with
/// follows the same schedule as a straight one.
fn constant_schedule() -> PathBuf {
    let p = tmp("pretrain-constant.json");
    std::fs::write(
        &p,
        r#"{"task": {"task": "behaviour_cloning"}, "trainer": {"schedule": {"kind": "constant"}}}"#,
    )
    .unwrap();
    p
}

/// `graft pretrain` behaviour cloning into `out`: alone (`nproc` 1) or under `graft launch`.
fn pretrain(nproc: usize, out: &Path, batch: usize, steps: u64, extra: &[&str]) -> Output {
    let (batch, steps) = (batch.to_string(), steps.to_string());
    let cfg = constant_schedule();
    let mut args: Vec<&str> = vec!["--threads", "1", "--device", "cpu", "pretrain"];
    args.extend_from_slice(&["--config", cfg.to_str().unwrap()]);
    args.extend_from_slice(&["--data", cartpole().to_str().unwrap(), "--model", MLP]);
    args.extend_from_slice(&["--steps", &steps, "--batch", &batch, "--log-every", "2"]);
    args.extend_from_slice(&[
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
        "--max-grad-norm",
        "0.5",
        "--quiet",
    ]);
    args.extend_from_slice(&["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let mut cmd = Command::new(GRAFT);
    if nproc > 1 {
        cmd.args(["launch", "--nproc", &nproc.to_string(), "--"]);
    }
    cmd.args(&args).env("GRAFT_DIST_TIMEOUT_SECS", "60").output().expect("graft runs")
}

fn fresh(name: &str) -> PathBuf {
    let d = tmp(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn losses(dir: &Path) -> Vec<(u64, f64)> {
    let rows = graft::report::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    rows.iter().filter(|r| r.tag == "loss").map(|r| (r.step, r.value)).collect()
}

#[test]
fn pretraining_on_two_ranks_steps_like_one_process_on_the_combined_batch() {
    let (one, two, half) = (fresh("pt-one"), fresh("pt-two"), fresh("pt-half"));
    assert_ok(&pretrain(1, &one, 16, 6, &[]), "single-process pretraining");
    let out = pretrain(2, &two, 16, 6, &[]);
    assert_ok(&out, "2-rank pretraining");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("[rank 0] steps       6"), "{stdout}");
    assert!(!stdout.contains("[rank 1] steps"), "rank 1 reported too: {stdout}");
    // Parameters, momentum buffers and the exported encoder: the same step as one process.
    let ckpt = |d: &Path| d.join("checkpoint.safetensors");
    let d = max_diff(&ckpt(&one), &ckpt(&two));
    assert!(d <= 1e-6, "2 ranks differ from one process on the combined batch by {d}");
    let d = max_diff(&one.join("encoder.safetensors"), &two.join("encoder.safetensors"));
    assert!(d <= 1e-6, "exported encoders differ by {d}");
    // The logged loss is the mean over the ranks, i.e. the combined batch's loss.
    let (l1, l2) = (losses(&one), losses(&two));
    assert_eq!(l1.len(), l2.len());
    for ((s1, a), (s2, b)) in l1.iter().zip(&l2) {
        assert_eq!(s1, s2);
        assert!((a - b).abs() <= 1e-5, "step {s1}: loss {a} alone, {b} on 2 ranks");
    }
    // Rank 0 alone wrote the run directory: the same files as one process, one event file.
    let files = listing(&two);
    assert_eq!(files.len(), listing(&one).len(), "{files:?}");
    assert_eq!(files.iter().filter(|f| f.starts_with("events.out.tfevents.")).count(), 1);
    // The tolerance discriminates: one process on a rank's share of the batch ends elsewhere.
    assert_ok(&pretrain(1, &half, 8, 6, &[]), "single-process pretraining, half batch");
    let d_half = max_diff(&ckpt(&one), &ckpt(&half));
    assert!(d_half > 1e-4, "half the batch is indistinguishable ({d_half})");
}

#[test]
fn pretraining_resumes_with_the_same_world_size_and_refuses_another() {
    let (straight, resumed) = (fresh("pt-straight"), fresh("pt-resumed"));
    assert_ok(&pretrain(2, &straight, 16, 8, &[]), "straight 2-rank run");
    assert_ok(&pretrain(2, &resumed, 16, 4, &[]), "first half");
    assert_ok(&pretrain(2, &resumed, 16, 8, &["--resume"]), "resumed half");
    let ckpt = |d: &Path| d.join("checkpoint.safetensors");
    let d = max_diff(&ckpt(&straight), &ckpt(&resumed));
    assert!(d <= 1e-6, "resumed run differs from the straight one by {d}");
    let steps: Vec<u64> = losses(&resumed).iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, vec![2, 4, 6, 8], "metrics of both halves, once each");
    // One process cannot continue a 2-rank run (the data shards would differ).
    let out = pretrain(1, &resumed, 16, 10, &["--resume"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("written by a job of 2 process(es), resumed with 1"),
        "{}",
        stderr(&out)
    );
    // A batch the ranks cannot share equally is refused.
    let out = pretrain(2, &fresh("pt-odd"), 15, 2, &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("must be a multiple of"), "{}", stderr(&out));
}

const SCRIPT: &str = r#"
let data = param("data", "");
let r = pretrain::run(#{
    task: #{task: "behaviour_cloning"},
    data: #{path: data},
    model: #{kind: "mlp", input_dim: 4, hidden: [32], activation: "tanh"},
    device: "cpu",
    trainer: #{steps: 6, batch_size: 16, log_every: 2, progress: false,
               optimizer: #{kind: "sgd", lr: 0.1, momentum: 0.9},
               schedule: #{kind: "constant"}},
});
print(`pretrained ${r.steps} steps`);
report::log("final_loss", r.final_loss);
"#;

/// `graft run [--nproc N] tiny.rhai` in `cwd`, without `--out` (the default run dir).
fn run_script(cwd: &Path, nproc: usize) -> Output {
    std::fs::create_dir_all(cwd).unwrap();
    let script = cwd.join("tiny.rhai");
    std::fs::write(&script, SCRIPT).unwrap();
    let data = format!("data={}", cartpole().display());
    let mut cmd = Command::new(GRAFT);
    cmd.current_dir(cwd).args(["--threads", "1", "run", "tiny.rhai", "--set", &data]);
    if nproc > 1 {
        cmd.args(["--nproc", &nproc.to_string()]);
    }
    cmd.env("GRAFT_DIST_TIMEOUT_SECS", "60").output().expect("graft run runs")
}

/// The only run directory under `cwd/runs`.
fn only_run(cwd: &Path) -> PathBuf {
    let runs = listing(&cwd.join("runs"));
    assert_eq!(runs.len(), 1, "expected exactly one run directory: {runs:?}");
    cwd.join("runs").join(&runs[0])
}

#[test]
fn graft_run_nproc_writes_one_run_directory_from_rank_zero() {
    let (alone, two) = (fresh("run-alone"), fresh("run-two"));
    assert_ok(&run_script(&alone, 1), "graft run");
    let out = run_script(&two, 2);
    assert_ok(&out, "graft run --nproc 2");
    let run = only_run(&two);
    // The launcher prints the run directory it picked for every rank.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().last().is_some_and(|l| run.ends_with(l)), "{stdout}");
    // Rank 0 wrote what one process writes, and nothing twice (event files are named by
    // the writer's pid).
    let names = |d: &Path| -> Vec<String> {
        listing(d)
            .into_iter()
            .map(|f| if f.starts_with("events.out.tfevents.") { "events".into() } else { f })
            .collect()
    };
    assert_eq!(names(&run), names(&only_run(&alone)));
    let log = std::fs::read_to_string(run.join("run.log")).unwrap();
    assert_eq!(log.matches("pretrained 6 steps").count(), 1, "{log}");
    assert!(stderr(&out).contains("[rank 1] pretrained 6 steps"), "rank 1 did not run it");
    let final_loss = graft::report::read_metrics_csv(&run.join("metrics.csv")).unwrap();
    assert_eq!(final_loss.iter().filter(|r| r.tag == "final_loss").count(), 1);
    // The pretraining stage ran data-parallel: the single-process encoder within 1e-6.
    let enc = |d: &Path| d.join("pretrain").join("encoder.safetensors");
    let d = max_diff(&enc(&only_run(&alone)), &enc(&run));
    assert!(d <= 1e-6, "the 2-rank script's encoder differs by {d}");
}

const FINETUNE: &str = r#"
let set = data::blobs(#{n: 64, dim: 4, classes: 3});
let m = model::build(#{kind: "mlp", input_dim: 4, hidden: [16]});
let r = finetune::run(m, set, #{head: 3, epochs: 2, batch_size: param("batch", 15),
    optimizer: #{kind: "sgd", lr: 0.1, momentum: 0.9}, max_grad_norm: 1.0});
print(`finetuned ${r.steps} steps`);
model::save(m, "final.safetensors");
"#;

/// `graft run [--nproc N] finetune.rhai --set batch=B --out out`.
fn finetune(nproc: usize, out: &Path, batch: usize) -> Output {
    let script = tmp("finetune.rhai");
    std::fs::write(&script, FINETUNE).unwrap();
    let batch = format!("batch={batch}");
    let mut cmd = Command::new(GRAFT);
    cmd.args(["--threads", "1", "run", script.to_str().unwrap(), "--set", &batch, "--quiet"]);
    cmd.args(["--out", out.to_str().unwrap(), "--nproc", &nproc.to_string()]);
    cmd.env("GRAFT_DIST_TIMEOUT_SECS", "60").output().expect("graft run runs")
}

#[test]
fn fine_tuning_on_two_ranks_steps_like_one_process_even_with_uneven_batches() {
    // 51 training items (13 held out): batches of 15 end with 6 (3 + 3 per rank, the full
    // ones split 8 + 7); batches of 10 end with 1, which rank 1 has no share of.
    for batch in [15, 10] {
        let (one, two) = (fresh(&format!("ft-one-{batch}")), fresh(&format!("ft-two-{batch}")));
        assert_ok(&finetune(1, &one, batch), "single-process fine-tuning");
        assert_ok(&finetune(2, &two, batch), "2-rank fine-tuning");
        for file in ["final.safetensors", "checkpoint.safetensors"] {
            let d = max_diff(&one.join(file), &two.join(file));
            assert!(d <= 1e-6, "batch {batch}: {file} differs from one process by {d}");
        }
        let (l1, l2) = (losses_tagged(&one, "val/loss"), losses_tagged(&two, "val/loss"));
        assert_eq!(l1.len(), 2);
        assert!(l1.iter().zip(&l2).all(|(a, b)| (a - b).abs() <= 1e-5), "{l1:?} vs {l2:?}");
    }
    let half = fresh("ft-half");
    assert_ok(&finetune(1, &half, 8), "single-process fine-tuning, smaller batch");
    let d = max_diff(&tmp("ft-one-15").join("final.safetensors"), &half.join("final.safetensors"));
    assert!(d > 1e-4, "another batch size is indistinguishable ({d})");
}

fn losses_tagged(dir: &Path, tag: &str) -> Vec<f64> {
    let rows = graft::report::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    rows.iter().filter(|r| r.tag == tag).map(|r| r.value).collect()
}
