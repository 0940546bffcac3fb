//! The trainers on several ranks, over c10d on one machine (loopback only): pretraining
//! under `graft launch` and fine-tuning and scripts under `graft run --nproc 2` must step as
//! one process on the combined batch, with rank 0 alone writing the run, and resume exactly
//! with the same world size. The c10d layer itself is tested in tests/distributed.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod distributed_common;
use distributed_common::*;

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
