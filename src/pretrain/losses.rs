//! The losses the self-supervised tasks share: InfoNCE over a score matrix (CPC, ATC),
//! NT-Xent over two views (SimCLR) and the normalised-MSE / cosine loss of BYOL and SPR.

use tch::{Kind, Tensor};

use super::base::TaskLoss;

/// InfoNCE (van den Oord et al. 2018, "Representation Learning with Contrastive Predictive
/// Coding", <https://arxiv.org/abs/1807.03748>): row `i` of `logits` `[B, B]` scores anchor
/// `i` against every candidate, candidate `i` being its positive. Reports the accuracy of
/// picking the positive.
pub fn info_nce(logits: &Tensor) -> TaskLoss {
    let b = logits.size()[0];
    let labels = Tensor::arange(b, (Kind::Int64, logits.device()));
    super::base::classification(logits, &labels)
}

/// NT-Xent (Chen et al. 2020, SimCLR, eq. 1): each of the `2B` projections `[z1; z2]` must
/// pick its other view among the other `2B − 1` by cosine similarity over `temperature`.
pub fn nt_xent(z1: &Tensor, z2: &Tensor, temperature: f64) -> TaskLoss {
    let b = z1.size()[0];
    let z = Tensor::cat(&[z1, z2], 0);
    let z = &z / z.norm_scalaropt_dim(2.0, [1], true).clamp_min(1e-12); // [2B, D], unit rows
    let sim = z.matmul(&z.tr()) / temperature; // [2B, 2B]
                                               // A sample is never its own candidate.
    let eye = Tensor::eye(2 * b, (Kind::Bool, z.device()));
    let sim = sim.masked_fill(&eye, -1e9);
    let idx = Tensor::arange(b, (Kind::Int64, z.device()));
    let labels = Tensor::cat(&[&idx + b, idx], 0);
    super::base::classification(&sim, &labels)
}

/// BYOL's loss (Grill et al. 2020, eq. 2): `2 − 2 · cos(p, z)`, averaged over the batch;
/// `z` is a target and gets no gradient.
pub fn normalized_mse(p: &Tensor, z: &Tensor) -> Tensor {
    let cos = Tensor::cosine_similarity(p, &z.detach(), 1, 1e-8);
    2.0 - 2.0 * cos.mean(Kind::Float)
}
