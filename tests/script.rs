//! `graft run` and scripts end to end: run directories and `--set`, the import sandbox,
//! malformed scripts — each must give a located error and exit status 1, never a panic, and
//! leave the last checkpoint intact — and training hooks from scripts. The script modules
//! (pretraining, fine-tuning, RL, probes, reports) are in tests/script_modules.rs, the schedule
//! library's tables in tests/script_schedules.rs.

use graft::models::Checkpoint;

mod script_common;
use script_common::*;

#[test]
fn malformed_scripts_give_located_errors() {
    fails_at("syntax", "let a = 1;\nlet x = ;\n", "2:9", "Syntax error", &[]);
    fails_at("runtime", "let a = 1;\n\nlet b = a / 0;\n", "3:11", "Division by zero", &[]);
    fails_at("throw", "fn f(x) {\n  throw `bad ${x}`;\n}\nf(3);\n", "2:3", "bad 3", &[]);
    fails_at(
        "infinite",
        "let i = 0;\nloop { i += 1; }\n",
        "2:",
        "Too many operations",
        &["--max-operations", "100000"],
    );
    fails_at(
        "unknown_fn",
        "let a = 1;\nfrobnicate(a);\n",
        "2:1",
        "Function not found: frobnicate",
        &[],
    );
    fails_at(
        "wrong_type",
        "let d = data::blobs(3);\n",
        "1:15",
        "Function not found: data::blobs (i64)",
        &[],
    );
    fails_at(
        "log_in_hook",
        "let m = model::build(#{kind: \"mlp\", input_dim: 4, hidden: [8]});\nlet set = data::blobs(#{n: 32, dim: 4, classes: 2});\nfinetune::run(m, set, #{head: 2, epochs: 1,\n  hooks: #{on_epoch_start: |ctx| report::log(\"x\", 1.0)}});\n",
        "4:42",
        "cannot write metrics while training runs",
        &[],
    );
    fails_at(
        "hook_typo",
        "let m = model::build(#{kind: \"mlp\", input_dim: 4, hidden: [8]});\nlet set = data::blobs(#{n: 32, dim: 4, classes: 2});\nfinetune::run(m, set, #{head: 2, hooks: #{on_epoc_start: |ctx| ()}});\n",
        "3:11",
        "unknown hook 'on_epoc_start'",
        &[],
    );
    fails_at(
        "bad_config",
        "let m = model::build(#{kind: \"mlp\", widht: 3});\n",
        "1:16",
        "unknown field `widht`",
        &[],
    );
}

#[test]
fn a_hook_that_throws_mid_training_leaves_the_last_checkpoint() {
    let script = r#"let m = model::build(#{kind: "mlp", input_dim: 4, hidden: [8]});
let set = data::blobs(#{n: 64, dim: 4, classes: 3});
finetune::run(m, set, #{
    head: "auto", epochs: 4, batch_size: 16, checkpoint_every: 4,
    hooks: #{ on_epoch_start: |ctx| {
        if ctx.epoch == 2 {
            throw "schedule failed";
        }
    } },
});
"#;
    let run = fails_at("hook_throws", script, "7:13", "schedule failed", &[]);
    let ckpt = Checkpoint::read(run.join("checkpoint.safetensors")).unwrap();
    // Written after epoch index 1 (every 4 steps, an epoch): 2 epochs of ceil(52/16) = 4 steps
    // (64 examples, 20% held out).
    assert_eq!(ckpt.meta.step, Some(8));
    assert!(ckpt.tensors.keys().any(|k| k.starts_with("head.")));
}

#[test]
fn run_directory_params_and_overrides() {
    let dir = tmp_dir("params");
    let path = write(
        &dir,
        "p.rhai",
        "let lr = param(\"lr\", 3e-4);\nlet n = param(\"epochs\", 2);\nlet name = param(\"name\", \"x\");\nprint(`lr=${lr} n=${n} name=${name}`);\nif false { param(\"late\", true); }\nreport::write(\"notes.md\", \"# hi\");\n",
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&[
        "run",
        &path,
        "--out",
        &out,
        "--quiet",
        "--set",
        "lr=0.01",
        "--set",
        "epochs=5",
        "--set",
        "late=false",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("warning: --set late was never read"), "{stderr}");
    let run = dir.join("run");
    let log = std::fs::read_to_string(run.join("run.log")).unwrap();
    assert!(log.contains("lr=0.01 n=5 name=x"), "{log}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["params"]["lr"], 0.01);
    assert_eq!(config["params"]["epochs"], 5);
    assert_eq!(config["params"]["name"], "x");
    assert_eq!(config["overrides"]["late"], "false");
    assert!(run.join("p.rhai").exists());
    assert_eq!(std::fs::read_to_string(run.join("notes.md")).unwrap(), "# hi");
    // A run directory is never reused.
    let o = graft(&["run", &path, "--out", &out, "--quiet"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already holds a run"));

    // Wrong type, and a key the script never declares: errors naming the parameter.
    let out2 = dir.join("run2").display().to_string();
    let o = graft(&["run", &path, "--out", &out2, "--quiet", "--set", "epochs=2.5"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("parameter 'epochs' is an integer"), "{e}");
    let out3 = dir.join("run3").display().to_string();
    let o = graft(&["run", &path, "--out", &out3, "--quiet", "--set", "learning_rate=1"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains(
            "never reads a parameter 'learning_rate'; its parameters are: lr, epochs, name, late"
        ),
        "{e}"
    );
}

#[test]
fn imports_are_confined() {
    let dir = tmp_dir("imports");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write(&dir.join("sub"), "helper.rhai", "fn twice(x) { 2 * x }\n");
    write(&dir, "secret.rhai", "fn leak() { 1 }\n");
    let ok = write(
        &dir.join("sub"),
        "main.rhai",
        "import \"helper\" as h;\nimport \"schedules\" as s;\nprint(h::twice(21));\n",
    );
    let out = dir.join("run-ok").display().to_string();
    let o = graft(&["run", &ok, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read_to_string(dir.join("run-ok/run.log")).unwrap().contains("42"));

    fails_at("escape", "import \"../secret\" as s;\n", "1:8", "'..' and '.' are not allowed", &[]);
    fails_at("absolute", "import \"/etc/passwd\" as s;\n", "1:8", "is absolute", &[]);
    fails_at("missing", "\nimport \"nothing_here\" as s;\n", "2:8", "not found", &[]);
    // An error inside an imported module points into that module.
    let dir = tmp_dir("modfail");
    write(&dir, "broken.rhai", "fn f() { 1 }\nlet = 2;\n");
    let main = write(&dir, "main.rhai", "import \"broken\" as b;\n");
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &main, "--out", &out, "--quiet"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("broken.rhai:2:"), "{e}");
}

#[test]
fn example_scripts_run_on_a_tiny_budget() {
    let dir = tmp_dir("examples");
    let out = dir.join("strategies").display().to_string();
    let o = graft(&[
        "run",
        "scripts/examples/finetune_strategies.rhai",
        "--out",
        &out,
        "--quiet",
        "--set",
        "epochs=2",
        "--set",
        "examples=128",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = dir.join("strategies");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    for k in ["feature_extraction", "full", "select_layers"] {
        let acc = results[k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{k}: {acc}");
    }
    let metrics = graft::report::read_metrics_csv(&run.join("metrics.csv")).unwrap();
    assert!(metrics.iter().any(|r| r.tag == "target/full/accuracy"));
    assert!(metrics.iter().any(|r| r.tag == "lr/head"));
    assert!(run.join("checkpoint.safetensors").exists());
    assert!(run.join("summary.md").exists());
}

#[test]
fn lora_from_a_script_merges_back_into_plain_weights() {
    let dir = tmp_dir("lora");
    let script = write(
        &dir,
        "lora.rhai",
        r#"let m = model::build(#{kind: "vit", image_size: 8, patch_size: 4, depth: 2, width: 16,
    heads: 2, mlp_ratio: 2.0, num_classes: ()});
let set = data::blobs(#{n: 32, dim: 192, classes: 3, shape: [3, 8, 8]});
let r = finetune::run(m, set, #{
    head: "auto", epochs: 1, batch_size: 16,
    strategy: #{kind: "feature_extraction"},
    lora: #{rank: 2, alpha: 4.0, targets: ["*mlp.*"]},
});
print(`groups ${r.groups.map(|g| g.name)}`);
model::save(m, "merged.safetensors");
"#,
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &script, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = std::fs::read_to_string(dir.join("run/run.log")).unwrap();
    assert!(log.contains("LoRA updates merged"), "{log}");
    assert!(log.contains("\"lora\"]"), "{log}");
    let ckpt = Checkpoint::read(dir.join("run/merged.safetensors")).unwrap();
    assert!(ckpt.tensors.keys().all(|k| !k.starts_with("lora")), "adapters left in the checkpoint");
    assert!(ckpt.tensors.contains_key("head.weight"));
}

#[test]
fn hooks_stop_early_save_checkpoints_and_set_group_rates() {
    let dir = tmp_dir("hookctl");
    let script = write(
        &dir,
        "h.rhai",
        r#"import "schedules" as s;
let m = model::build(#{kind: "mlp", input_dim: 4, hidden: [8, 8]});
let set = data::blobs(#{n: 64, dim: 4, classes: 2});
let seen = [];
let r = finetune::run(m, set, #{
    head: "auto", epochs: 10, batch_size: 16, checkpoint_every: 0,
    optimizer: #{kind: "sgd", lr: 0.1},
    hooks: #{
        on_epoch_start: |ctx| s::layerwise_lr_decay(ctx, 0.1, 0.5),
        on_step: |ctx| seen.push(ctx.step),
        step_every: 2,
        on_eval: |ctx, metrics| {
            if metrics.contains("val/loss") && ctx.metric("train/epoch_loss") != () && ctx.epoch == 2 {
                ctx.save_checkpoint();
                ctx.stop();
            }
        },
    },
});
report::json("result.json", #{steps: r.steps, stopped: r.stopped_early, seen: seen,
    lrs: r.groups.map(|g| g.lr), checkpoint: r.checkpoint != ()});
"#,
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &script, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/result.json")).unwrap())
            .unwrap();
    // 64 examples, 20% held out: 51 train, 4 steps per epoch; stopped after epoch index 2.
    assert_eq!(r["steps"], 12);
    assert_eq!(r["stopped"], true);
    assert_eq!(r["seen"], serde_json::json!([2, 4, 6, 8, 10, 12]));
    assert_eq!(r["lrs"], serde_json::json!([0.025, 0.05, 0.1]));
    assert_eq!(r["checkpoint"], true);
    let ckpt = Checkpoint::read(dir.join("run/checkpoint.safetensors")).unwrap();
    assert_eq!(ckpt.meta.step, Some(12));
}
