//! Data-parallel training over c10d on one machine, loopback only (127.0.0.1): two Gloo ranks
//! must step exactly as one process on the combined batch; a dead or hung rank must make the
//! others fail with a clear error within the configured timeout; bad launch environments must
//! be refused with errors naming the variable. Workers are the `graft` binary (`graft
//! launch`, `graft dist check`), so the tests exercise what users run; the trainers on
//! several ranks are tested in tests/distributed_trainers.rs.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use graft::distributed::launch::free_port;
use graft::distributed::{Backend, DistEnv, ProcessGroup};
use tch::{Kind, Tensor};

mod distributed_common;
use distributed_common::*;

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
