//! BatchNorm that fine-tuning can hold in evaluation mode per layer group.
//!
//! When a group is frozen, its BatchNorm layers should keep normalising with their running
//! statistics and leave them untouched, as a frozen feature extractor does in PyTorch when
//! its modules are put in `eval()` (Kornblith et al. 2019, "Do Better ImageNet Models
//! Transfer Better?", <https://arxiv.org/abs/1805.08974>, discuss why frozen BatchNorm
//! statistics matter). tch's `forward_t(xs, train)` has one flag for the whole network, so
//! [`BatchNorm2d`] also consults a per-thread set of key prefixes: while a
//! [`BnEvalScope`] is alive, every BatchNorm whose VarStore key starts with one of its
//! prefixes runs as in inference, whatever `train` says. Outside a scope nothing changes.
//! Key names stay torchvision's (`bn1.weight`, `bn1.running_mean`, …): the wrapper adds no
//! path component.

use std::cell::RefCell;
use std::ops::Deref;

use tch::nn::{self, ModuleT};
use tch::Tensor;

use super::base::key_has_prefix;

thread_local! {
    /// Prefixes whose BatchNorm layers run in evaluation mode on this thread.
    static EVAL_PREFIXES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// A `tch` BatchNorm layer that knows its VarStore key prefix (e.g. `layer1.0.bn1`).
#[derive(Debug)]
pub struct BatchNorm2d {
    bn: nn::BatchNorm,
    prefix: String,
}

impl BatchNorm2d {
    /// Wrap `bn`, whose variables live under key prefix `prefix`.
    pub fn new(bn: nn::BatchNorm, prefix: String) -> Self {
        BatchNorm2d { bn, prefix }
    }

    /// The VarStore key prefix of this layer.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether a live [`BnEvalScope`] holds this layer in evaluation mode.
    pub fn held_in_eval(&self) -> bool {
        EVAL_PREFIXES.with(|p| p.borrow().iter().any(|g| key_has_prefix(&self.prefix, g)))
    }
}

impl Deref for BatchNorm2d {
    type Target = nn::BatchNorm;
    fn deref(&self) -> &nn::BatchNorm {
        &self.bn
    }
}

impl ModuleT for BatchNorm2d {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.bn.forward_t(xs, train && !self.held_in_eval())
    }
}

/// While alive, BatchNorm layers under any of its prefixes run in evaluation mode on the
/// current thread; dropping it restores the previous set (scopes nest).
#[derive(Debug)]
#[must_use = "the scope ends when this value is dropped"]
pub struct BnEvalScope {
    previous: Vec<String>,
}

impl BnEvalScope {
    /// Hold the BatchNorm layers under `prefixes` in evaluation mode until the scope drops.
    pub fn enter(prefixes: Vec<String>) -> Self {
        let previous = EVAL_PREFIXES.with(|p| std::mem::replace(&mut *p.borrow_mut(), prefixes));
        BnEvalScope { previous }
    }
}

impl Drop for BnEvalScope {
    fn drop(&mut self) {
        let previous = std::mem::take(&mut self.previous);
        EVAL_PREFIXES.with(|p| *p.borrow_mut() = previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn scope_holds_matching_layers_in_eval() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let bn = BatchNorm2d::new(
            nn::batch_norm2d(&root / "layer1" / "bn", 3, Default::default()),
            "layer1.bn".into(),
        );
        let xs = Tensor::randn([4, 3, 2, 2], (Kind::Float, Device::Cpu)) * 3.0 + 1.0;
        let before = bn.running_mean.copy();
        {
            let _scope = BnEvalScope::enter(vec!["layer1".into()]);
            assert!(bn.held_in_eval());
            let _ = bn.forward_t(&xs, true);
            assert!(bn.running_mean.equal(&before), "running stats changed in a held layer");
        }
        assert!(!bn.held_in_eval());
        let _ = bn.forward_t(&xs, true);
        assert!(!bn.running_mean.equal(&before), "running stats did not move in train mode");
    }
}
