//! A contiguous block of sub-environments together with their slots in the batch buffers.
//!
//! The vector env steps a batch by handing [`Lanes`] to one thread (sequential mode) or by
//! splitting them into disjoint blocks for its [`WorkerPool`] (threaded mode). Each sub-env only
//! ever writes its own slots, so both modes give the same bytes, and splitting slices needs
//! no allocation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut};
use crate::error::{EnvError, Result};
use crate::vector::config::AutoresetMode;
use crate::vector::pool::WorkerPool;

/// Options for autoresets, which Gymnasium calls with no options.
static NO_OPTIONS: Kwargs = Kwargs::new();

/// A batch of actions, one per sub-environment, laid out flat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchAction<'a> {
    /// One integer per sub-env, for a `Discrete` action space (`[N]`).
    Discrete(&'a [i64]),
    /// `dim` floats per sub-env, for a `float32` `Box` action space (`[N * dim]`, row-major).
    Continuous(&'a [f32]),
    /// `k` integers per sub-env, for a `MultiDiscrete` action space (`[N * k]`).
    MultiDiscrete(&'a [i64]),
}

impl<'a> BatchAction<'a> {
    /// Number of values in the batch.
    pub fn len(&self) -> usize {
        match self {
            BatchAction::Discrete(xs) | BatchAction::MultiDiscrete(xs) => xs.len(),
            BatchAction::Continuous(xs) => xs.len(),
        }
    }

    /// Whether the batch holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The action of sub-env `i`, where each takes `dim` values.
    #[inline]
    pub(crate) fn at(&self, i: usize, dim: usize) -> ActionRef<'a> {
        match *self {
            BatchAction::Discrete(xs) => ActionRef::Discrete(xs[i]),
            BatchAction::Continuous(xs) => ActionRef::Continuous(&xs[i * dim..(i + 1) * dim]),
            BatchAction::MultiDiscrete(xs) => ActionRef::MultiDiscrete(&xs[i * dim..(i + 1) * dim]),
        }
    }
}

/// Wrap a sub-env's error with its index.
pub(crate) fn sub_env(index: usize) -> impl Fn(EnvError) -> EnvError {
    move |e| EnvError::SubEnv { index, source: Box::new(e) }
}

/// Sub-envs `first .. first + envs.len()` and their slots in every batch buffer.
pub(crate) struct Lanes<'a, E> {
    /// Global index of `envs[0]`, for error messages, seeds and masks.
    pub first: usize,
    pub envs: &'a mut [E],
    pub states: &'a mut [EpisodeState],
    pub obs_f32: &'a mut [f32],
    pub obs_u8: &'a mut [u8],
    pub rewards: &'a mut [f64],
    pub terminated: &'a mut [bool],
    pub truncated: &'a mut [bool],
    pub infos: &'a mut [Info],
    pub final_mask: &'a mut [bool],
    /// `final_f32_len` values per sub-env: `f32_len` in same-step mode, otherwise 0.
    pub final_f32: &'a mut [f32],
    pub final_u8: &'a mut [u8],
    pub final_infos: &'a mut [Info],
    pub f32_len: usize,
    pub u8_len: usize,
    pub final_f32_len: usize,
    pub final_u8_len: usize,
}

fn split<T>(s: &mut [T], k: usize) -> (&mut [T], &mut [T]) {
    s.split_at_mut(k)
}

impl<'a, E: Env> Lanes<'a, E> {
    /// Number of sub-envs in the block.
    pub fn len(&self) -> usize {
        self.envs.len()
    }

    /// Split into sub-envs `[0, k)` and `[k, len)`.
    pub fn split_at(self, k: usize) -> (Lanes<'a, E>, Lanes<'a, E>) {
        let (envs_a, envs_b) = split(self.envs, k);
        let (states_a, states_b) = split(self.states, k);
        let (of_a, of_b) = split(self.obs_f32, k * self.f32_len);
        let (ou_a, ou_b) = split(self.obs_u8, k * self.u8_len);
        let (r_a, r_b) = split(self.rewards, k);
        let (te_a, te_b) = split(self.terminated, k);
        let (tr_a, tr_b) = split(self.truncated, k);
        let (i_a, i_b) = split(self.infos, k);
        let (fm_a, fm_b) = split(self.final_mask, k);
        let (ff_a, ff_b) = split(self.final_f32, k * self.final_f32_len);
        let (fu_a, fu_b) = split(self.final_u8, k * self.final_u8_len);
        let (fi_a, fi_b) = split(self.final_infos, k);
        let lens = (self.f32_len, self.u8_len, self.final_f32_len, self.final_u8_len);
        let make = |first, envs, states, of, ou, r, te, tr, i, fm, ff, fu, fi| Lanes {
            first,
            envs,
            states,
            obs_f32: of,
            obs_u8: ou,
            rewards: r,
            terminated: te,
            truncated: tr,
            infos: i,
            final_mask: fm,
            final_f32: ff,
            final_u8: fu,
            final_infos: fi,
            f32_len: lens.0,
            u8_len: lens.1,
            final_f32_len: lens.2,
            final_u8_len: lens.3,
        };
        let a = make(
            self.first, envs_a, states_a, of_a, ou_a, r_a, te_a, tr_a, i_a, fm_a, ff_a, fu_a, fi_a,
        );
        let b = make(
            self.first + k,
            envs_b,
            states_b,
            of_b,
            ou_b,
            r_b,
            te_b,
            tr_b,
            i_b,
            fm_b,
            ff_b,
            fu_b,
            fi_b,
        );
        (a, b)
    }

    /// Reset the sub-envs that `mask` selects (all when `None`); sub-env `i` gets `seed + i`.
    pub fn reset(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mask: Option<&[bool]>,
    ) -> Result<()> {
        for j in 0..self.len() {
            let i = self.first + j;
            if mask.is_some_and(|m| !m[i]) {
                continue;
            }
            let s = seed.map(|s| s.wrapping_add(i as u64));
            let (f32_len, u8_len) = (self.f32_len, self.u8_len);
            let obs = ObsMut {
                f32: &mut self.obs_f32[j * f32_len..(j + 1) * f32_len],
                u8: &mut self.obs_u8[j * u8_len..(j + 1) * u8_len],
            };
            self.infos[j] = self.envs[j].reset_into(s, options, obs).map_err(sub_env(i))?;
            self.states[j] = EpisodeState::Running;
            self.rewards[j] = 0.0;
            self.terminated[j] = false;
            self.truncated[j] = false;
            self.final_mask[j] = false;
            if !self.final_infos[j].is_empty() {
                self.final_infos[j] = Info::new();
            }
        }
        Ok(())
    }

    /// Step every sub-env of the block. Actions were checked by the caller.
    pub fn step(
        &mut self,
        actions: BatchAction<'_>,
        dim: usize,
        mode: AutoresetMode,
    ) -> Result<()> {
        for j in 0..self.len() {
            let i = self.first + j;
            if mode == AutoresetMode::NextStep && self.states[j] == EpisodeState::Done {
                let (f32_len, u8_len) = (self.f32_len, self.u8_len);
                let obs = ObsMut {
                    f32: &mut self.obs_f32[j * f32_len..(j + 1) * f32_len],
                    u8: &mut self.obs_u8[j * u8_len..(j + 1) * u8_len],
                };
                let info = reset_env(&mut self.envs[j], obs, i)?;
                self.infos[j] = info;
                self.states[j] = EpisodeState::Running;
                self.rewards[j] = 0.0;
                self.terminated[j] = false;
                self.truncated[j] = false;
                continue;
            }
            let (f32_len, u8_len) = (self.f32_len, self.u8_len);
            let of = &mut self.obs_f32[j * f32_len..(j + 1) * f32_len];
            let ou = &mut self.obs_u8[j * u8_len..(j + 1) * u8_len];
            let env = &mut self.envs[j];
            let out = env
                .step_into(actions.at(i, dim), ObsMut { f32: &mut *of, u8: &mut *ou })
                .map_err(sub_env(i))?;
            self.rewards[j] = out.reward;
            self.terminated[j] = out.terminated;
            self.truncated[j] = out.truncated;
            let done = out.terminated || out.truncated;
            if mode == AutoresetMode::SameStep {
                if done {
                    self.final_mask[j] = true;
                    self.final_f32[j * f32_len..(j + 1) * f32_len].copy_from_slice(of);
                    self.final_u8[j * u8_len..(j + 1) * u8_len].copy_from_slice(ou);
                    self.final_infos[j] = out.info;
                    self.infos[j] = reset_env(env, ObsMut { f32: of, u8: ou }, i)?;
                    self.states[j] = EpisodeState::Running;
                    continue;
                }
                self.final_mask[j] = false;
                if !self.final_infos[j].is_empty() {
                    self.final_infos[j] = Info::new();
                }
            }
            self.infos[j] = out.info;
            self.states[j] = EpisodeState::after_step(out.terminated, out.truncated);
        }
        Ok(())
    }
}

/// Autoreset: continue the sub-env's own random stream, no options (as Gymnasium does).
#[inline]
fn reset_env<E: Env>(env: &mut E, obs: ObsMut<'_>, index: usize) -> Result<Info> {
    env.reset_into(None, &NO_OPTIONS, obs).map_err(sub_env(index))
}

/// Run `f` on `lanes` cut into chunks of `chunk` sub-envs, which the threads of `pool` claim
/// one at a time until none is left: a thread the OS sets aside holds up one chunk, not a
/// fixed share of the batch (EnvPool's workers take sub-envs from a queue the same way).
/// Each chunk is stepped by one thread, so results do not depend on who claimed it. Errors
/// come back in sub-env order (the lowest index wins), as in a sequential run.
pub(crate) fn run_on_pool<E, F>(
    pool: &WorkerPool,
    lanes: Lanes<'_, E>,
    chunk: usize,
    f: &F,
) -> Result<()>
where
    E: Env,
    F: Fn(&mut Lanes<'_, E>) -> Result<()> + Sync,
{
    let chunk = chunk.max(1);
    let mut chunks = Vec::with_capacity(lanes.len().div_ceil(chunk));
    let mut rest = lanes;
    while rest.len() > chunk {
        let (head, tail) = rest.split_at(chunk);
        chunks.push(Mutex::new((head, Ok(()))));
        rest = tail;
    }
    chunks.push(Mutex::new((rest, Ok(()))));
    let next = AtomicUsize::new(0);
    pool.run(&|_| loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = chunks.get(k) else { break };
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        let (lanes, result) = &mut *slot;
        *result = f(lanes);
    });
    chunks
        .into_iter()
        .map(|c| c.into_inner().unwrap_or_else(|e| e.into_inner()).1)
        .collect::<Result<Vec<()>>>()
        .map(|_| ())
}
