//! Generalized Advantage Estimation (Schulman et al. 2016, "High-Dimensional Continuous
//! Control Using Generalized Advantage Estimation", <https://arxiv.org/abs/1506.02438>), with
//! Gymnasium's distinction between the two ways an episode ends:
//!
//! - **terminated**: the MDP reached a terminal state; its value is 0, so nothing is
//!   bootstrapped: `δ_t = r_t − V(s_t)`.
//! - **truncated**: the episode was cut from outside (time limit); the state still has a
//!   value, so the final observation is bootstrapped: `δ_t = r_t + γ V(s_final) − V(s_t)`.
//!
//! Either way the advantage recursion stops at the episode end (the next step belongs to
//! another episode): `A_t = δ_t + γλ (1 − done_t) A_{t+1}`.
//!
//! With **next-step autoreset** (Gymnasium's default, and this crate's vector envs) the
//! observation after a finished step *is* the final observation, so `values[t + 1]` is
//! `V(s_final)` and no extra forward pass is needed; the step after it is the reset step,
//! whose transition is not real and is masked out of the loss by the caller (see
//! [`crate::rl::buffer::Rollout`]). Its advantage is computed but never used, and it cannot
//! leak into step `t` because `done_t` cuts the recursion.

/// Advantages and returns (`advantages + values`) for a rollout of `T` steps of `N` envs.
///
/// All slices are time-major, `[T * N]` (step `t` of env `i` at `t * N + i`), except
/// `values`, which is `[(T + 1) * N]`: the value of the observation at each step plus the
/// value of the observation after the last step (the bootstrap).
///
/// # Panics
/// If the slice lengths disagree (a programming error inside the agents, not user input).
pub fn gae(
    rewards: &[f32],
    values: &[f32],
    terminated: &[bool],
    truncated: &[bool],
    num_envs: usize,
    gamma: f32,
    lambda: f32,
) -> (Vec<f32>, Vec<f32>) {
    let n = num_envs;
    let len = rewards.len();
    assert!(n > 0 && len % n == 0, "gae: rewards length {len} is not a multiple of {n}");
    assert_eq!(values.len(), len + n, "gae: values need one extra row (the bootstrap)");
    assert_eq!(terminated.len(), len, "gae: terminated length");
    assert_eq!(truncated.len(), len, "gae: truncated length");
    let steps = len / n;
    let mut adv = vec![0.0f32; len];
    for i in 0..n {
        let mut next_adv = 0.0f32;
        for t in (0..steps).rev() {
            let k = t * n + i;
            // A terminal state is worth nothing; a truncated one keeps its value.
            let next_value = if terminated[k] { 0.0 } else { values[k + n] };
            let delta = rewards[k] + gamma * next_value - values[k];
            let cont = if terminated[k] || truncated[k] { 0.0 } else { 1.0 };
            next_adv = delta + gamma * lambda * cont * next_adv;
            adv[k] = next_adv;
        }
    }
    let returns = adv.iter().zip(values).map(|(a, v)| a + v).collect();
    (adv, returns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, term by term: `A_t = Σ_k (γλ)^k δ_{t+k}` up to the episode's end.
    fn naive(
        r: &[f32],
        v: &[f32],
        term: &[bool],
        trunc: &[bool],
        n: usize,
        gamma: f64,
        lambda: f64,
    ) -> Vec<f64> {
        let steps = r.len() / n;
        let mut out = vec![0.0; r.len()];
        for i in 0..n {
            for t in 0..steps {
                let mut sum = 0.0f64;
                let mut weight = 1.0f64;
                for u in t..steps {
                    let k = u * n + i;
                    let next = if term[k] { 0.0 } else { v[k + n] as f64 };
                    let delta = r[k] as f64 + gamma * next - v[k] as f64;
                    sum += weight * delta;
                    if term[k] || trunc[k] {
                        break;
                    }
                    weight *= gamma * lambda;
                }
                out[t * n + i] = sum;
            }
        }
        out
    }

    proptest! {
        #[test]
        fn equals_the_naive_sum(
            n in 1usize..4,
            steps in 1usize..24,
            gamma in 0.5f64..1.0,
            lambda in 0.0f64..1.0,
            seed in any::<u64>(),
        ) {
            let mut rng = graft_envs::EnvRng::seed_from(seed);
            let len = n * steps;
            let r: Vec<f32> = (0..len).map(|_| rng.next_f64() as f32 * 2.0 - 1.0).collect();
            let v: Vec<f32> = (0..len + n).map(|_| rng.next_f64() as f32 * 4.0 - 2.0).collect();
            let term: Vec<bool> = (0..len).map(|_| rng.next_f64() < 0.1).collect();
            let trunc: Vec<bool> = (0..len).map(|_| rng.next_f64() < 0.1).collect();
            let (adv, ret) = gae(&r, &v, &term, &trunc, n, gamma as f32, lambda as f32);
            let want = naive(&r, &v, &term, &trunc, n, gamma, lambda);
            for k in 0..len {
                prop_assert!((adv[k] as f64 - want[k]).abs() < 1e-3, "k={k}: {} vs {}", adv[k], want[k]);
                prop_assert!((ret[k] - adv[k] - v[k]).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn truncation_bootstraps_and_termination_does_not() {
        // One env, one step, value of the next observation 10.
        let (a, _) = gae(&[1.0], &[0.0, 10.0], &[false], &[true], 1, 0.9, 0.95);
        assert!((a[0] - 10.0).abs() < 1e-6, "truncated: 1 + 0.9 * 10 = {}", a[0]);
        let (a, _) = gae(&[1.0], &[0.0, 10.0], &[true], &[false], 1, 0.9, 0.95);
        assert!((a[0] - 1.0).abs() < 1e-6, "terminated: no bootstrap, got {}", a[0]);
        // The recursion stops at an episode end: step 0's advantage ignores step 1.
        let (a, _) =
            gae(&[1.0, 100.0], &[0.0, 2.0, 0.0], &[false, false], &[true, false], 1, 0.5, 1.0);
        assert!((a[0] - 2.0).abs() < 1e-6, "1 + 0.5 * 2 = {}", a[0]);
    }
}
