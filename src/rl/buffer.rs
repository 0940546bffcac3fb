//! Experience storage shared by the agents:
//!
//! - [`ReplayBuffer`]: a ring of transitions `(s, a, R, s', terminated, discount)` sampled
//!   uniformly (Lin 1992; Mnih et al. 2015), for DQN and SAC. `discount` is `γ^k` for a
//!   `k`-step return, so one target formula covers 1-step and n-step learning:
//!   `y = R + discount · (1 − terminated) · V(s')`.
//! - [`NStep`]: turns a stream of 1-step transitions into n-step ones (Sutton 1988; the
//!   "multi-step" component of Rainbow, Hessel et al. 2018, <https://arxiv.org/abs/1710.02298>).
//!   An episode that ends flushes every pending start with its shorter return; `terminated`
//!   is kept, truncation only ends the sum (the last state is still bootstrapped).
//! - [`Rollout`]: PPO's on-policy batch of `T` steps of `N` envs, time-major, with a `valid`
//!   mask for the next-step-autoreset steps that carry no real transition.
//!
//! Observations are stored as the envs give them (`f32` part, `u8` part), the `u8` frames
//! of images and frame stacks each once ([`FrameStore`]), and become tensors through
//! [`ObsSpec`] when sampled.

use std::collections::VecDeque;

use tch::{Device, Kind, Tensor};

use crate::rl::frame_store::FrameStore;
use crate::rl::nets::ObsSpec;

/// Refuse a replay buffer that would not fit in the memory available (see
/// [`crate::device::check_memory`]) before a run starts, rather than aborting when it fills
/// hours later: `transitions` transitions of `obs` observations and `action_dim` actions, as
/// `what` (e.g. "DQN replay buffer"). Image frames are stored once ([`FrameStore`]): an
/// agent's stream adds one new frame a transition (the successor's newest), which is what is
/// counted, with the frame references, the `f32` parts of both observations and the rest.
pub fn check_replay_storage(
    what: &str,
    transitions: u128,
    obs: &ObsSpec,
    action_dim: usize,
) -> crate::error::Result<()> {
    let (f32_len, u8_len) = obs.lens();
    let frames = frames_per_obs(obs) as u128;
    let frame_bytes = if u8_len == 0 { 0 } else { u8_len as u128 / frames + 2 * frames * 4 + 48 };
    let each = 2 * 4 * f32_len as u128 + frame_bytes + 4 * action_dim as u128 + 16;
    crate::device::check_memory(
        &format!("a {what} of {transitions} transitions ({each} bytes each)"),
        transitions.saturating_mul(each),
    )
}

/// Frames per observation as the replay buffer shares them: a stack's depth, else 1.
fn frames_per_obs(obs: &ObsSpec) -> usize {
    match obs {
        ObsSpec::Stacked { frames, .. } => (*frames).max(1) as usize,
        _ => 1,
    }
}

/// Refuse experience storage that would not fit in the memory available (see
/// [`crate::device::check_memory`]) before a run starts: `transitions` stored transitions of
/// `obs` observations (each with its next observation, stored whole: PPO's rollout) and
/// `action_dim` actions, as `what`.
pub fn check_storage(
    what: &str,
    transitions: u128,
    obs: &ObsSpec,
    action_dim: usize,
) -> crate::error::Result<()> {
    let each = 2 * obs.bytes() + 4 * action_dim as u128 + 16;
    crate::device::check_memory(
        &format!("a {what} of {transitions} transitions ({each} bytes each)"),
        transitions.saturating_mul(each),
    )
}

/// One transition, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    /// `(f32 part, u8 part)` of the observation the action was taken in.
    pub obs: (&'a [f32], &'a [u8]),
    /// The action: one value for discrete actions (the index), `dim` values for continuous.
    pub action: &'a [f32],
    /// The (possibly n-step, discounted) reward.
    pub reward: f32,
    /// The observation to bootstrap from (the final observation when the episode ended).
    pub next_obs: (&'a [f32], &'a [u8]),
    /// `next_obs` is terminal: its value is 0.
    pub terminated: bool,
    /// `γ^k` for a `k`-step transition.
    pub discount: f32,
}

/// A sampled batch, as tensors.
#[derive(Debug)]
pub struct Batch {
    /// `[B, ...]` observations.
    pub obs: Tensor,
    /// `[B, dim]` float actions (discrete: the index as a float; see [`Batch::action_index`]).
    pub actions: Tensor,
    /// `[B]` rewards.
    pub rewards: Tensor,
    /// `[B, ...]` next observations.
    pub next_obs: Tensor,
    /// `[B]` 1.0 where `next_obs` is terminal.
    pub terminated: Tensor,
    /// `[B]` `γ^k`.
    pub discounts: Tensor,
}

impl Batch {
    /// Discrete actions as `[B, 1]` int64 indices, for `gather`.
    pub fn action_index(&self) -> Tensor {
        self.actions.to_kind(Kind::Int64)
    }
}

/// A fixed-capacity ring buffer of transitions.
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    capacity: usize,
    spec: ObsSpec,
    action_dim: usize,
    f32_len: usize,
    u8_len: usize,
    obs_f32: Vec<f32>,
    next_f32: Vec<f32>,
    /// The `u8` frames of both observations, each distinct frame once (`None`: no `u8` part).
    frames: Option<FrameStore>,
    /// Per transition, the frame slots of its observation and of its successor.
    obs_slots: Vec<u32>,
    next_slots: Vec<u32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    discounts: Vec<f32>,
    pos: usize,
    len: usize,
}

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions of observations `spec` and `action_dim`-wide
    /// actions. Memory grows as transitions arrive, up to the capacity.
    pub fn new(capacity: usize, spec: ObsSpec, action_dim: usize) -> Self {
        let (f32_len, u8_len) = spec.lens();
        let k = frames_per_obs(&spec);
        let frames = (u8_len > 0).then(|| FrameStore::new(u8_len / k, k));
        ReplayBuffer {
            capacity: capacity.max(1),
            spec,
            action_dim,
            f32_len,
            u8_len,
            obs_f32: Vec::new(),
            next_f32: Vec::new(),
            frames,
            obs_slots: Vec::new(),
            next_slots: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            terminated: Vec::new(),
            discounts: Vec::new(),
            pos: 0,
            len: 0,
        }
    }

    /// Transitions stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Store `t`, overwriting the oldest transition when full.
    ///
    /// # Panics
    /// If the slices do not have the widths the buffer was made for (agent code's error).
    pub fn push(&mut self, t: &Transition<'_>) {
        assert_eq!(t.obs.0.len(), self.f32_len, "replay: observation width");
        assert_eq!(t.action.len(), self.action_dim, "replay: action width");
        let i = self.pos;
        // The new frames take their references before the overwritten ones drop theirs, so a
        // frame both use is never freed and stored again.
        let k = self.frames.as_ref().map_or(0, FrameStore::per_obs);
        let (mut obs_slots, mut next_slots) = (vec![0u32; k], vec![0u32; k]);
        if let Some(store) = &mut self.frames {
            store.intern_obs(t.obs.1, &mut obs_slots);
            store.intern_obs(t.next_obs.1, &mut next_slots);
        }
        if self.len < self.capacity {
            self.obs_f32.extend_from_slice(t.obs.0);
            self.next_f32.extend_from_slice(t.next_obs.0);
            self.obs_slots.extend_from_slice(&obs_slots);
            self.next_slots.extend_from_slice(&next_slots);
            self.actions.extend_from_slice(t.action);
            self.rewards.push(t.reward);
            self.terminated.push(t.terminated);
            self.discounts.push(t.discount);
            self.len += 1;
        } else {
            let (f, a) = (self.f32_len, self.action_dim);
            self.obs_f32[i * f..(i + 1) * f].copy_from_slice(t.obs.0);
            self.next_f32[i * f..(i + 1) * f].copy_from_slice(t.next_obs.0);
            if let Some(store) = &mut self.frames {
                store.release_obs(&self.obs_slots[i * k..(i + 1) * k]);
                store.release_obs(&self.next_slots[i * k..(i + 1) * k]);
            }
            self.obs_slots[i * k..(i + 1) * k].copy_from_slice(&obs_slots);
            self.next_slots[i * k..(i + 1) * k].copy_from_slice(&next_slots);
            self.actions[i * a..(i + 1) * a].copy_from_slice(t.action);
            self.rewards[i] = t.reward;
            self.terminated[i] = t.terminated;
            self.discounts[i] = t.discount;
        }
        self.pos = (self.pos + 1) % self.capacity;
    }

    /// `batch` transitions drawn uniformly with replacement, using libtorch's generator (so a
    /// caller that seeds it per step gets the same batch on resume).
    ///
    /// # Panics
    /// On an empty buffer.
    pub fn sample(&self, batch: usize, device: Device) -> Batch {
        assert!(self.len > 0, "replay: sampling an empty buffer");
        let idx = Tensor::randint(self.len as i64, [batch as i64], (Kind::Int64, Device::Cpu));
        let idx: Vec<i64> = Vec::try_from(&idx).unwrap_or_default();
        self.gather(&idx, device)
    }

    /// The transitions at `idx`, as tensors.
    pub fn gather(&self, idx: &[i64], device: Device) -> Batch {
        let (f, u, a) = (self.f32_len, self.u8_len, self.action_dim);
        let rows = |src: &[f32], w: usize| -> Vec<f32> {
            let mut out = Vec::with_capacity(idx.len() * w);
            for &i in idx {
                out.extend_from_slice(&src[i as usize * w..(i as usize + 1) * w]);
            }
            out
        };
        let rows_u8 = |slots: &[u32]| -> Vec<u8> {
            let Some(store) = &self.frames else { return Vec::new() };
            let k = store.per_obs();
            let mut out = Vec::with_capacity(idx.len() * u);
            for &i in idx {
                store.copy_obs(&slots[i as usize * k..(i as usize + 1) * k], &mut out);
            }
            out
        };
        let b = idx.len();
        let pick =
            |v: &[f32]| Tensor::from_slice(&idx.iter().map(|&i| v[i as usize]).collect::<Vec<_>>());
        let term: Vec<f32> =
            idx.iter().map(|&i| self.terminated[i as usize] as u8 as f32).collect();
        Batch {
            obs: self.spec.to_tensor(&rows(&self.obs_f32, f), &rows_u8(&self.obs_slots), b, device),
            actions: Tensor::from_slice(&rows(&self.actions, a))
                .view([b as i64, a as i64])
                .to_device(device),
            rewards: pick(&self.rewards).to_device(device),
            next_obs: self.spec.to_tensor(
                &rows(&self.next_f32, f),
                &rows_u8(&self.next_slots),
                b,
                device,
            ),
            terminated: Tensor::from_slice(&term).to_device(device),
            discounts: pick(&self.discounts).to_device(device),
        }
    }
}

/// One pending step of an n-step accumulator.
#[derive(Debug, Clone)]
struct Pending {
    obs_f32: Vec<f32>,
    obs_u8: Vec<u8>,
    action: Vec<f32>,
    reward: f32,
}

/// Turns 1-step transitions of one env into `n`-step transitions.
#[derive(Debug, Clone)]
pub struct NStep {
    n: usize,
    gamma: f32,
    pending: VecDeque<Pending>,
}

impl NStep {
    /// An accumulator for `n`-step returns (`n = 1`: transitions pass through unchanged).
    pub fn new(n: usize, gamma: f32) -> Self {
        NStep { n: n.max(1), gamma, pending: VecDeque::new() }
    }

    /// Add the step `(obs, action, reward) → next_obs` and store every transition that is now
    /// complete into `out`: one once `n` steps are pending, all of them when the episode ended.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        obs: (&[f32], &[u8]),
        action: &[f32],
        reward: f32,
        next_obs: (&[f32], &[u8]),
        terminated: bool,
        truncated: bool,
        out: &mut ReplayBuffer,
    ) {
        self.pending.push_back(Pending {
            obs_f32: obs.0.to_vec(),
            obs_u8: obs.1.to_vec(),
            action: action.to_vec(),
            reward,
        });
        let ended = terminated || truncated;
        while self.pending.len() >= self.n || (ended && !self.pending.is_empty()) {
            let mut ret = 0.0f32;
            let mut discount = 1.0f32;
            for p in &self.pending {
                ret += discount * p.reward;
                discount *= self.gamma;
            }
            let Some(first) = self.pending.pop_front() else { break };
            out.push(&Transition {
                obs: (&first.obs_f32, &first.obs_u8),
                action: &first.action,
                reward: ret,
                next_obs,
                terminated,
                discount,
            });
        }
    }
}

/// PPO's rollout storage: `T` steps of `N` envs, time-major (`t * N + i`).
#[derive(Debug, Clone)]
pub struct Rollout {
    /// Envs per step.
    pub num_envs: usize,
    /// Observations' `f32` parts, `[T * N * f32_len]`.
    pub obs_f32: Vec<f32>,
    /// Observations' `u8` parts.
    pub obs_u8: Vec<u8>,
    /// Actions, `[T * N * dim]` floats (discrete: the index).
    pub actions: Vec<f32>,
    /// Log-probabilities of the actions under the behaviour policy, `[T * N]`.
    pub logprobs: Vec<f32>,
    /// Rewards, `[T * N]`.
    pub rewards: Vec<f32>,
    /// `terminated` flags of each transition.
    pub terminated: Vec<bool>,
    /// `truncated` flags of each transition.
    pub truncated: Vec<bool>,
    /// `false` for next-step-autoreset steps: the action was ignored and the transition
    /// joins two episodes, so it is left out of the loss.
    pub valid: Vec<bool>,
    /// `V(s_t)` at each step plus the bootstrap row, `[(T + 1) * N]`.
    pub values: Vec<f32>,
}

impl Rollout {
    /// Empty storage for `num_envs` envs.
    pub fn new(num_envs: usize) -> Self {
        Rollout {
            num_envs,
            obs_f32: Vec::new(),
            obs_u8: Vec::new(),
            actions: Vec::new(),
            logprobs: Vec::new(),
            rewards: Vec::new(),
            terminated: Vec::new(),
            truncated: Vec::new(),
            valid: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Forget the last rollout, keeping the allocations.
    pub fn clear(&mut self) {
        self.obs_f32.clear();
        self.obs_u8.clear();
        self.actions.clear();
        self.logprobs.clear();
        self.rewards.clear();
        self.terminated.clear();
        self.truncated.clear();
        self.valid.clear();
        self.values.clear();
    }

    /// Indices (into `[T * N]`) of the transitions that count.
    pub fn valid_indices(&self) -> Vec<i64> {
        self.valid.iter().enumerate().filter(|(_, &v)| v).map(|(k, _)| k as i64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Frame stacks of `k` frames of `len` bytes, as an env with `FrameStackObservation`
    /// gives them: each step shifts in one frame; a reset fills the stack with its first
    /// frame. Frame contents come from `pixels` (few values, so unrelated frames coincide
    /// too).
    fn stack_stream(k: usize, len: usize, pixels: &[u8], ends: &[bool]) -> Vec<(Vec<u8>, bool)> {
        let frame =
            |i: usize| -> Vec<u8> { (0..len).map(|j| pixels[(i + j) % pixels.len()]).collect() };
        let mut out = Vec::new();
        let mut stack: VecDeque<Vec<u8>> = VecDeque::new();
        for (t, &end) in ends.iter().enumerate() {
            if stack.is_empty() {
                stack = std::iter::repeat_n(frame(t), k).collect();
            } else {
                stack.pop_front();
                stack.push_back(frame(t * 7));
            }
            out.push((stack.iter().flatten().copied().collect(), end));
            if end {
                stack.clear();
            }
        }
        out
    }

    proptest! {
        /// Sharing frames changes nothing a learner sees: through n-step returns, episode
        /// ends and ring overwrites, every stored transition reads back byte for byte as the
        /// stacks that were pushed, and the store holds no more frames than the transitions
        /// reference.
        #[test]
        fn shared_frames_read_back_as_the_pushed_stacks(
            k in 1usize..5,
            n in 1usize..4,
            capacity in 1usize..12,
            pixels in proptest::collection::vec(0u8..4, 1..6),
            ends in proptest::collection::vec(proptest::bool::weighted(0.15), 2..60),
        ) {
            let (h, w) = (2i64, 3i64);
            let spec = ObsSpec::Stacked { frames: k as i64, hwc: [h, w, 1] };
            let len = (h * w) as usize;
            let stream = stack_stream(k, len, &pixels, &ends);
            let mut rb = ReplayBuffer::new(capacity, spec.clone(), 1);
            let mut plain: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let mut nstep = NStep::new(n, 0.9);
            let mut reference = NStepCapture::default();
            for pair in stream.windows(2) {
                let ((obs, _), (next, end)) = (&pair[0], &pair[1]);
                if pair[0].1 {
                    continue; // the stream restarted: pair[1] is a reset observation
                }
                nstep.push((&[], obs), &[0.0], 1.0, (&[], next), *end, false, &mut rb);
                reference.push(obs, next, *end, n);
            }
            for (o, x) in reference.out {
                plain.push((o, x));
            }
            let kept: Vec<&(Vec<u8>, Vec<u8>)> = plain.iter().rev().take(capacity).collect();
            prop_assert_eq!(rb.len(), kept.len());
            // Ring order: slot i holds the transition pushed at a time ≡ i (mod capacity).
            let total = plain.len();
            for slot in 0..rb.len() {
                let t = if total <= capacity { slot } else {
                    let base = total - capacity;
                    base + (slot + capacity - base % capacity) % capacity
                };
                let b = rb.gather(&[slot as i64], Device::Cpu);
                let bytes = |x: &Tensor| -> Vec<u8> {
                    Vec::try_from(x.permute([0, 1, 2, 3]).to_kind(Kind::Uint8).view([-1])).unwrap()
                };
                let to_layout = |stack: &[u8]| -> Vec<u8> {
                    let t = Tensor::from_slice(stack)
                        .view([1, k as i64, h, w, 1]);
                    spec.to_tensor(&[], &Vec::<u8>::try_from(t.view([-1])).unwrap(), 1, Device::Cpu)
                        .to_kind(Kind::Uint8).view([-1]).try_into().unwrap()
                };
                prop_assert_eq!(bytes(&b.obs), to_layout(&plain[t].0));
                prop_assert_eq!(bytes(&b.next_obs), to_layout(&plain[t].1));
            }
            let store = rb.frames.as_ref().unwrap();
            prop_assert!(store.frames_held() <= 2 * k * rb.len());
        }
    }

    #[test]
    fn a_stack_stream_costs_one_frame_a_transition() {
        // 4-frame stacks of distinct 6-byte frames, one episode of 100 observations: 99
        // transitions, 100 distinct frames (whole stacks would be 99 · 2 · 4 = 792).
        let spec = ObsSpec::Stacked { frames: 4, hwc: [2, 3, 1] };
        let mut rb = ReplayBuffer::new(1000, spec, 1);
        let frame = |t: usize| vec![t as u8; 6];
        let stack =
            |t: usize| -> Vec<u8> { (0..4).flat_map(|j| frame((t + j).max(3) - 3)).collect() };
        for t in 0..99 {
            rb.push(&Transition {
                obs: (&[], &stack(t)),
                action: &[0.0],
                reward: 0.0,
                next_obs: (&[], &stack(t + 1)),
                terminated: false,
                discount: 0.9,
            });
        }
        assert_eq!(rb.frames.as_ref().unwrap().frames_held(), 100);
        let (_, u8_len) = ObsSpec::Stacked { frames: 4, hwc: [2, 3, 1] }.lens();
        assert_eq!(u8_len, 24);
    }

    /// The `(obs, next_obs)` pairs n-step returns store, in order, worked out directly: the
    /// transition from step `t` pairs `s_t` with `s_{t+n}`, or with the episode's last
    /// observation when it ends first.
    #[derive(Default)]
    struct NStepCapture {
        pending: VecDeque<Vec<u8>>,
        out: Vec<(Vec<u8>, Vec<u8>)>,
    }

    impl NStepCapture {
        fn push(&mut self, obs: &[u8], next: &[u8], end: bool, n: usize) {
            self.pending.push_back(obs.to_vec());
            if end {
                while let Some(o) = self.pending.pop_front() {
                    self.out.push((o, next.to_vec()));
                }
            } else if self.pending.len() == n {
                let o = self.pending.pop_front().unwrap();
                self.out.push((o, next.to_vec()));
            }
        }
    }

    fn buffer() -> ReplayBuffer {
        ReplayBuffer::new(3, ObsSpec::Vector(1), 1)
    }

    fn rewards(b: &ReplayBuffer) -> Vec<f32> {
        let batch = b.gather(&(0..b.len() as i64).collect::<Vec<_>>(), Device::Cpu);
        Vec::try_from(&batch.rewards).unwrap()
    }

    #[test]
    fn ring_overwrites_the_oldest() {
        let mut b = buffer();
        for r in 0..5 {
            let o = [r as f32];
            b.push(&Transition {
                obs: (&o, &[]),
                action: &[0.0],
                reward: r as f32,
                next_obs: (&o, &[]),
                terminated: false,
                discount: 0.99,
            });
        }
        assert_eq!(b.len(), 3);
        assert_eq!(rewards(&b), vec![3.0, 4.0, 2.0]);
    }

    #[test]
    fn n_step_returns_and_episode_flush() {
        let mut b = ReplayBuffer::new(10, ObsSpec::Vector(1), 1);
        let mut ns = NStep::new(3, 0.5);
        // Rewards 1, 2, 4, 8; the episode terminates after the 4th step.
        for (t, r) in [1.0f32, 2.0, 4.0, 8.0].iter().enumerate() {
            let (o, n) = ([t as f32], [t as f32 + 1.0]);
            ns.push((&o, &[]), &[0.0], *r, (&n, &[]), t == 3, false, &mut b);
        }
        let batch = b.gather(&[0, 1, 2, 3], Device::Cpu);
        let r: Vec<f32> = Vec::try_from(&batch.rewards).unwrap();
        let d: Vec<f32> = Vec::try_from(&batch.discounts).unwrap();
        let term: Vec<f32> = Vec::try_from(&batch.terminated).unwrap();
        let next: Vec<f32> = Vec::try_from(&batch.next_obs.view([-1])).unwrap();
        // Step 0: 1 + 0.5*2 + 0.25*4 = 3, bootstrapped from s_3 with 0.125.
        assert_eq!(r, vec![3.0, 2.0 + 2.0 + 2.0, 4.0 + 4.0, 8.0]);
        assert_eq!(d, vec![0.125, 0.125, 0.25, 0.5]);
        assert_eq!(term, vec![0.0, 1.0, 1.0, 1.0]);
        assert_eq!(next, vec![3.0, 4.0, 4.0, 4.0]);
    }
}
