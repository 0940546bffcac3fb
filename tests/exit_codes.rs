//! How runs end and what they say (issue 20, item 7): a script's `exit(n)` is `graft run`'s
//! exit status, in the main script and inside training hooks; `--max-operations 0` is refused;
//! a sandbox limit hit inside a hook names the hook, the step and the call; config errors name
//! the field, from Rhai maps and from JSON. Damaged image files are in tests/images.rs.

use std::path::Path;

use graft::models::Checkpoint;
use graft::script::{run_script, RunOptions, ScriptLimits};

mod script_common;
use script_common::*;

/// Run `script` as `graft run`, returning (status, stdout, stderr, run.log).
fn run(name: &str, script: &str, extra: &[&str]) -> (Option<i32>, String, String, String) {
    let dir = tmp_dir(name);
    let path = write(&dir, "s.rhai", script);
    let out = dir.join("run").display().to_string();
    let mut args = vec!["run", path.as_str(), "--out", out.as_str(), "--quiet"];
    args.extend_from_slice(extra);
    let o = graft(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!stderr.contains("internal error"), "{name} panicked: {stderr}");
    let log = std::fs::read_to_string(dir.join("run/run.log")).unwrap_or_default();
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), stderr, log)
}

fn script_path(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("graft-script-{name}-{}", std::process::id()))
        .join("s.rhai")
        .display()
        .to_string()
}

fn exists(name: &str, rel: &str) -> bool {
    Path::new(&script_path(name)).with_file_name("run").join(rel).exists()
}

#[test]
fn exit_codes_of_the_main_script() {
    // exit(3) ends the script there and the run with status 3, saying so.
    let (code, stdout, stderr, log) =
        run("exit3", "print(\"before\");\nexit(3);\nreport::write(\"after.txt\", \"x\");\n", &[]);
    let at = format!("{}:2:1", script_path("exit3"));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains(&format!("script exited with code 3: exit(3) at {at}")), "{stderr}");
    assert!(log.contains("before") && log.contains("script exited with code 3"), "{log}");
    assert!(!log.contains("run finished"), "{log}");
    assert!(stdout.trim_end().ends_with("run"), "the run directory is still printed: {stdout}");
    assert!(!exists("exit3", "after.txt"), "the script went on after exit(3)");

    // From inside a function: the location is the exit call's.
    let (code, _, stderr, _) = run("exitfn", "fn fail() {\n  exit(42);\n}\nfail();\n", &[]);
    assert_eq!(code, Some(42), "{stderr}");
    assert!(stderr.contains(&format!("exit(42) at {}:2:3", script_path("exitfn"))), "{stderr}");

    // exit() and exit(0) are a normal end.
    for (name, call) in [("exit0", "exit(0)"), ("exitunit", "exit()")] {
        let script = format!("print(\"a\");\n{call};\nreport::write(\"after.txt\", \"x\");\n");
        let (code, _, stderr, log) = run(name, &script, &[]);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        assert!(
            log.contains("script ended by exit(0) at") && log.contains("run finished"),
            "{log}"
        );
        assert!(!exists(name, "after.txt"), "{name}: the script went on after {call}");
    }

    // A code that is not one is an error at the call, never a silent status.
    fails_at("exit300", "let a = 1;\nexit(300);\n", "2:1", "exit(300): an exit code must be", &[]);
    fails_at("exitneg", "exit(-1);\n", "1:1", "an exit code must be an integer from 0 to 255", &[]);
    fails_at("exitstr", "exit(\"done\");\n", "1:1", "got a string", &[]);
}

/// A fine-tuning run whose `on_epoch_start` hook calls `exit(code)` at epoch 2 (step 8: 64
/// examples, 20% held out, batch 16), with a line after the training call.
fn finetune_exiting(code: i64) -> String {
    format!(
        r#"let m = model::build(#{{kind: "mlp", input_dim: 4, hidden: [8]}});
let set = data::blobs(#{{n: 64, dim: 4, classes: 3}});
let r = finetune::run(m, set, #{{
    head: "auto", epochs: 4, batch_size: 16, checkpoint_every: 4,
    hooks: #{{ on_epoch_start: |ctx| {{
        if ctx.epoch == 2 {{
            exit({code});
        }}
    }} }},
}});
report::write("after.txt", "x");
"#
    )
}

#[test]
fn exit_inside_a_hook_ends_the_run_with_its_code() {
    // exit(4) aborts training and ends the run with status 4, naming the hook and step.
    let (code, _, stderr, log) = run("hookexit4", &finetune_exiting(4), &[]);
    let at = format!("{}:7:13", script_path("hookexit4"));
    assert_eq!(code, Some(4), "{stderr}");
    let want =
        format!("script exited with code 4: exit(4) at {at}, in hook on_epoch_start at step 8");
    assert!(stderr.contains(&want), "{stderr}");
    assert!(log.contains(&want), "{log}");
    assert!(!exists("hookexit4", "after.txt"), "the script went on after exit(4) in a hook");
    // Training stopped there: the last checkpoint is the one written after epoch index 1
    // (every 4 steps, an epoch).
    let ckpt = Checkpoint::read(
        Path::new(&script_path("hookexit4")).with_file_name("run/checkpoint.safetensors"),
    )
    .unwrap();
    assert_eq!(ckpt.meta.step, Some(8));

    // exit(0) stops training successfully, then ends the script: status 0.
    let (code, _, stderr, log) = run("hookexit0", &finetune_exiting(0), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        log.contains("script ended by exit(0) at")
            && log.contains("in hook on_epoch_start at step 8")
            && log.contains("run finished"),
        "{log}"
    );
    assert!(!exists("hookexit0", "after.txt"), "the script went on after exit(0) in a hook");
    let ckpt = Checkpoint::read(
        Path::new(&script_path("hookexit0")).with_file_name("run/checkpoint.safetensors"),
    )
    .unwrap();
    assert_eq!(ckpt.meta.step, Some(8), "training went on after exit(0)");
}

#[test]
fn zero_operations_is_refused_not_unlimited() {
    // The CLI refuses it as a usage error, with the valid range (a finite script, so that
    // accepting 0 shows as a pass instead of running forever).
    let (code, _, stderr, _) =
        run("ops0", "let i = 0;\nwhile i < 10 { i += 1; }\n", &["--max-operations", "0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--max-operations") && stderr.contains("at least 1"), "{stderr}");
    // Library users get the same refusal before anything runs.
    let limits = ScriptLimits { max_operations: 0, ..ScriptLimits::default() };
    let e = limits.validate().unwrap_err().to_string();
    assert!(e.contains("max_operations") && e.contains("at least 1"), "{e}");
    let e = ScriptLimits { max_map_size: 0, ..ScriptLimits::default() }.validate().unwrap_err();
    assert!(e.to_string().contains("max_map_size"), "{e}");
    assert!(ScriptLimits { max_operations: 1, ..ScriptLimits::default() }.validate().is_ok());
    let dir = tmp_dir("ops0lib");
    let script = write(&dir, "s.rhai", "let i = 0;\nwhile i < 10 { i += 1; }\n");
    let options = RunOptions {
        script: script.into(),
        out: Some(dir.join("run")),
        overrides: Default::default(),
        seed: 0,
        device: tch::Device::Cpu,
        limits,
        echo: false,
    };
    let e = run_script(&options).unwrap_err().to_string();
    assert!(e.contains("at least 1"), "{e}");
    assert!(!dir.join("run").exists(), "a run directory was made for a refused run");
}

#[test]
fn limits_hit_inside_hooks_name_the_hook() {
    let setup = "let m = model::build(#{kind: \"mlp\", input_dim: 4, hidden: [8]});\nlet set = data::blobs(#{n: 32, dim: 4, classes: 2});\n";
    // An endless loop in a closure hook: the call that ran it, the hook, the step, the limit.
    let script = format!(
        "{setup}finetune::run(m, set, #{{head: 2, epochs: 1,\n  hooks: #{{on_step: |ctx| {{ let i = 0; loop {{ i += 1; }} }}}}}});\n"
    );
    let (code, _, stderr, log) = run("hookloop", &script, &["--max-operations", "200000"]);
    let path = script_path("hookloop");
    assert_eq!(code, Some(1), "{stderr}");
    for want in [
        format!("{path}:3:11: Too many operations"),
        "inside hook on_step".to_string(),
        "200000 operations".to_string(),
        format!("call stack (innermost last): hook on_step (closure) at step 1 @ {path}:3:11"),
    ] {
        assert!(stderr.contains(&want), "expected '{want}' in: {stderr}");
        assert!(log.contains(&want), "expected '{want}' in run.log: {log}");
    }
    // The same in a named function given as the hook, with the training call inside another
    // function: the hook's frame names the function.
    let script = format!(
        "fn spin(ctx) {{\n  while true {{}}\n}}\n{setup}fn train(m, set) {{\n  finetune::run(m, set, #{{head: 2, epochs: 1, hooks: #{{on_epoch_start: Fn(\"spin\")}}}});\n}}\ntrain(m, set);\n"
    );
    let (code, _, stderr, _) = run("hookfn", &script, &["--max-operations", "200000"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("inside hook on_epoch_start")
            && stderr.contains("hook on_epoch_start (fn spin) at step 0"),
        "{stderr}"
    );
    // A hook's own error keeps its innermost location and gains the hook's frame.
    let script = format!(
        "{setup}finetune::run(m, set, #{{head: 2, epochs: 1,\n  hooks: #{{on_step: |ctx| throw \"no\"}}}});\n"
    );
    let run_dir = fails_at("hookthrow", &script, "4:27", "no", &[]);
    let log = std::fs::read_to_string(run_dir.join("run.log")).unwrap();
    assert!(log.contains("hook on_step (closure) at step 1 @"), "{log}");
}

#[test]
fn config_errors_name_the_field() {
    let setup = "let m = model::build(#{kind: \"mlp\", input_dim: 4, hidden: [8]});\nlet set = data::blobs(#{n: 32, dim: 4, classes: 2});\n";
    fails_at(
        "cfg_finetune",
        &format!("{setup}finetune::run(m, set, #{{head: 2, batch_size: -3}});\n"),
        "3:11",
        "finetune config: field 'batch_size': invalid value: integer `-3`, expected usize",
        &[],
    );
    fails_at(
        "cfg_pretrain",
        "pretrain::run(#{task: #{task: \"rotation\"}, trainer: #{batch_size: -3}});\n",
        "1:11",
        "pretrain config: field 'trainer.batch_size': invalid value: integer `-3`",
        &[],
    );
    fails_at(
        "cfg_type",
        &format!("{setup}finetune::run(m, set, #{{head: 2, optimizer: #{{kind: \"adam\", lr: \"fast\"}}}});\n"),
        "3:11",
        "field 'optimizer.lr': invalid type: string",
        &[],
    );
    // A NaN reaches the agent's config as a NaN (not `null`) and its validation refuses it.
    let (code, _, stderr, _) = run(
        "cfg_nan",
        "rl::train(#{algo: \"ppo\", env: \"CartPole-v1\", config: #{learning_rate: parse_float(\"NaN\"), total_timesteps: 512}});\n",
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("learning_rate") && !stderr.contains("null"), "{stderr}");
    let (code, _, stderr, _) = run(
        "cfg_rl",
        "rl::train(#{algo: \"dqn\", env: \"CartPole-v1\", config: #{buffer_size: -1}});\n",
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("rl::train dqn config: field 'buffer_size'"), "{stderr}");
    // A NaN default of a parameter is refused (config.json would record it as null).
    fails_at("param_nan", "let x = param(\"x\", parse_float(\"NaN\"));\n", "1:9", "finite", &[]);

    // JSON from the command line.
    let o = graft(&[
        "rl",
        "train",
        "--algo",
        "ppo",
        "--env",
        "CartPole-v1",
        "--config",
        r#"{"num_envs": -3}"#,
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("ppo config from --config: field 'num_envs': invalid value: integer `-3`"),
        "{stderr}"
    );
    let dir = tmp_dir("cfg_json");
    let cfg =
        write(&dir, "p.json", r#"{"task": {"task": "rotation"}, "trainer": {"batch_size": -3}}"#);
    let o = graft(&["pretrain", "--config", &cfg, "--out", &dir.join("out").display().to_string()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pretrain config: field 'trainer.batch_size'"), "{stderr}");
}
