//! Fine-tuning strategies do exactly what they say: parameters of frozen groups stay
//! bit-identical over training steps while the others change; per-group learning rates are
//! the ones the optimizer applies; BatchNorm statistics of frozen groups stay put; optimizer
//! moments are reset (or kept) on unfreezing as configured; and random freeze/unfreeze
//! sequences keep these invariants (proptest).

use std::collections::BTreeMap;

use graft::finetune::{FinetuneConfig, Finetuner, Strategy, Supervised, Task};
use graft::models::{attach_head, Encoder, MlpConfig, ModelConfig, ResNetConfig};
use graft::optim::OptimizerConfig;
use graft::train::{HookContext, NoHooks, TrainHooks};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use tch::nn::ModuleT;
use tch::{nn, Device, Kind, Tensor};

fn mlp_with_head(vs: &nn::VarStore) -> Box<dyn Encoder> {
    let cfg = ModelConfig::Mlp(MlpConfig {
        input_dim: 6,
        hidden: vec![8, 8],
        num_outputs: None,
        ..MlpConfig::default()
    });
    let enc = cfg.build(&vs.root()).unwrap();
    Box::new(attach_head(&(vs.root() / "head"), enc, 3).unwrap())
}

fn tiny_resnet(vs: &nn::VarStore) -> Box<dyn Encoder> {
    let cfg = ModelConfig::Resnet(ResNetConfig {
        layers: [1, 1, 1, 1],
        base_width: 4,
        num_classes: None,
        ..ResNetConfig::resnet18().cifar(10)
    });
    let enc = cfg.build(&vs.root()).unwrap();
    Box::new(attach_head(&(vs.root() / "head"), enc, 3).unwrap())
}

fn vector_data(n: i64) -> Supervised {
    tch::manual_seed(7);
    let x = Tensor::randn([n, 6], (Kind::Float, Device::Cpu));
    let y = Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(3);
    Supervised::classification(x, y).unwrap()
}

fn image_data(n: i64) -> Supervised {
    tch::manual_seed(7);
    let x = Tensor::randn([n, 3, 8, 8], (Kind::Float, Device::Cpu)) * 2.0 + 0.5;
    let y = Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(3);
    Supervised::classification(x, y).unwrap()
}

fn snapshot(vs: &nn::VarStore) -> BTreeMap<String, Tensor> {
    vs.variables().into_iter().map(|(k, t)| (k, t.copy())).collect()
}

/// Keys whose values differ between two snapshots.
fn changed(a: &BTreeMap<String, Tensor>, b: &BTreeMap<String, Tensor>) -> Vec<String> {
    a.iter().filter(|(k, t)| !t.equal(&b[*k])).map(|(k, _)| k.clone()).collect()
}

fn config(strategy: Strategy) -> FinetuneConfig {
    FinetuneConfig {
        strategy,
        epochs: 2,
        batch_size: 8,
        val_fraction: 0.0,
        checkpoint_every: 0,
        optimizer: OptimizerConfig::adam(1e-2),
        ..FinetuneConfig::default()
    }
}

/// Train with `strategy`; return the keys that changed.
fn trained_keys(strategy: Strategy) -> Vec<String> {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = mlp_with_head(&vs);
    let before = snapshot(&vs);
    let mut t = Finetuner::new(&vs, model.as_ref(), config(strategy)).unwrap();
    t.fit(&vector_data(32), None, &mut NoHooks, None, None).unwrap();
    changed(&before, &snapshot(&vs))
}

#[test]
fn each_strategy_trains_exactly_its_groups() {
    let head = vec!["head.bias", "head.weight"];
    assert_eq!(trained_keys(Strategy::feature_extraction()), head);
    let all = trained_keys(Strategy::Full);
    assert_eq!(all.len(), 6, "{all:?}");
    let top2 = trained_keys(Strategy::SelectLayers { groups: vec![], top: 2 });
    assert_eq!(top2, vec!["head.bias", "head.weight", "layers.1.bias", "layers.1.weight"]);
    let glob = trained_keys(Strategy::SelectLayers { groups: vec!["layers.*".into()], top: 0 });
    assert_eq!(glob, vec!["layers.0.bias", "layers.0.weight", "layers.1.bias", "layers.1.weight"]);
    let named = trained_keys(Strategy::SelectLayers { groups: vec!["layers.0".into()], top: 1 });
    assert_eq!(named, vec!["head.bias", "head.weight", "layers.0.bias", "layers.0.weight"]);
}

#[test]
fn strategy_errors_name_the_groups() {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = mlp_with_head(&vs);
    let bad = Strategy::SelectLayers { groups: vec!["layer9".into()], top: 0 };
    let err = Finetuner::new(&vs, model.as_ref(), config(bad)).err().unwrap().to_string();
    assert!(
        err.contains(
            "'layer9' matches no parameter group; the groups are: layers.0, layers.1, head"
        ),
        "{err}"
    );
}

/// Hooks that set fixed per-group learning rates at the start.
struct SetRates(Vec<(&'static str, f64)>);

impl TrainHooks for SetRates {
    fn on_epoch_start(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
        for (g, lr) in &self.0 {
            ctx.optimizer.set_lr(g, *lr)?;
        }
        Ok(())
    }
}

#[test]
fn per_group_learning_rates_are_the_ones_applied() {
    // Plain SGD: each parameter moves by exactly -lr_group * grad.
    let vs = nn::VarStore::new(Device::Cpu);
    let model = mlp_with_head(&vs);
    let mut cfg = config(Strategy::Full);
    cfg.optimizer = OptimizerConfig::sgd(0.5, 0.0);
    cfg.epochs = 1;
    cfg.batch_size = 32;
    let mut t = Finetuner::new(&vs, model.as_ref(), cfg).unwrap();
    let rates = [("layers.0", 0.0), ("layers.1", 0.01), ("head", 0.1)];
    let before = snapshot(&vs);
    t.fit(&vector_data(32), None, &mut SetRates(rates.to_vec()), None, None).unwrap();
    for (g, lr) in rates {
        assert_eq!(t.optimizer.lr(g).unwrap(), lr);
    }
    let after = vs.variables();
    for (key, t0) in &before {
        let lr = rates.iter().find(|(g, _)| key.starts_with(g)).unwrap().1;
        let grad = after[key].grad();
        let expected = t0 - grad * lr;
        assert!(
            after[key].allclose(&expected, 1e-6, 1e-7, false),
            "{key} did not move by -{lr}*grad"
        );
        if lr == 0.0 {
            assert!(after[key].equal(t0), "{key} moved with lr 0");
        }
    }
}

fn bn_stats(vs: &nn::VarStore, prefix: &str) -> BTreeMap<String, Tensor> {
    vs.variables()
        .into_iter()
        .filter(|(k, _)| {
            k.starts_with(prefix) && (k.ends_with("running_mean") || k.ends_with("running_var"))
        })
        .map(|(k, t)| (k, t.copy()))
        .collect()
}

#[test]
fn batchnorm_statistics_of_frozen_groups_stay_put() {
    for frozen_bn_eval in [true, false] {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = tiny_resnet(&vs);
        let mut cfg =
            config(Strategy::SelectLayers { groups: vec!["layer4".into(), "head".into()], top: 0 });
        cfg.frozen_bn_eval = frozen_bn_eval;
        cfg.epochs = 1;
        let frozen_before = bn_stats(&vs, "layer2");
        let stem_before = bn_stats(&vs, "bn1");
        let trained_before = bn_stats(&vs, "layer4");
        let weights_before = snapshot(&vs);
        let mut t = Finetuner::new(&vs, model.as_ref(), cfg).unwrap();
        t.fit(&image_data(16), None, &mut NoHooks, None, None).unwrap();
        assert!(!frozen_before.is_empty() && !stem_before.is_empty());
        let frozen_moved = !changed(&frozen_before, &bn_stats(&vs, "layer2")).is_empty()
            || !changed(&stem_before, &bn_stats(&vs, "bn1")).is_empty();
        assert_eq!(frozen_moved, !frozen_bn_eval, "frozen_bn_eval = {frozen_bn_eval}");
        assert_eq!(changed(&trained_before, &bn_stats(&vs, "layer4")).len(), trained_before.len());
        // Frozen weights never move, whatever happens to the statistics.
        let moved = changed(&weights_before, &snapshot(&vs));
        assert!(
            moved.iter().all(|k| k.starts_with("layer4")
                || k.starts_with("head")
                || (!frozen_bn_eval && k.contains("running_")
                    || k.ends_with("num_batches_tracked"))),
            "{moved:?}"
        );
    }
}

/// Freeze `group` at the start of epoch 1 and unfreeze it at epoch 2 (reset per `reset`).
struct FreezeThaw {
    group: &'static str,
    reset: bool,
}

impl TrainHooks for FreezeThaw {
    fn on_epoch_start(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
        match ctx.epoch {
            1 => ctx.optimizer.freeze(self.group),
            2 => ctx.optimizer.unfreeze(self.group, self.reset),
            _ => Ok(()),
        }
    }
}

/// State tensors of `group`'s parameters.
fn state_of(t: &Finetuner, prefix: &str) -> BTreeMap<String, Tensor> {
    t.optimizer
        .state_tensors()
        .into_iter()
        .filter(|(k, _)| k.starts_with(&format!("optimizer/{prefix}")))
        .collect()
}

#[test]
fn unfreezing_resets_or_keeps_optimizer_moments() {
    for reset in [true, false] {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = mlp_with_head(&vs);
        let mut cfg = config(Strategy::Full);
        cfg.epochs = 1;
        cfg.batch_size = 32;
        cfg.optimizer = OptimizerConfig::adam(1e-3);
        let mut t = Finetuner::new(&vs, model.as_ref(), cfg.clone()).unwrap();
        let data = vector_data(32);
        // Epoch 0: one step; Adam state exists for layers.0.
        t.fit(&data, None, &mut NoHooks, None, None).unwrap();
        let state0: BTreeMap<String, Tensor> =
            state_of(&t, "layers.0").into_iter().map(|(k, v)| (k, v.copy())).collect();
        assert!(!state0.is_empty());
        t.optimizer.freeze("layers.0").unwrap();
        t.train_step(Task::Classification, &data.x, &data.y).unwrap();
        t.optimizer.unfreeze("layers.0", reset).unwrap();
        let state = state_of(&t, "layers.0");
        if reset {
            assert!(state.is_empty(), "moments survived a reset: {:?}", state.keys());
        } else {
            assert_eq!(state.len(), state0.len());
            for (k, v) in &state0 {
                assert!(state[k].equal(v), "{k} changed while frozen");
            }
        }
        // After a reset the next Adam step is a first step (m̂ = g, v̂ = g²); with kept moments it
        // continues from the moments saved before the freeze (bias correction for t = 2).
        let key = "layers.0.weight";
        let w0 = vs.variables()[key].copy();
        t.train_step(Task::Classification, &data.x, &data.y).unwrap();
        let g = vs.variables()[key].grad();
        let (lr, b1, b2, eps) = (1e-3, 0.9, 0.999, 1e-8);
        let expected = if reset {
            -(&g * lr) / (g.abs() + eps)
        } else {
            let m = &state0[&format!("optimizer/{key}/exp_avg")] * b1 + &g * (1.0 - b1);
            let v = &state0[&format!("optimizer/{key}/exp_avg_sq")] * b2 + g.square() * (1.0 - b2);
            let m_hat = m / (1.0 - b1 * b1);
            let v_hat = v / (1.0 - b2 * b2);
            -(m_hat * lr) / (v_hat.sqrt() + eps)
        };
        let step = &vs.variables()[key] - w0;
        assert!(
            step.allclose(&expected, 1e-4, 1e-9, false),
            "reset = {reset}: not the expected Adam step"
        );
        let steps = t
            .optimizer
            .state_tensors()
            .into_iter()
            .find(|(k, _)| k == &format!("optimizer/{key}/step"));
        assert_eq!(steps.unwrap().1.int64_value(&[]), if reset { 1 } else { 2 });
    }
}

#[test]
fn freeze_thaw_hooks_during_fit() {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = mlp_with_head(&vs);
    let mut cfg = config(Strategy::Full);
    cfg.epochs = 3;
    let mut t = Finetuner::new(&vs, model.as_ref(), cfg).unwrap();
    let mut hooks = FreezeThaw { group: "layers.1", reset: true };
    let summary = t.fit(&vector_data(16), None, &mut hooks, None, None).unwrap();
    assert_eq!(summary.steps, 6);
    assert!(!t.optimizer.is_frozen("layers.1").unwrap());
}

#[derive(Debug, Clone)]
enum Op {
    Freeze(usize),
    Unfreeze(usize, bool),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    prop_oneof![
        (0usize..3).prop_map(Op::Freeze),
        (0usize..3, any::<bool>()).prop_map(|(g, r)| Op::Unfreeze(g, r)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// After any sequence of freezes and unfreezes, one step changes every parameter of the
    /// unfrozen groups and no parameter of the frozen ones.
    #[test]
    fn random_freeze_sequences_keep_frozen_parameters(ops in proptest::collection::vec(op(), 1..8)) {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = mlp_with_head(&vs);
        let mut cfg = config(graft::finetune::Strategy::Full);
        cfg.optimizer = OptimizerConfig::sgd(0.1, 0.9);
        let mut t = Finetuner::new(&vs, model.as_ref(), cfg).unwrap();
        let data = vector_data(16);
        let names = t.optimizer.group_names();
        for op in ops {
            match op {
                Op::Freeze(g) => t.optimizer.freeze(&names[g]).unwrap(),
                Op::Unfreeze(g, reset) => t.optimizer.unfreeze(&names[g], reset).unwrap(),
            }
            let before = snapshot(&vs);
            t.train_step(Task::Classification, &data.x, &data.y).unwrap();
            let moved = changed(&before, &snapshot(&vs));
            for (i, g) in names.iter().enumerate() {
                let frozen = t.optimizer.is_frozen(g).unwrap();
                let keys = t.optimizer.group_keys(g).unwrap();
                for k in keys {
                    prop_assert_eq!(moved.contains(&k), !frozen, "group {} ({}) key {}", i, g, k);
                }
            }
        }
    }
}

#[test]
fn lora_trains_only_adapters_and_merge_back_equals_the_adapted_forward() {
    use graft::finetune::LoraConfig;
    use graft::models::VitConfig;
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = ModelConfig::Vit(VitConfig {
        image_size: 8,
        patch_size: 4,
        depth: 2,
        width: 16,
        heads: 2,
        mlp_ratio: 2.0,
        num_classes: None,
        ..VitConfig::tiny()
    });
    let enc = cfg.build(&vs.root()).unwrap();
    let model = attach_head(&(vs.root() / "head"), enc, 3).unwrap();
    let lora = LoraConfig {
        rank: 2,
        alpha: 4.0,
        groups: vec!["blocks.*".into()],
        ..LoraConfig::default()
    };
    let mut config = config(Strategy::feature_extraction());
    config.lora = Some(lora);
    let before = snapshot(&vs);
    let mut t = Finetuner::new(&vs, &model, config).unwrap();
    // Two blocks × (in_proj, out_proj).
    assert_eq!(t.lora().unwrap().adapted_keys().len(), 4);
    assert_eq!(t.optimizer.group_names().last().unwrap(), "lora");
    t.fit(&image_data(16), None, &mut NoHooks, None, None).unwrap();
    let after = snapshot(&vs);
    let moved = changed(&before, &after);
    assert_eq!(moved, vec!["head.bias", "head.weight"], "base weights moved");
    let b_moved = after
        .iter()
        .filter(|(k, v)| k.ends_with(".B") && v.abs().sum(Kind::Float).double_value(&[]) > 0.0)
        .count();
    assert_eq!(b_moved, 4, "every B should have left zero");

    let x = image_data(4).x;
    let adapted = {
        let _scope = t.lora().unwrap().scope();
        tch::no_grad(|| model.forward_t(&x, false))
    };
    let plain = tch::no_grad(|| model.forward_t(&x, false));
    assert!(!adapted.allclose(&plain, 1e-6, 1e-6, false), "adapters had no effect");
    t.merge_lora().unwrap();
    let merged = tch::no_grad(|| model.forward_t(&x, false));
    assert!(
        merged.allclose(&adapted, 1e-5, 1e-5, false),
        "merge-back differs from the adapted forward"
    );
    assert!(vs.variables().keys().all(|k| !k.starts_with("lora.")));
    assert_eq!(vs.variables().len(), before.len());
}

/// Regression: 449 examples at batch 16 leave one example for the last batch. BatchNorm in
/// training mode on a single example computes an unbiased running variance of 0/0 = NaN
/// (PyTorch's `F.batch_norm` refuses such a batch; libtorch does not check), which made every
/// later evaluation NaN. That example now joins the batch before it: 28 steps per epoch.
#[test]
fn a_trailing_batch_of_one_example_does_not_poison_batchnorm() {
    assert_eq!(graft::finetune::train_batch_lengths(449, 16), [vec![16; 27], vec![17]].concat());
    assert_eq!(graft::finetune::train_batch_lengths(450, 16), [vec![16; 28], vec![2]].concat());
    assert_eq!(graft::finetune::train_batch_lengths(448, 16), vec![16; 28]);
    assert_eq!(graft::finetune::train_batch_lengths(1, 16), vec![1]);
    assert_eq!(graft::finetune::train_batch_lengths(3, 1), vec![1, 1, 1]);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = tiny_resnet(&vs);
    let mut cfg = config(Strategy::Full);
    cfg.epochs = 1;
    cfg.batch_size = 16;
    let mut t = Finetuner::new(&vs, model.as_ref(), cfg).unwrap();
    let summary = t.fit(&image_data(449), Some(&image_data(32)), &mut NoHooks, None, None).unwrap();
    let stats = bn_stats(&vs, "");
    assert!(!stats.is_empty());
    for (k, v) in &stats {
        assert!(bool::try_from(v.isfinite().all()).unwrap(), "{k} is not finite");
    }
    let val = summary.metrics["val/loss"];
    assert!(val.is_finite(), "val/loss {val}");
    assert_eq!(summary.steps, 28);
}

/// Inception-v3's auxiliary classifier trains with the main loss: with `aux_loss_weight` 0.4
/// the step's loss is the main cross-entropy plus 0.4 times the auxiliary one (hand-computed
/// from the same forward pass) and `AuxLogits` moves; with weight 0 the loss is the main one
/// alone and `AuxLogits` stays bit-identical.
#[test]
fn inception_auxiliary_loss_is_weighted_into_the_step() {
    let run = |weight: f64| {
        tch::manual_seed(11);
        let vs = nn::VarStore::new(Device::Cpu);
        let config = r#"{"kind": "inception_v3", "num_classes": 3, "dropout": 0.0}"#;
        let model = ModelConfig::from_json(config).unwrap().build(&vs.root()).unwrap();
        let x = Tensor::rand([2, 3, 299, 299], (Kind::Float, Device::Cpu));
        let y = Tensor::from_slice(&[0i64, 2]);
        // Expected loss from a copy of the variables in training mode (BatchNorm batch
        // statistics, as the step uses).
        let (out, aux) = tch::no_grad(|| model.forward_aux(&x, true));
        let (main, aux) =
            (out.cross_entropy_for_logits(&y), aux.unwrap().cross_entropy_for_logits(&y));
        let expected = main.double_value(&[]) + weight * aux.double_value(&[]);
        let aux_before = vs.variables()["AuxLogits.fc.weight"].copy();
        let cfg = FinetuneConfig {
            aux_loss_weight: weight,
            optimizer: OptimizerConfig::sgd(0.1, 0.0),
            ..FinetuneConfig::default()
        };
        let mut t = Finetuner::new(&vs, model.as_ref(), cfg).unwrap();
        let loss = t.train_step(Task::Classification, &x, &y).unwrap();
        assert!(
            (loss - expected).abs() < 1e-4 * expected.abs(),
            "loss {loss}, expected {expected}"
        );
        let moved = !vs.variables()["AuxLogits.fc.weight"].equal(&aux_before);
        (loss, moved, main.double_value(&[]))
    };
    // Each run is compared with its own forward pass: libtorch's generator is one per process,
    // so tests running beside this one may draw between the seed and the initialisation, and
    // two runs need not start from the same weights.
    let (with_aux, moved, main) = run(0.4);
    assert!(moved, "AuxLogits did not train with weight 0.4");
    assert!(with_aux > main + 1e-3, "the auxiliary term is missing: {with_aux} vs main {main}");
    let (without, moved, main) = run(0.0);
    assert!(!moved, "AuxLogits changed with weight 0");
    assert!((without - main).abs() < 1e-4 * main.abs(), "weight 0: {without} vs main {main}");
}
