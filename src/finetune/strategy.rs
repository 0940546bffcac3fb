//! The three ways to reuse a pretrained network (Yosinski et al. 2014, "How transferable are
//! features in deep neural networks?", <https://arxiv.org/abs/1411.1792>; the fine-tuning
//! taxonomy of Howard & Ruder 2018, <https://arxiv.org/abs/1801.06146>):
//!
//! - **feature extraction**: the encoder is frozen, only the new head trains;
//! - **full fine-tuning**: every group trains;
//! - **select layers**: the groups named (exactly or by a `*`/`?` glob such as `layer*`) and/or
//!   the `top` groups nearest the output train; the rest are frozen.
//!
//! A strategy is data (the same serde struct for JSON and Rhai maps) and acts only through
//! [`Optimizer::freeze`] / [`Optimizer::unfreeze`], so frozen parameters stay bit-identical.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::optim::Optimizer;

/// Which parameter groups train. See the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Strategy {
    /// Only the head group trains; everything else is a frozen feature extractor.
    FeatureExtraction {
        /// Name of the head group (the group [`crate::models::attach_head`] creates).
        #[serde(default = "default_head")]
        head: String,
    },
    /// Every group trains.
    #[default]
    Full,
    /// Only the listed groups (names or globs) and the `top` groups nearest the output train.
    SelectLayers {
        /// Group names or `*`/`?` globs, e.g. `["layer4", "head"]` or `["blocks.1*"]`.
        #[serde(default)]
        groups: Vec<String>,
        /// Also train this many groups counted from the output end (0 = none).
        #[serde(default)]
        top: usize,
    },
}

fn default_head() -> String {
    "head".to_string()
}

impl Strategy {
    /// Feature extraction with the head group named `head`.
    pub fn feature_extraction() -> Self {
        Strategy::FeatureExtraction { head: default_head() }
    }

    /// The names of the groups that train under this strategy, in the optimizer's order.
    /// Refuses a pattern that matches no group and a selection that trains nothing.
    pub fn trainable(&self, group_names: &[String]) -> Result<Vec<String>> {
        let list = || group_names.join(", ");
        let chosen: Vec<String> = match self {
            Strategy::Full => group_names.to_vec(),
            Strategy::FeatureExtraction { head } => {
                if !group_names.iter().any(|g| g == head) {
                    return Err(Error::Invalid(format!(
                        "feature extraction: the model has no head group '{head}' (groups: {}); \
                         attach a head or name the group that should train",
                        list()
                    )));
                }
                vec![head.clone()]
            }
            Strategy::SelectLayers { groups, top } => {
                if *top > group_names.len() {
                    return Err(Error::Invalid(format!(
                        "select layers: top = {top} but the model has only {} groups ({})",
                        group_names.len(),
                        list()
                    )));
                }
                for pattern in groups {
                    if !group_names.iter().any(|g| glob_match(pattern, g)) {
                        return Err(Error::Invalid(format!(
                            "select layers: '{pattern}' matches no parameter group; the groups \
                             are: {}",
                            list()
                        )));
                    }
                }
                let first_top = group_names.len() - top;
                group_names
                    .iter()
                    .enumerate()
                    .filter(|(i, g)| *i >= first_top || groups.iter().any(|p| glob_match(p, g)))
                    .map(|(_, g)| g.clone())
                    .collect()
            }
        };
        if chosen.is_empty() {
            return Err(Error::Invalid(
                "select layers: no group selected; name groups or set top".into(),
            ));
        }
        Ok(chosen)
    }

    /// Freeze every group that does not train and unfreeze those that do (unfrozen groups
    /// keep or reset their optimizer state per `reset_state`). Returns the trainable groups.
    pub fn apply(&self, optimizer: &mut Optimizer, reset_state: bool) -> Result<Vec<String>> {
        let names = optimizer.group_names();
        let trainable = self.trainable(&names)?;
        for name in &names {
            if trainable.contains(name) {
                if optimizer.is_frozen(name)? {
                    optimizer.unfreeze(name, reset_state)?;
                }
            } else {
                optimizer.freeze(name)?;
            }
        }
        Ok(trainable)
    }
}

/// Shell-style match of `name` against `pattern`: `*` any run of characters (including
/// dots), `?` one character, everything else literal.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative matcher with one backtrack point for the last `*` (linear in practice).
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["stem", "layer1", "layer2", "layer3", "layer4", "head"].map(String::from).to_vec()
    }

    #[test]
    fn globs() {
        assert!(glob_match("layer*", "layer12"));
        assert!(glob_match("l?yer3", "layer3"));
        assert!(glob_match("*", ""));
        assert!(glob_match("blocks.*.attn", "blocks.3.attn"));
        assert!(!glob_match("layer?", "layer12"));
        assert!(!glob_match("head", "heads"));
    }

    #[test]
    fn strategies_choose_groups() {
        let n = names();
        assert_eq!(Strategy::feature_extraction().trainable(&n).unwrap(), vec!["head"]);
        assert_eq!(Strategy::Full.trainable(&n).unwrap(), n);
        let s = Strategy::SelectLayers { groups: vec!["layer[".into()], top: 0 };
        assert!(s.trainable(&n).unwrap_err().to_string().contains("matches no parameter group"));
        let s = Strategy::SelectLayers { groups: vec!["stem".into(), "layer?".into()], top: 0 };
        assert_eq!(s.trainable(&n).unwrap(), vec!["stem", "layer1", "layer2", "layer3", "layer4"]);
        let s = Strategy::SelectLayers { groups: vec!["stem".into()], top: 2 };
        assert_eq!(s.trainable(&n).unwrap(), vec!["stem", "layer4", "head"]);
        let s = Strategy::SelectLayers { groups: vec![], top: 7 };
        assert!(s.trainable(&n).is_err());
        let s = Strategy::SelectLayers { groups: vec![], top: 0 };
        assert!(s.trainable(&n).is_err());
    }

    #[test]
    fn strategy_from_json() {
        let s: Strategy = serde_json::from_str(r#"{"kind": "select_layers", "top": 2}"#).unwrap();
        assert_eq!(s, Strategy::SelectLayers { groups: vec![], top: 2 });
        let s: Strategy = serde_json::from_str(r#"{"kind": "feature_extraction"}"#).unwrap();
        assert_eq!(s, Strategy::feature_extraction());
    }
}
