//! Representation evaluation on frozen features: what a pretrained encoder's output makes
//! easy.
//!
//! - Labelled images: a **linear probe** (multinomial logistic regression on standardised
//!   features, full-batch Adam with weight decay — the protocol of e.g. Chen et al. 2020's
//!   linear evaluation, without augmentation) and **k-NN** (cosine similarity, majority vote
//!   of the k nearest training features; Wu et al. 2018, "Unsupervised Feature Learning via
//!   Non-Parametric Instance Discrimination").
//! - Control datasets: the **R²** of a ridge-regression probe from features of `o_t` onto the
//!   low-dimensional `state` (Anand et al. 2019's probing of state representations), and the
//!   **action accuracy** of a linear probe from `[φ(o_t), φ(o_{t+1})]` onto the action.
//!
//! Splits are deterministic in the seed: a random 80/20 split of images; for trajectories,
//! whole episodes (the first 80 % of a seeded episode order train), so no probe is scored on
//! frames from an episode it was fitted on.

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use graft_envs::EnvRng;

use crate::error::{Error, Result};
use crate::models::{check_input, Encoder};

use super::sources::{ActionKind, Images, Trajectories};

/// Probe settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeConfig {
    /// Fraction of items (images) or episodes (trajectories) used to fit the probes.
    pub train_fraction: f64,
    /// Full-batch optimisation steps of the logistic-regression probe.
    pub steps: usize,
    /// Its learning rate.
    pub lr: f64,
    /// Its weight decay (L2 penalty).
    pub weight_decay: f64,
    /// Neighbours of the k-NN probe.
    pub k: usize,
    /// Ridge penalty of the state probe (on standardised features).
    pub ridge: f64,
    /// At most this many items are encoded (evenly spaced).
    pub max_items: usize,
    /// Seed of the split.
    pub seed: u64,
    /// Items per encoder forward pass.
    pub batch_size: usize,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            train_fraction: 0.8,
            steps: 300,
            lr: 0.05,
            weight_decay: 1e-4,
            k: 20,
            ridge: 1e-3,
            max_items: 20_000,
            seed: 0,
            batch_size: 256,
        }
    }
}

/// Probe results on labelled images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageProbe {
    /// Test accuracy of the linear probe.
    pub linear_accuracy: f64,
    /// Test accuracy of k-NN.
    pub knn_accuracy: f64,
    /// Training and test items.
    pub n_train: usize,
    /// Test items.
    pub n_test: usize,
}

/// Probe results on a control dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlProbe {
    /// Mean R² over state dimensions of the ridge probe (when the dataset has `state`).
    pub state_r2: Option<f64>,
    /// Test accuracy of the linear action probe (discrete actions).
    pub action_accuracy: Option<f64>,
    /// Accuracy of always predicting the most frequent training action.
    pub majority_accuracy: Option<f64>,
    /// Training transitions.
    pub n_train: usize,
    /// Test transitions.
    pub n_test: usize,
}

/// Encoder features of `inputs(batch indices)` for `items`, in eval mode, as `[N, D]` on CPU.
fn encode(
    encoder: &dyn Encoder,
    items: &[usize],
    batch: usize,
    mut input: impl FnMut(&[usize]) -> Result<Tensor>,
) -> Result<Tensor> {
    let mut out = Vec::new();
    for chunk in items.chunks(batch.max(1)) {
        let x = input(chunk)?;
        out.push(tch::no_grad(|| encoder.forward_t(&x, false)).to_device(Device::Cpu));
    }
    Ok(Tensor::cat(&out, 0).to_kind(Kind::Float))
}

fn subsample(n: usize, max: usize) -> Vec<usize> {
    let stride = n.div_ceil(max.max(1)).max(1);
    (0..n).step_by(stride).collect()
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = EnvRng::seed_from(seed);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        v.swap(i, rng.below(i as u64 + 1) as usize);
    }
    v
}

/// Standardise columns with the training rows' mean and std.
fn standardise(train: &Tensor, test: &Tensor) -> (Tensor, Tensor) {
    let mean = train.mean_dim(0, true, Kind::Float);
    let std = train.std_dim(0, false, true).clamp_min(1e-6);
    ((train - &mean) / &std, (test - &mean) / &std)
}

/// Test accuracy of multinomial logistic regression fitted on `(x, y)` (see module docs).
pub fn linear_probe(
    train_x: &Tensor,
    train_y: &Tensor,
    test_x: &Tensor,
    test_y: &Tensor,
    classes: i64,
    cfg: &ProbeConfig,
) -> Result<f64> {
    let (xtr, xte) = standardise(train_x, test_x);
    let d = xtr.size()[1];
    let w = Tensor::zeros([d, classes], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let b = Tensor::zeros([classes], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    // Adam by hand: the probe is tiny and must not touch the global optimizer state.
    let (b1, b2, eps) = (0.9, 0.999, 1e-8);
    let mut m = [w.zeros_like(), b.zeros_like()];
    let mut v = [w.zeros_like(), b.zeros_like()];
    for t in 1..=cfg.steps {
        let logits = xtr.matmul(&w) + &b;
        let loss = logits.cross_entropy_for_logits(train_y)
            + cfg.weight_decay * w.square().sum(Kind::Float);
        for p in [&w, &b] {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        loss.backward();
        tch::no_grad(|| {
            for (i, p) in [&w, &b].into_iter().enumerate() {
                let g = p.grad();
                m[i] = &m[i] * b1 + &g * (1.0 - b1);
                v[i] = &v[i] * b2 + g.square() * (1.0 - b2);
                let mh = &m[i] / (1.0 - b1.powi(t as i32));
                let vh = &v[i] / (1.0 - b2.powi(t as i32));
                let mut p = p.shallow_clone();
                let _ = p.g_sub_(&(mh / (vh.sqrt() + eps) * cfg.lr));
            }
        });
    }
    let pred = tch::no_grad(|| (xte.matmul(&w) + &b).argmax(-1, false));
    Ok(accuracy(&pred, test_y))
}

fn accuracy(pred: &Tensor, y: &Tensor) -> f64 {
    pred.eq_tensor(y).to_kind(Kind::Float).mean(Kind::Float).double_value(&[])
}

/// Test accuracy of cosine-similarity k-NN with a majority vote (ties: lowest class).
pub fn knn(
    train_x: &Tensor,
    train_y: &Tensor,
    test_x: &Tensor,
    test_y: &Tensor,
    classes: i64,
    k: usize,
) -> f64 {
    let unit = |x: &Tensor| x / x.norm_scalaropt_dim(2.0, [1], true).clamp_min(1e-12);
    let (tr, te) = (unit(train_x), unit(test_x));
    let k = k.clamp(1, tr.size()[0] as usize) as i64;
    let sim = te.matmul(&tr.tr()); // [Nte, Ntr]
    let (_, idx) = sim.topk(k, 1, true, true);
    let votes = train_y.index_select(0, &idx.view([-1])).view([-1, k]); // [Nte, k]
    let counts = votes.one_hot(classes).sum_dim_intlist(1, false, Kind::Float); // [Nte, C]
    accuracy(&counts.argmax(-1, false), test_y)
}

/// Mean over output columns of the test R² of ridge regression from `x` onto `y`.
pub fn ridge_r2(
    train_x: &Tensor,
    train_y: &Tensor,
    test_x: &Tensor,
    test_y: &Tensor,
    ridge: f64,
) -> Result<f64> {
    let (xtr, xte) = standardise(train_x, test_x);
    let n = xtr.size()[0];
    let ones = |r: i64| Tensor::ones([r, 1], (Kind::Double, Device::Cpu));
    let xtr = Tensor::cat(&[xtr.to_kind(Kind::Double), ones(n)], 1);
    let xte = Tensor::cat(&[xte.to_kind(Kind::Double), ones(xte.size()[0])], 1);
    let d = xtr.size()[1];
    let gram =
        xtr.tr().matmul(&xtr) + Tensor::eye(d, (Kind::Double, Device::Cpu)) * (ridge * n as f64);
    let beta =
        Tensor::f_linalg_solve(&gram, &xtr.tr().matmul(&train_y.to_kind(Kind::Double)), true)?;
    let pred = xte.matmul(&beta);
    let y = test_y.to_kind(Kind::Double);
    let ss_res = (&y - pred).square().sum_dim_intlist(0, false, Kind::Double);
    let ss_tot = (&y - y.mean_dim(0, true, Kind::Double))
        .square()
        .sum_dim_intlist(0, false, Kind::Double)
        .clamp_min(1e-12);
    let r2: Tensor = 1.0 - ss_res / ss_tot;
    Ok(r2.mean(Kind::Double).double_value(&[]))
}

/// Linear probe and k-NN of `encoder` on labelled `images`; `factor` scales `[0, 1]` pixels
/// to the model's input range.
pub fn probe_images(
    encoder: &dyn Encoder,
    factor: f64,
    images: &Images,
    cfg: &ProbeConfig,
) -> Result<ImageProbe> {
    let labels = images
        .labels
        .as_ref()
        .ok_or_else(|| Error::Invalid("the image probe needs labelled images".into()))?;
    check_input(encoder, &images.shape(), "the image set")?;
    let items = subsample(images.len(), cfg.max_items);
    let order: Vec<usize> = shuffled(items.len(), cfg.seed).into_iter().map(|i| items[i]).collect();
    let n_train = ((order.len() as f64) * cfg.train_fraction).round() as usize;
    if n_train == 0 || n_train >= order.len() {
        return Err(Error::Invalid(format!(
            "the probe needs training and test images: {} images, train fraction {}",
            order.len(),
            cfg.train_fraction
        )));
    }
    let (tr, te) = order.split_at(n_train);
    let feats =
        |idx: &[usize]| encode(encoder, idx, cfg.batch_size, |c| Ok(images.unit(c) * factor));
    let (xtr, xte) = (feats(tr)?, feats(te)?);
    let y = labels.to_device(Device::Cpu);
    let pick = |idx: &[usize]| y.index_select(0, &super::sources::index_tensor(idx, Device::Cpu));
    let (ytr, yte) = (pick(tr), pick(te));
    let classes = y.max().int64_value(&[]) + 1;
    Ok(ImageProbe {
        linear_accuracy: linear_probe(&xtr, &ytr, &xte, &yte, classes, cfg)?,
        knn_accuracy: knn(&xtr, &ytr, &xte, &yte, classes, cfg.k),
        n_train: tr.len(),
        n_test: te.len(),
    })
}

/// State R² and action accuracy probes of `encoder` on a trajectory dataset.
pub fn probe_control(
    encoder: &dyn Encoder,
    data: &Trajectories,
    cfg: &ProbeConfig,
) -> Result<ControlProbe> {
    let path = data.dataset().path().display().to_string();
    check_input(encoder, &data.input_shape(), &path)?;
    let eps = data.dataset().episodes();
    let order = shuffled(eps.len(), cfg.seed);
    let n_train_eps = ((eps.len() as f64) * cfg.train_fraction).round() as usize;
    if n_train_eps == 0 || n_train_eps >= eps.len() {
        return Err(Error::Invalid(format!(
            "the control probe splits by episode and needs at least 2 (train fraction {}), the \
             dataset has {}",
            cfg.train_fraction,
            eps.len()
        )));
    }
    let transitions = |ids: &[usize]| -> Vec<usize> {
        let mut v: Vec<usize> = ids
            .iter()
            .flat_map(|&e| eps[e].first_transition..eps[e].first_transition + eps[e].len)
            .collect();
        v.sort_unstable();
        let keep = subsample(v.len(), cfg.max_items);
        keep.into_iter().map(|i| v[i]).collect()
    };
    let (tr, te) = (transitions(&order[..n_train_eps]), transitions(&order[n_train_eps..]));
    let features = |idx: &[usize]| -> Result<(Tensor, Tensor, Tensor, Option<Tensor>)> {
        let now = encode(encoder, idx, cfg.batch_size, |c| Ok(data.input(&data.batch(c)?.obs)))?;
        let next =
            encode(encoder, idx, cfg.batch_size, |c| Ok(data.input(&data.batch(c)?.next_obs)))?;
        // Actions and states only: read them without the frames' processing.
        let b = data.dataset().batch(idx, data.device())?;
        let actions = data.targets(&b.actions).to_device(Device::Cpu);
        Ok((now, next, actions, b.state.map(|s| s.to_device(Device::Cpu))))
    };
    let (ftr, fntr, atr, str_) = features(&tr)?;
    let (fte, fnte, ate, ste) = features(&te)?;
    let state_r2 = match (str_, ste) {
        (Some(s1), Some(s2)) => Some(ridge_r2(&ftr, &s1, &fte, &s2, cfg.ridge)?),
        _ => None,
    };
    let (action_accuracy, majority_accuracy) = match data.actions() {
        ActionKind::Discrete { n, .. } => {
            let xtr = Tensor::cat(&[ftr, fntr], 1);
            let xte = Tensor::cat(&[fte, fnte], 1);
            let acc = linear_probe(&xtr, &atr, &xte, &ate, n, cfg)?;
            let majority = atr.bincount::<Tensor>(None, n).argmax(0, false);
            (Some(acc), Some(accuracy(&majority.expand_as(&ate), &ate)))
        }
        ActionKind::Continuous { .. } => (None, None),
    };
    Ok(ControlProbe {
        state_r2,
        action_accuracy,
        majority_accuracy,
        n_train: tr.len(),
        n_test: te.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Gaussian clusters in 5 dimensions, centred at ±2 on the first axis.
    fn clusters(n: i64, seed: i64) -> (Tensor, Tensor) {
        tch::manual_seed(seed);
        let y = Tensor::randint(2, [n], (Kind::Int64, Device::Cpu));
        let x = Tensor::randn([n, 5], (Kind::Float, Device::Cpu));
        let shift = (y.to_kind(Kind::Float) * 4.0 - 2.0).unsqueeze(1);
        let _ = x.narrow(1, 0, 1).g_add_(&shift);
        (x, y)
    }

    #[test]
    fn separable_clusters_are_found_by_both_probes() {
        let (xtr, ytr) = clusters(200, 1);
        let (xte, yte) = clusters(100, 2);
        let cfg = ProbeConfig::default();
        assert!(linear_probe(&xtr, &ytr, &xte, &yte, 2, &cfg).unwrap() > 0.95);
        assert!(knn(&xtr, &ytr, &xte, &yte, 2, 5) > 0.9);
        // Labels unrelated to the features: about chance.
        let shuffled = ytr.flip([0]);
        let acc = linear_probe(&xtr, &shuffled, &xte, &yte, 2, &cfg).unwrap();
        assert!(acc < 0.7, "{acc}");
    }

    #[test]
    fn ridge_r2_is_one_for_a_linear_target_and_near_zero_for_noise() {
        tch::manual_seed(0);
        let x = Tensor::randn([300, 4], (Kind::Float, Device::Cpu));
        let w = Tensor::from_slice(&[1.0f32, -2.0, 0.5, 0.0]).view([4, 1]);
        let y = x.matmul(&w) + 3.0;
        let (xtr, xte) = (x.narrow(0, 0, 200), x.narrow(0, 200, 100));
        let (ytr, yte) = (y.narrow(0, 0, 200), y.narrow(0, 200, 100));
        assert!(ridge_r2(&xtr, &ytr, &xte, &yte, 1e-6).unwrap() > 0.999);
        let noise = Tensor::randn([300, 1], (Kind::Float, Device::Cpu));
        let r2 = ridge_r2(&xtr, &noise.narrow(0, 0, 200), &xte, &noise.narrow(0, 200, 100), 1e-3)
            .unwrap();
        assert!(r2 < 0.1, "{r2}");
    }
}
