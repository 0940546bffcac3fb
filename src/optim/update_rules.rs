//! The per-tensor update rules of [`Optimizer`](super::Optimizer): PyTorch's single-tensor
//! SGD, Adam(W) and RMSprop, operation for operation (the formulas are in the `optimizer`
//! module docs), and the state each keeps per tensor.

use tch::Tensor;

use super::config::{OptimizerConfig, OptimizerKind};

/// One optimised tensor and its state.
pub(super) struct Param {
    pub(super) key: String,
    pub(super) tensor: Tensor,
    pub(super) decay: bool,
    /// SGD's momentum buffer, Adam's first moment or RMSprop's squared-gradient average.
    pub(super) buf1: Option<Tensor>,
    /// Adam's second moment or centred RMSprop's gradient average.
    pub(super) buf2: Option<Tensor>,
    /// RMSprop's momentum buffer.
    pub(super) buf3: Option<Tensor>,
    /// Updates applied to this tensor (Adam's bias correction counts per tensor, as PyTorch).
    pub(super) steps: u64,
}

pub(super) fn sgd_update(p: &mut Param, grad: Tensor, lr: f64, wd: f64, c: &OptimizerConfig) {
    let mut g = if wd != 0.0 { &grad + &p.tensor * wd } else { grad };
    if c.momentum != 0.0 {
        let buf = match p.buf1.as_mut() {
            None => p.buf1.insert(g.detach().copy()),
            Some(b) => {
                let _ = b.g_mul_scalar_(c.momentum).g_add_(&g);
                b
            }
        };
        g = if c.nesterov { g + &*buf * c.momentum } else { buf.shallow_clone() };
    }
    p.steps += 1;
    let _ = p.tensor.g_add_(&(g * -lr));
}

pub(super) fn adam_update(p: &mut Param, grad: Tensor, lr: f64, wd: f64, c: &OptimizerConfig) {
    let [beta1, beta2] = c.betas;
    let grad = match c.kind {
        OptimizerKind::AdamW => {
            if wd != 0.0 {
                let _ = p.tensor.g_mul_scalar_(1.0 - lr * wd);
            }
            grad
        }
        _ if wd != 0.0 => &grad + &p.tensor * wd,
        _ => grad,
    };
    // torch.optim.Adam's single-tensor update, operation for operation and in place where it
    // is (lerp_, mul_ + addcmul_, add_, addcdiv_): the same rounding, and 4 temporaries per
    // tensor instead of 7, which counts on models with many small tensors (a ViT).
    // tch's addcmul_/addcdiv_ have no `value`, so it is folded into the first factor:
    // `self + (c·a)·b` and `self + (c·a)/b` are how libtorch evaluates `value` anyway.
    let m = p.buf1.get_or_insert_with(|| p.tensor.zeros_like());
    let _ = m.lerp_(&grad, 1.0 - beta1);
    let v = p.buf2.get_or_insert_with(|| p.tensor.zeros_like());
    let _ = v.g_mul_scalar_(beta2).addcmul_(&(&grad * (1.0 - beta2)), &grad);
    p.steps += 1;
    let t = p.steps as f64;
    let bias1 = 1.0 - beta1.powf(t);
    let bias2_sqrt = (1.0 - beta2.powf(t)).sqrt();
    let step_size = lr / bias1;
    let mut denom = v.sqrt() / bias2_sqrt;
    let _ = denom.g_add_scalar_(c.eps);
    let _ = p.tensor.addcdiv_(&(&*m * -step_size), &denom);
}

pub(super) fn rmsprop_update(p: &mut Param, grad: Tensor, lr: f64, wd: f64, c: &OptimizerConfig) {
    // torch.optim.RMSprop's single-tensor update, operation for operation.
    let grad = if wd != 0.0 { &grad + &p.tensor * wd } else { grad };
    let square_avg = p.buf1.get_or_insert_with(|| p.tensor.zeros_like());
    let _ = square_avg.g_mul_scalar_(c.alpha).addcmul_(&(&grad * (1.0 - c.alpha)), &grad);
    let mut avg = if c.centered {
        let grad_avg = p.buf2.get_or_insert_with(|| p.tensor.zeros_like());
        let _ = grad_avg.lerp_(&grad, 1.0 - c.alpha);
        (&*square_avg - &*grad_avg * &*grad_avg).sqrt()
    } else {
        square_avg.sqrt()
    };
    let _ = avg.g_add_scalar_(c.eps);
    p.steps += 1;
    if c.momentum > 0.0 {
        let buf = p.buf3.get_or_insert_with(|| p.tensor.zeros_like());
        let _ = buf.g_mul_scalar_(c.momentum).addcdiv_(&grad, &avg);
        let _ = p.tensor.g_add_(&(&*buf * -lr));
    } else {
        let _ = p.tensor.addcdiv_(&(&grad * -lr), &avg);
    }
}
