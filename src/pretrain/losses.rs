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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(rows: &[[f32; 2]]) -> Tensor {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_slice(&flat).view([rows.len() as i64, 2])
    }

    #[test]
    fn nt_xent_matches_a_hand_computation() {
        // Two pairs of unit vectors: z1 = [e1, e2], z2 = [e1, e2] (each view equals its
        // partner). For anchor e1 the candidates are e2 (cos 0), e1 (cos 1, the positive), e2
        // (cos 0): loss = −log(e^{1/τ} / (e^{1/τ} + 2)), the same for all four anchors.
        let z = t(&[[1.0, 0.0], [0.0, 1.0]]);
        let tau = 0.5;
        let out = nt_xent(&z, &z, tau);
        let e = (1.0f64 / tau).exp();
        let expected = -(e / (e + 2.0)).ln();
        assert!((out.loss.double_value(&[]) - expected).abs() < 1e-6);
        assert_eq!(out.metrics[0].1.double_value(&[]), 1.0);
    }

    #[test]
    fn info_nce_is_cross_entropy_on_the_diagonal() {
        let logits = t(&[[2.0, 0.0], [1.0, 1.0]]);
        let l0 = -(2f64.exp() / (2f64.exp() + 1.0)).ln();
        let l1 = 2f64.ln();
        let out = info_nce(&logits);
        assert!((out.loss.double_value(&[]) - (l0 + l1) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn normalized_mse_is_zero_for_parallel_and_four_for_opposite() {
        let p = t(&[[1.0, 2.0]]);
        assert!(normalized_mse(&p, &(&p * 3.0)).double_value(&[]).abs() < 1e-6);
        assert!((normalized_mse(&p, &(-&p)).double_value(&[]) - 4.0).abs() < 1e-6);
    }
}
