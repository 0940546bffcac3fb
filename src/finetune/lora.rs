//! LoRA adapters on the linear layers of transformer groups (Hu et al. 2021, "LoRA: Low-Rank
//! Adaptation of Large Language Models", <https://arxiv.org/abs/2106.09685>).
//!
//! For each targeted weight `W` ([out, in]) two new variables train instead of it:
//! `A` [rank, in], initialised U(±1/√in) (PyTorch's Kaiming-uniform default, as PEFT does), and
//! `B` [out, rank], initialised to zero, so training starts from the pretrained function. The
//! layer computes `W x + (alpha / rank) · B A x` while the adapters are active
//! ([`crate::models::adapter`]). They live in the model's VarStore under
//! `lora.<weight key with '.' → '_'>.{A,B}` and form their own optimizer group, `lora`.
//!
//! **Merge-back** folds each update into its weight, `W ← W + (alpha/rank) · B A`, and removes
//! the adapter variables, leaving a plain model whose checkpoint keys are the original ones
//! and whose forward equals the adapted forward.
//!
//! Targets are globs over weight keys (default: every attention input and output
//! projection, the usual LoRA choice); `groups` restricts them to layer groups by name or glob.

use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::strategy::glob_match;
use crate::error::{Error, Result};
use crate::models::adapter::{AdapterScope, LinearAdapter, ADAPTABLE};
use crate::models::LayerGroup;

/// Name of the optimizer group holding every adapter.
pub const LORA_GROUP: &str = "lora";

/// LoRA hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoraConfig {
    /// Rank `r` of each update.
    pub rank: i64,
    /// Scale numerator: updates are multiplied by `alpha / rank`.
    pub alpha: f64,
    /// Globs over weight keys, e.g. `["*self_attention.in_proj_weight", "*mlp.*"]`.
    pub targets: Vec<String>,
    /// Layer groups (names or globs) whose layers are adapted; empty = all groups.
    pub groups: Vec<String>,
    /// Merge the updates into the weights when training ends.
    pub merge: bool,
}

impl Default for LoraConfig {
    fn default() -> Self {
        LoraConfig {
            rank: 8,
            alpha: 16.0,
            targets: vec![
                "*self_attention.in_proj_weight".into(),
                "*self_attention.out_proj.weight".into(),
            ],
            groups: Vec::new(),
            merge: true,
        }
    }
}

/// The adapters attached to one model.
#[derive(Debug)]
pub struct Lora {
    adapters: Vec<LinearAdapter>,
    keys: Vec<String>,
}

impl Lora {
    /// Create adapters in `vs` for every adaptable weight that matches `config`.
    pub fn attach(vs: &nn::VarStore, groups: &[LayerGroup], config: &LoraConfig) -> Result<Self> {
        if config.rank < 1 || !(config.alpha.is_finite() && config.alpha > 0.0) {
            return Err(Error::Invalid(format!(
                "lora: rank must be >= 1 and alpha positive, got rank {} alpha {}",
                config.rank, config.alpha
            )));
        }
        for g in &config.groups {
            if !groups.iter().any(|lg| glob_match(g, &lg.name)) {
                return Err(Error::Invalid(format!("lora: group '{g}' matches no layer group")));
            }
        }
        let vars = vs.variables();
        let mut keys: Vec<&String> = vars
            .keys()
            .filter(|k| ADAPTABLE.iter().any(|s| k.ends_with(s)))
            .filter(|k| config.targets.iter().any(|t| glob_match(t, k)))
            .filter(|k| {
                config.groups.is_empty()
                    || groups.iter().any(|lg| {
                        lg.matches(k) && config.groups.iter().any(|g| glob_match(g, &lg.name))
                    })
            })
            .collect();
        keys.sort();
        if keys.is_empty() {
            return Err(Error::Invalid(format!(
                "lora: no adaptable linear layer matches targets {:?}; adaptable layers are the \
                 transformer blocks' weights ending in {}",
                config.targets,
                ADAPTABLE.join(", ")
            )));
        }
        let root = vs.root() / LORA_GROUP;
        let scale = config.alpha / config.rank as f64;
        let adapters = keys
            .iter()
            .map(|key| {
                let size = vars[*key].size();
                let (out, inp) = (size[0], size[1]);
                let p = &root / key.replace('.', "_");
                let bound = 1.0 / (inp as f64).sqrt();
                let a =
                    p.var("A", &[config.rank, inp], nn::Init::Uniform { lo: -bound, up: bound });
                let b = p.var("B", &[out, config.rank], nn::Init::Const(0.0));
                LinearAdapter { key: (*key).clone(), a, b, scale }
            })
            .collect();
        Ok(Lora { adapters, keys: keys.into_iter().cloned().collect() })
    }

    /// The optimizer group of the adapters.
    pub fn group(&self) -> LayerGroup {
        LayerGroup::new(LORA_GROUP, vec![LORA_GROUP.to_string()])
    }

    /// Keys of the adapted weights.
    pub fn adapted_keys(&self) -> &[String] {
        &self.keys
    }

    /// Activate the adapters on this thread until the returned scope drops.
    pub fn scope(&self) -> AdapterScope {
        AdapterScope::enter(self.adapters.clone())
    }

    /// Fold every update into its weight and remove the adapter variables from `vs`.
    pub fn merge(self, vs: &nn::VarStore) -> Result<()> {
        let vars = vs.variables();
        tch::no_grad(|| -> Result<()> {
            for a in &self.adapters {
                let mut w = vars
                    .get(&a.key)
                    .ok_or_else(|| Error::Invalid(format!("lora: weight '{}' vanished", a.key)))?
                    .shallow_clone();
                let delta = a.b.matmul(&a.a).to_kind(Kind::Double) * a.scale;
                let merged = (w.to_kind(Kind::Double) + delta).to_kind(w.kind());
                w.copy_(&merged);
            }
            Ok(())
        })?;
        let mut store = vs
            .variables_
            .lock()
            .map_err(|_| Error::Invalid("lora: VarStore lock poisoned".into()))?;
        let prefix = format!("{LORA_GROUP}.");
        store.named_variables.retain(|k, _| !k.starts_with(&prefix));
        let ids: Vec<Tensor> =
            self.adapters.iter().flat_map(|a| [a.a.shallow_clone(), a.b.shallow_clone()]).collect();
        store
            .trainable_variables
            .retain(|v| !ids.iter().any(|t| t.data_ptr() == v.tensor.data_ptr()));
        Ok(())
    }
}
