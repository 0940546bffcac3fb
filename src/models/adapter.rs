//! Forward-time adapters on linear layers (the hook LoRA uses, `crate::finetune::lora`).
//!
//! Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models",
//! <https://arxiv.org/abs/2106.09685>: a frozen weight `W` ([out, in]) is adapted as
//! `h = W x + (α/r) · B A x` with `A` [r, in] and `B` [out, r]. The transformer blocks of the
//! zoo route each projection's output through [`adapt`], which adds the low-rank term of an
//! adapter registered for that weight's VarStore key while an [`AdapterScope`] is alive on
//! this thread. Outside a scope (or with no adapter for the key) the output is unchanged and
//! checkpoint keys are untouched.

use std::cell::RefCell;

use tch::Tensor;

/// Suffixes of the weight keys whose layers consult [`adapt`]: the transformer blocks'
/// attention input/output projections and MLP layers (torchvision's `EncoderBlock` names).
pub const ADAPTABLE: &[&str] = &[
    "self_attention.in_proj_weight",
    "self_attention.out_proj.weight",
    "mlp.0.weight",
    "mlp.3.weight",
];

/// A low-rank update `scale · B A` of the weight with VarStore key `key`.
#[derive(Debug)]
pub struct LinearAdapter {
    /// Key of the adapted weight, e.g. `encoder.layers.encoder_layer_0.mlp.0.weight`.
    pub key: String,
    /// `[rank, in]`.
    pub a: Tensor,
    /// `[out, rank]`.
    pub b: Tensor,
    /// `alpha / rank`.
    pub scale: f64,
}

impl Clone for LinearAdapter {
    fn clone(&self) -> Self {
        LinearAdapter {
            key: self.key.clone(),
            a: self.a.shallow_clone(),
            b: self.b.shallow_clone(),
            scale: self.scale,
        }
    }
}

thread_local! {
    static ACTIVE: RefCell<Vec<LinearAdapter>> = const { RefCell::new(Vec::new()) };
}

/// While alive, the given adapters apply on this thread; dropping it restores the previous set.
#[derive(Debug)]
#[must_use = "the adapters apply only while this value is alive"]
pub struct AdapterScope {
    previous: Vec<LinearAdapter>,
}

impl AdapterScope {
    /// Activate `adapters` (tensors are shared, not copied).
    pub fn enter(adapters: Vec<LinearAdapter>) -> Self {
        let previous = ACTIVE.with(|a| std::mem::replace(&mut *a.borrow_mut(), adapters));
        AdapterScope { previous }
    }
}

impl Drop for AdapterScope {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.previous);
        ACTIVE.with(|a| *a.borrow_mut() = previous);
    }
}

/// `base` (the layer's own output for input `xs`) plus the active adapter of weight `key`, if any.
///
/// # Shapes
/// `xs`: `[…, in]`, `base`: `[…, out]` → `[…, out]`.
pub fn adapt(key: &str, xs: &Tensor, base: Tensor) -> Tensor {
    ACTIVE.with(|active| {
        let active = active.borrow();
        match active.iter().find(|a| a.key == key) {
            Some(a) => base + xs.matmul(&a.a.tr()).matmul(&a.b.tr()) * a.scale,
            None => base,
        }
    })
}
