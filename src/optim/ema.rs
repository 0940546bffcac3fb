//! Target networks: exponential moving averages of an online network's variables (BYOL's
//! and SPR's momentum encoders, SAC's Polyak-averaged critics) and hard copies (DQN's
//! periodic target update).
//!
//! Both VarStores must hold the same keys with the same shapes — they are built from the same
//! model configuration under the same path names. Every variable is averaged, BatchNorm running
//! statistics included, so a target network's normalisation follows the online one.

use tch::{nn, Tensor};

use crate::error::{Error, Result};

/// `target = momentum · target + (1 - momentum) · online` for every variable of `target`.
/// BYOL uses momentum 0.99–0.996; SAC's Polyak `tau = 0.005` is momentum `0.995`.
pub fn ema_update(target: &nn::VarStore, online: &nn::VarStore, momentum: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&momentum) {
        return Err(Error::Invalid(format!("EMA momentum must be in [0, 1], got {momentum}")));
    }
    let pairs = matched(target, online)?;
    tch::no_grad(|| {
        for (mut t, o) in pairs {
            let _ = t.lerp_(&o, 1.0 - momentum);
        }
    });
    Ok(())
}

/// Copy every variable of `online` into `target` (a hard target-network update).
pub fn copy_vars(target: &mut nn::VarStore, online: &nn::VarStore) -> Result<()> {
    let pairs = matched(target, online)?;
    tch::no_grad(|| {
        for (mut t, o) in pairs {
            t.copy_(&o);
        }
    });
    Ok(())
}

/// `(target, online)` tensor pairs by key, after checking that the key sets and shapes agree.
fn matched(target: &nn::VarStore, online: &nn::VarStore) -> Result<Vec<(Tensor, Tensor)>> {
    let online_vars = online.variables();
    let target_vars = target.variables();
    if online_vars.len() != target_vars.len() {
        return Err(Error::Invalid(format!(
            "target network has {} variables but the online network has {}",
            target_vars.len(),
            online_vars.len()
        )));
    }
    let mut keys: Vec<&String> = target_vars.keys().collect();
    keys.sort();
    keys.into_iter()
        .map(|key| {
            let t = &target_vars[key];
            let o = online_vars.get(key).ok_or_else(|| {
                Error::Invalid(format!(
                    "target network variable '{key}' is not in the online network"
                ))
            })?;
            if t.size() != o.size() {
                return Err(Error::ShapeMismatch {
                    what: format!("target network variable '{key}'"),
                    expected: o.size(),
                    got: t.size(),
                });
            }
            Ok((t.shallow_clone(), o.shallow_clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn store(value: f64) -> nn::VarStore {
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = vs.root().var("w", &[2, 3], nn::Init::Const(value));
        let _ = vs.root().zeros_no_train("running_mean", &[3]);
        vs
    }

    #[test]
    fn ema_moves_target_by_one_minus_momentum() {
        let target = store(1.0);
        let online = store(3.0);
        ema_update(&target, &online, 0.75).unwrap();
        let w = target.variables()["w"].copy();
        // 0.75 · 1 + 0.25 · 3 = 1.5
        assert_eq!(w, Tensor::full([2, 3], 1.5, (Kind::Float, Device::Cpu)));
    }

    #[test]
    fn copy_makes_target_equal() {
        let mut target = store(1.0);
        let online = store(-2.0);
        copy_vars(&mut target, &online).unwrap();
        assert_eq!(target.variables()["w"], online.variables()["w"]);
    }

    #[test]
    fn mismatched_stores_are_refused() {
        let target = store(1.0);
        let online = nn::VarStore::new(Device::Cpu);
        let _ = online.root().var("w", &[3, 2], nn::Init::Const(0.0));
        let _ = online.root().zeros_no_train("running_mean", &[3]);
        let err = ema_update(&target, &online, 0.9).unwrap_err().to_string();
        assert!(err.contains("'w'"), "{err}");
        assert!(ema_update(&target, &target, 1.5).is_err());
    }
}
