//! The script modules from real scripts, through `graft run`: the env registry, behaviour
//! cloning from collected data, fine-tuning on an image folder, pretraining then fine-tuning
//! then RL from one script, probes, reports and plots, and thread settings.

use std::path::Path;
use std::process::Command;

use tch::Device;

mod support;
use support::python;
mod script_common;
use script_common::*;

#[test]
fn env_module_describes_the_registry() {
    let dir = tmp_dir("env");
    let script = write(
        &dir,
        "e.rhai",
        r#"let ids = env::list();
let cp = env::make("CartPole-v1");
report::json("env.json", #{has_cartpole: ids.contains("CartPole-v1"),
    spec: env::spec("CartPole-v1"), action: cp.action_space});
env::make("NoSuchEnv-v0");
"#,
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &script, "--out", &out, "--quiet"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains(&format!("{script}:5:6")), "{e}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/env.json")).unwrap()).unwrap();
    assert_eq!(r["has_cartpole"], true);
    assert_eq!(r["spec"]["max_episode_steps"], 500);
    assert_eq!(r["action"], "Discrete(2)");
}

#[test]
fn behaviour_cloning_from_collected_data() {
    let dir = tmp_dir("bc");
    let script = write(
        &dir,
        "bc.rhai",
        r#"let ds = data::collect(#{env: "CartPole-v1", policy: "heuristic", episodes: 2, seed: 3});
let info = data::info(ds);
let set = data::behaviour_cloning(ds);
let m = model::build(#{kind: "mlp", input_dim: 4, hidden: [16]});
let r = finetune::run(m, set, #{head: set.output_dim, epochs: 2, batch_size: 64});
report::json("bc.json", #{transitions: info.transitions, task: set.task, classes: set.output_dim,
    accuracy: r.metrics["val/accuracy"]});
"#,
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &script, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/bc.json")).unwrap()).unwrap();
    assert!(r["transitions"].as_i64().unwrap() > 100, "{r}");
    assert_eq!(r["task"], "classification");
    assert_eq!(r["classes"], 2);
    assert!(dir.join("run/data/CartPole-v1-heuristic.arrow").exists());
}

#[test]
fn fine_tuning_on_an_image_folder() {
    let dir = tmp_dir("imgs");
    let root = dir.join("shapes");
    for (class, level) in [("dark", 40u8), ("light", 210u8)] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..12u32 {
            let img = image::RgbImage::from_fn(8, 8, |x, y| {
                let v = level.wrapping_add(((x * 7 + y * 3 + i * 5) % 23) as u8);
                image::Rgb([v, v / 2, 255 - v])
            });
            img.save(root.join(class).join(format!("{i}.png"))).unwrap();
        }
    }
    let script = write(
        &dir,
        "img.rhai",
        &format!(
            r#"let set = data::images("{}");
let small = data::take(set, 0.5, 1);
let m = model::build(#{{kind: "resnet", layers: [1, 1, 1, 1], base_width: 4, stem: "cifar",
    num_classes: ()}});
let r = finetune::run(m, set, #{{head: "auto", epochs: 3, batch_size: 8,
    strategy: #{{kind: "select_layers", groups: ["layer4"], top: 1}},
    optimizer: #{{kind: "adam", lr: 1e-2}}}});
report::json("img.json", #{{n: set.len, half: small.len, classes: set.output_dim,
    frozen: r.groups.filter(|g| g.frozen).map(|g| g.name), accuracy: r.metrics["val/accuracy"]}});
"#,
            root.display()
        ),
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &script, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/img.json")).unwrap()).unwrap();
    assert_eq!(r["n"], 24);
    assert_eq!(r["half"], 12);
    assert_eq!(r["classes"], 2);
    assert_eq!(r["frozen"], serde_json::json!(["stem", "layer1", "layer2", "layer3"]));
    let acc = r["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc));
    // A folder of mixed sizes is refused with the file named.
    image::RgbImage::new(5, 5).save(root.join("dark/odd.png")).unwrap();
    let out2 = dir.join("run2").display().to_string();
    let o = graft(&["run", &script, "--out", &out2, "--quiet"]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("odd.png") && e.contains("needs one size"), "{e}");
}

#[test]
fn digits_example_runs_on_a_tiny_budget() {
    let dir = tmp_dir("digits");
    let root = dir.join("digits");
    let export = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/export-digits.py");
    let o = Command::new(python()).arg(&export).arg(&root).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.join("run").display().to_string();
    let digits = format!("digits={}", root.display());
    let o = graft(&[
        "run",
        "scripts/examples/finetune_digits.rhai",
        "--out",
        &out,
        "--quiet",
        "--set",
        &digits,
        "--set",
        "epochs=1",
        "--set",
        "width=4",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = std::fs::read_to_string(dir.join("run/run.log")).unwrap();
    assert!(log.contains("digits: 1797 images, 10 classes"), "{log}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/results.json")).unwrap())
            .unwrap();
    for k in ["feature_extraction", "full", "select_layers"] {
        assert!(r[k].as_f64().is_some(), "{k} missing: {r}");
    }
}

#[test]
fn pretrain_then_finetune_then_rl_from_one_script() {
    let dir = tmp_dir("chain");
    let script = write(
        &dir,
        "chain.rhai",
        r#"let ds = data::collect(#{env: "CartPole-v1", policy: "heuristic", episodes: 2, seed: 1});
let stops = [];
let p = pretrain::run(#{
    task: #{task: "inverse_dynamics"},
    data: #{path: ds.path},
    model: #{kind: "mlp", input_dim: 4, hidden: [16]},
    trainer: #{steps: 6, batch_size: 32, log_every: 2, progress: false},
    device: "cpu",
    hooks: #{on_eval: |ctx, m| if ctx.step >= 4 { stops.push(ctx.step); ctx.stop(); }},
});
let m = model::load_encoder(p.encoder);
let f = finetune::run(m, data::behaviour_cloning(ds), #{head: 2, epochs: 1, batch_size: 64});
model::save(m, "bc.safetensors");
let r = rl::train(#{algo: "ppo", env: "CartPole-v1", eval_episodes: 2,
    config: #{total_timesteps: 512, num_envs: 2, num_steps: 64,
              torso: #{model: p.model, init_encoder: p.encoder, checkpoint_prefix: ""}}});
report::json("chain.json", #{pretrain_steps: p.steps, stopped: p.stopped_early, stops: stops,
    bc_steps: f.steps, rl_steps: r.env_steps, rl_return: r.final_return});
"#,
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &script, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/chain.json")).unwrap())
            .unwrap();
    assert_eq!(r["pretrain_steps"], 4, "{r}");
    assert_eq!(r["stopped"], true);
    assert_eq!(r["stops"], serde_json::json!([4]));
    assert!(r["bc_steps"].as_i64().unwrap() > 0);
    assert!(r["rl_steps"].as_i64().unwrap() >= 512, "{r}");
    assert!(r["rl_return"].as_f64().is_some());
    assert!(dir.join("run/pretrain/encoder.safetensors").exists());
    assert!(dir.join("run/rl-ppo").is_dir());
}

/// Issue #25: the master seed reaches every stage of a script. The same data (collected with
/// a fixed seed) pretrained under `--seed 0` twice gives identical encoders, under `--seed 1`
/// a different one; a `trainer.seed` the script sets wins over the master seed. A network the
/// script builds itself (`model::build`, before any seeded stage) follows the master seed too.
#[test]
fn the_master_seed_reaches_script_pretraining() {
    let dir = tmp_dir("seeded");
    let script = write(
        &dir,
        "seeded.rhai",
        r#"model::save(model::build(#{kind: "mlp", input_dim: 4, hidden: [8]}), "built.safetensors");
let ds = data::collect(#{env: "CartPole-v1", policy: "random", episodes: 2, seed: 7});
let trainer = #{steps: 3, batch_size: 16, progress: false};
if param("fixed", false) { trainer.seed = 5; }
pretrain::run(#{task: #{task: "inverse_dynamics"}, data: #{path: ds.path},
    model: #{kind: "mlp", input_dim: 4, hidden: [8]}, trainer: trainer, device: "cpu"});
"#,
    );
    // The tensors' bytes: the file's JSON header lists its metadata in no fixed order.
    let tensors = |path: std::path::PathBuf| {
        let bytes = std::fs::read(path).unwrap();
        let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        bytes[8 + header..].to_vec()
    };
    // (the network the script built, the pretrained encoder)
    let run = |seed: &str, fixed: bool, run: &str| {
        let out = dir.join(run).display().to_string();
        let set = format!("fixed={fixed}");
        let o = graft(&["--seed", seed, "run", &script, "--out", &out, "--quiet", "--set", &set]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let run = dir.join(run);
        (tensors(run.join("built.safetensors")), tensors(run.join("pretrain/encoder.safetensors")))
    };
    let (built, encoder) = run("0", false, "a");
    let (built_again, encoder_again) = run("0", false, "b");
    assert_eq!(encoder, encoder_again, "one seed, one encoder");
    assert_eq!(built, built_again, "one seed, one built network");
    let (built_other, encoder_other) = run("1", false, "c");
    assert_ne!(encoder, encoder_other, "another master seed, another encoder");
    assert_ne!(built, built_other, "another master seed, another built network");
    assert_eq!(run("0", true, "d").1, run("1", true, "e").1, "trainer.seed wins");
}

/// `pretrain::probe` from a script: on images whose class is which quadrant is lit, the
/// linear probe of even a random-init CNN is near perfect, and the same images with labels
/// unrelated to the pixels stay near chance (4 classes: 0.25); on a CartPole dataset the
/// control probe reads the action off (s_t, s_{t+1}). A model with a head, and a bad option,
/// are refused at the call.
#[test]
fn probe_from_a_script_scores_frozen_features() {
    use graft::pretrain::Images;
    use tch::{Kind, Tensor};
    let dir = tmp_dir("probe");
    let n = 240i64;
    tch::manual_seed(3);
    let labels = Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(4);
    let noise = Tensor::randint(40, [n, 1, 8, 8], (Kind::Int64, Device::Cpu));
    let lit = Tensor::zeros([n, 1, 8, 8], (Kind::Int64, Device::Cpu));
    for i in 0..n {
        let k = i % 4;
        let _ = lit.get(i).narrow(1, (k / 2) * 4, 4).narrow(2, (k % 2) * 4, 4).fill_(200);
    }
    let images = (noise + lit).to_kind(Kind::Uint8);
    let quad = dir.join("quad.safetensors");
    Images::new(images.shallow_clone(), Some(labels.shallow_clone())).unwrap().save(&quad).unwrap();
    // The same pixels, labels from a fixed permutation unrelated to them.
    let shuffled_labels = labels.index_select(0, &Tensor::randperm(n, (Kind::Int64, Device::Cpu)));
    let shuffled = dir.join("shuffled.safetensors");
    Images::new(images, Some(shuffled_labels)).unwrap().save(&shuffled).unwrap();
    let script = write(
        &dir,
        "probe.rhai",
        &format!(
            r#"let cnn = #{{kind: "minatar_cnn", in_channels: 1, height: 8, width: 8,
            conv_channels: 8, hidden: 32}};
let quad = pretrain::probe(model::build(cnn), "{q}", #{{steps: 200}});
let shuffled = pretrain::probe(model::build(cnn), "{s}", #{{steps: 200}});
let ds = data::collect(#{{env: "CartPole-v1", policy: "heuristic", episodes: 4, seed: 1}});
let control = pretrain::probe(model::build(#{{kind: "mlp", input_dim: 4, hidden: [32]}}), ds.path);
report::json("probe.json", #{{quad: quad, shuffled: shuffled, control: control}});
"#,
            q = quad.display(),
            s = shuffled.display()
        ),
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &script, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/probe.json")).unwrap())
            .unwrap();
    let quad_accuracy = r["quad"]["linear_accuracy"].as_f64().unwrap();
    let shuffled_accuracy = r["shuffled"]["linear_accuracy"].as_f64().unwrap();
    assert!(quad_accuracy > 0.95, "{r}");
    assert!(shuffled_accuracy < 0.5, "{r}");
    assert_eq!(r["quad"]["n_train"].as_i64().unwrap() + r["quad"]["n_test"].as_i64().unwrap(), n);
    assert!(r["quad"]["knn_accuracy"].as_f64().unwrap() > 0.9, "{r}");
    let c = &r["control"];
    // State observations carry no separate `state` column to regress onto; the action is
    // identifiable from (s_t, s_{t+1}) (the velocities move by ±τ·F/m), far above always
    // guessing the commonest action.
    assert!(c["state_r2"].is_null(), "{r}");
    let majority = c["majority_accuracy"].as_f64().unwrap();
    assert!(c["action_accuracy"].as_f64().unwrap() > majority.max(0.9), "{r}");

    let q = format!("\"{}\"", quad.display());
    let with_head = format!(
        "let m = model::build(#{{kind: \"mlp\", input_dim: 64, hidden: [8]}});\nmodel::attach_head(m, 4);\npretrain::probe(m, {q});\n"
    );
    fails_at("probe-head", &with_head, "3:", "the model has a head", &[]);
    let bad_size =
        format!("let m = model::build(#{{kind: \"mlp\", input_dim: 64, hidden: [8]}});\npretrain::probe(m, {q}, #{{image_size: -1}});\n");
    fails_at("probe-size", &bad_size, "2:", "image_size must be a positive int", &[]);
    // 4 inputs cannot take 1x8x8 images: refused before any forward pass.
    let misfit =
        format!("let m = model::build(#{{kind: \"mlp\", input_dim: 4, hidden: [8]}});\npretrain::probe(m, {q});\n");
    fails_at(
        "probe-misfit",
        &misfit,
        "2:",
        "has examples of shape [1, 8, 8], but the model's input layer takes vectors of 4 values",
        &[],
    );
}

/// `report::series` reads a logged metric back (ints and floats both plot), `report::plot`
/// draws the series into a PNG of the documented size, and malformed calls fail at their line.
#[test]
fn report_series_and_plot_from_a_script() {
    let dir = tmp_dir("report-plot");
    let script = write(
        &dir,
        "p.rhai",
        r#"report::log(1, "curve/y", 2.0);
report::log(3, "curve/y", 5.5);
report::log(2, "other", 9.0);
let ys = report::series(".", "curve/y");
report::json("series.json", ys);
report::plot("chart.png", [#{name: "logged", points: ys}, #{name: "ints", points: [[0, 1], [4, 2]]}],
    #{title: "t", x_label: "step", y_label: "y"});
"#,
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["run", &script, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let series: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/series.json")).unwrap())
            .unwrap();
    assert_eq!(series, serde_json::json!([[1, 2.0], [3, 5.5]]));
    let png = image::open(dir.join("run/chart.png")).unwrap();
    assert_eq!((png.width(), png.height()), (960, 600));

    fails_at(
        "report-plot-bad-points",
        "report::plot(\"c.png\", [#{name: \"a\", points: [1, 2]}], #{});\n",
        "1:9",
        "report::plot: series 0 must be",
        &[],
    );
    fails_at(
        "report-plot-not-png",
        "report::plot(\"c.jpg\", [#{name: \"a\", points: [[1, 2]]}], #{});\n",
        "1:9",
        "must end in .png",
        &[],
    );
}

/// A script sets libtorch's intra-op threads for the rest of its run; a count out of range
/// fails at its line.
#[test]
fn scripts_choose_their_threads() {
    let dir = tmp_dir("threads");
    let script = write(
        &dir,
        "t.rhai",
        "let before = threads();\nset_threads(1);\nreport::json(\"t.json\", #{before: before, after: threads()});\n",
    );
    let out = dir.join("run").display().to_string();
    let o = graft(&["--threads", "2", "run", &script, "--out", &out, "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/t.json")).unwrap()).unwrap();
    assert_eq!(t, serde_json::json!({"before": 2, "after": 1}));
    fails_at("threads-zero", "set_threads(0);\n", "1:1", "between 1 and 1024", &[]);
}
