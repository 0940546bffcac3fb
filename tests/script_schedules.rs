//! The Rhai schedule library's effect over epochs and steps, driven through the hooks a
//! training loop calls, against hand-computed tables (and the Rust schedules for the curves
//! both implement). `graft run` end to end is in tests/script.rs and tests/script_modules.rs.

use std::path::PathBuf;

use graft::models::LayerGroup;
use graft::optim::{LrSchedule, Optimizer, OptimizerConfig};
use graft::script::hooks::Caller;
use graft::script::{build_engine, HookFns, RhaiHooks, ScriptLimits, Session, SessionOptions};
use graft::train::{HookContext, TrainHooks};
use rhai::Map;
use tch::{nn, Device};

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-schedules-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const GROUPS: [&str; 4] = ["g0", "g1", "g2", "head"];

/// A model with one linear layer per group and its optimizer (Adam, lr 0.01 everywhere).
fn four_groups() -> (nn::VarStore, Optimizer) {
    let vs = nn::VarStore::new(Device::Cpu);
    for g in GROUPS {
        let _ = nn::linear(vs.root() / g, 2, 2, Default::default());
    }
    let groups: Vec<LayerGroup> =
        GROUPS.iter().map(|g| LayerGroup::new(*g, vec![g.to_string()])).collect();
    let opt = Optimizer::new(&vs, &groups, &OptimizerConfig::adam(0.01)).unwrap();
    (vs, opt)
}

/// Compile `hooks_expr` (a script whose value is the hooks map) in a session under `dir`.
struct Harness {
    engine: rhai::Engine,
    ast: rhai::AST,
    fns: HookFns,
    _session: Session,
}

fn harness(name: &str, script: &str) -> Harness {
    let dir = tmp_dir(name);
    let path = dir.join("hooks.rhai");
    std::fs::write(&path, script).unwrap();
    let session = Session::create(SessionOptions {
        script: path,
        run_dir: dir.join("run"),
        overrides: Default::default(),
        seed: 0,
        device: Device::Cpu,
        echo: false,
    })
    .unwrap();
    let engine = build_engine(&ScriptLimits::default(), &session);
    let ast = engine.compile(script).unwrap();
    let map: Map = engine.eval_ast(&ast).unwrap();
    let fns = HookFns::from_map(&map).unwrap();
    Harness { engine, ast, fns, _session: session }
}

impl Harness {
    fn hooks(&self) -> RhaiHooks<'_> {
        RhaiHooks::new(
            self.fns.clone(),
            Caller::Standalone { engine: &self.engine, ast: &self.ast },
            true,
            "hooks.rhai",
        )
    }
}

fn lrs(opt: &Optimizer) -> Vec<f64> {
    opt.groups().iter().map(|g| g.lr).collect()
}

fn frozen(opt: &Optimizer) -> Vec<bool> {
    opt.groups().iter().map(|g| g.frozen).collect()
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-12 * w.abs().max(1e-3), "{what}: got {got:?}, want {want:?}");
    }
}

/// Call on_epoch_start for epochs 0..n and record (frozen flags, lrs) after each.
fn run_epochs(h: &Harness, n: u64) -> (Vec<Vec<bool>>, Vec<Vec<f64>>) {
    let (_vs, mut opt) = four_groups();
    let metrics = Default::default();
    let mut hooks = h.hooks();
    let (mut fr, mut lr) = (Vec::new(), Vec::new());
    for epoch in 0..n {
        let mut ctx = HookContext::new(epoch * 10, epoch, n * 10, &mut opt, &metrics);
        hooks.on_epoch_start(&mut ctx).unwrap();
        fr.push(frozen(&opt));
        lr.push(lrs(&opt));
    }
    (fr, lr)
}

/// Call on_step at the given next-step indices of a `total`-step run; the head's lr after each.
fn run_steps(h: &Harness, steps: &[u64], total: u64) -> Vec<f64> {
    let (_vs, mut opt) = four_groups();
    let metrics = Default::default();
    let mut hooks = h.hooks();
    steps
        .iter()
        .map(|&s| {
            let mut ctx = HookContext::new(s, 0, total, &mut opt, &metrics);
            hooks.on_step(&mut ctx).unwrap();
            opt.lr("head").unwrap()
        })
        .collect()
}

#[test]
fn gradual_unfreezing_table() {
    let h = harness(
        "ulmfit",
        r#"#{ on_epoch_start: |ctx| { import "schedules" as s; s::gradual_unfreezing(ctx, 1) } }"#,
    );
    let (fr, _) = run_epochs(&h, 5);
    let t = true;
    let f = false;
    assert_eq!(fr, vec![[t, t, t, f], [t, t, f, f], [t, f, f, f], [f, f, f, f], [f, f, f, f]]);
    let h = harness(
        "ulmfit2",
        r#"#{ on_epoch_start: |ctx| { import "schedules" as s; s::gradual_unfreezing(ctx, 2) } }"#,
    );
    let (fr, _) = run_epochs(&h, 5);
    assert_eq!(fr, vec![[t, t, t, f], [t, t, t, f], [t, t, f, f], [t, t, f, f], [t, f, f, f]]);
}

#[test]
fn discriminative_and_layerwise_rates_table() {
    let h = harness(
        "discr",
        r#"#{ on_epoch_start: |ctx| { import "schedules" as s; s::discriminative_lr(ctx, 0.01, 2.6) } }"#,
    );
    let (_, lr) = run_epochs(&h, 1);
    // 2.6^3 = 17.576, 2.6^2 = 6.76.
    assert_close(&lr[0], &[0.01 / 17.576, 0.01 / 6.76, 0.01 / 2.6, 0.01], "discriminative");
    let h = harness(
        "lld",
        r#"#{ on_epoch_start: |ctx| { import "schedules" as s; s::layerwise_lr_decay(ctx, 1e-3, 0.65) } }"#,
    );
    let (_, lr) = run_epochs(&h, 1);
    // 0.65^3 = 0.274625, 0.65^2 = 0.4225.
    assert_close(&lr[0], &[1e-3 * 0.274625, 1e-3 * 0.4225, 1e-3 * 0.65, 1e-3], "layer decay");
}

#[test]
fn slanted_triangular_table() {
    let h = harness(
        "stlr",
        r#"#{ on_step: |ctx| { import "schedules" as s; s::slanted_triangular(ctx, 0.01, 0.1, 32.0, 2.6) } }"#,
    );
    // T = 20, cut = 2: p = t/2 rising, then 1 - (t-2)/18; lr = 0.01 (1 + 31 p) / 32.
    let got = run_steps(&h, &[0, 1, 2, 11, 19], 20);
    let want =
        [0.01 / 32.0, 0.01 * 16.5 / 32.0, 0.01, 0.01 * 16.5 / 32.0, 0.01 * (49.0 / 18.0) / 32.0];
    assert_close(&got, &want, "slanted triangular (head)");
}

#[test]
fn warmup_cosine_and_one_cycle_tables() {
    let h = harness(
        "wc",
        r#"#{ on_step: |ctx| { import "schedules" as s; s::warmup_cosine(ctx, 0.1, 2, 0.0) } }"#,
    );
    // Warm-up (s+1)/2, then half a cosine over 8 steps: s=6 is halfway (factor 0.5).
    let got = run_steps(&h, &[0, 1, 2, 6, 10], 10);
    assert_close(&got, &[0.05, 0.1, 0.1, 0.05, 0.0], "warmup cosine");
    let rust = LrSchedule::WarmupCosine { warmup_steps: 2, min_factor: 0.0 };
    let all: Vec<u64> = (0..10).collect();
    let want: Vec<f64> = all.iter().map(|&s| 0.1 * rust.factor(s, 10)).collect();
    assert_close(&run_steps(&h, &all, 10), &want, "warmup cosine vs LrSchedule");

    let h = harness(
        "oc",
        r#"#{ on_step: |ctx| { import "schedules" as s; s::one_cycle(ctx, 0.1, 0.3, 25.0, 1e4) } }"#,
    );
    // initial 0.1/25 = 0.004, peak at step 0.3*10-1 = 2, minimum 0.004/1e4 at step 9.
    let got = run_steps(&h, &[0, 1, 2, 9], 10);
    assert_close(&got, &[0.004, 0.052, 0.1, 4e-7], "one cycle");
    let want: Vec<f64> = all.iter().map(|&s| 0.1 * LrSchedule::one_cycle().factor(s, 10)).collect();
    assert_close(&run_steps(&h, &all, 10), &want, "one cycle vs LrSchedule");
}

#[test]
fn backbone_finetuning_table() {
    let h = harness(
        "bbf",
        r#"#{ on_epoch_start: |ctx| { import "schedules" as s; s::backbone_finetuning(ctx, 2) } }"#,
    );
    let (fr, lr) = run_epochs(&h, 9);
    for (e, flags) in fr.iter().enumerate() {
        let want = if e < 2 { [true, true, true, false] } else { [false; 4] };
        assert_eq!(flags, &want, "epoch {e}");
    }
    // Head lr 0.01. Epoch 2: 0.01 * 0.1 / 10; then 1.5x of the previous (0.001 before the
    // division at epoch 2), capped at the head's 0.01 from epoch 8.
    let backbone = [0.01, 0.01, 1e-4, 1.5e-3, 2.25e-3, 3.375e-3, 5.0625e-3, 7.59375e-3, 0.01];
    for (e, want) in backbone.iter().enumerate() {
        assert_close(&lr[e], &[*want, *want, *want, 0.01], &format!("epoch {e}"));
    }
}

#[test]
fn ctx_refuses_unknown_groups_and_bad_rates_with_a_location() {
    let h = harness("bad", "#{ on_epoch_start: |ctx| {\n  ctx.set_lr(\"head\", -1.0);\n} }");
    let (_vs, mut opt) = four_groups();
    let metrics = Default::default();
    let mut ctx = HookContext::new(0, 0, 10, &mut opt, &metrics);
    let err = h.hooks().on_epoch_start(&mut ctx).unwrap_err().to_string();
    assert!(err.starts_with("hooks.rhai:2:7"), "{err}");
    assert!(err.contains("learning rate must be finite and >= 0"), "{err}");
    // Nothing was applied.
    assert_eq!(lrs(&opt), vec![0.01; 4]);
}
