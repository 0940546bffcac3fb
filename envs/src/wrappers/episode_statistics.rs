//! `RecordEpisodeStatistics`: at the end of each episode, `info["episode"] = {r, l, t}` with
//! the return, the length and the wall-clock seconds since the episode began, as Gymnasium
//! 1.x's `gymnasium.wrappers.RecordEpisodeStatistics`; the last `buffer_length` episodes are
//! kept in `return_queue`, `length_queue` and `time_queue`.

use std::collections::VecDeque;
use std::time::Instant;

use crate::env::{ActionRef, Env, Info, Kwargs, ObsMut, StepOutcome, Value};
use crate::error::{EnvError, Result};
use crate::space::Space;

inner_accessors!(RecordEpisodeStatistics);

/// Records each episode's return, length and duration (see the module docs).
#[derive(Debug)]
pub struct RecordEpisodeStatistics<E> {
    env: E,
    stats_key: String,
    buffer_length: usize,
    episode_start: Instant,
    episode_return: f64,
    episode_length: u64,
    /// Number of episodes finished so far.
    pub episode_count: u64,
    /// Returns of the last `buffer_length` episodes, oldest first.
    pub return_queue: VecDeque<f64>,
    /// Lengths of the last `buffer_length` episodes, oldest first.
    pub length_queue: VecDeque<u64>,
    /// Durations in seconds (rounded to microseconds) of the last `buffer_length` episodes.
    pub time_queue: VecDeque<f64>,
}

impl<E: Env> RecordEpisodeStatistics<E> {
    /// Gymnasium's defaults: `buffer_length = 100`, `stats_key = "episode"`.
    pub fn new(env: E) -> Self {
        Self::with_options(env, 100, "episode")
    }

    /// Keep the last `buffer_length` episodes (0 keeps none, like a `deque(maxlen=0)`) and
    /// report under `info[stats_key]`.
    pub fn with_options(env: E, buffer_length: usize, stats_key: &str) -> Self {
        RecordEpisodeStatistics {
            env,
            stats_key: stats_key.to_string(),
            buffer_length,
            episode_start: Instant::now(),
            episode_return: 0.0,
            episode_length: 0,
            episode_count: 0,
            return_queue: VecDeque::with_capacity(buffer_length),
            length_queue: VecDeque::with_capacity(buffer_length),
            time_queue: VecDeque::with_capacity(buffer_length),
        }
    }

    fn push<T>(queue: &mut VecDeque<T>, cap: usize, x: T) {
        if cap == 0 {
            return;
        }
        if queue.len() == cap {
            queue.pop_front();
        }
        queue.push_back(x);
    }
}

impl<E: Env> Env for RecordEpisodeStatistics<E> {
    forward_env_basics!();

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        let info = self.env.reset_into(seed, options, obs)?;
        self.episode_start = Instant::now();
        self.episode_return = 0.0;
        self.episode_length = 0;
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        let mut out = self.env.step_into(action, obs)?;
        self.episode_return += out.reward;
        self.episode_length += 1;
        if out.terminated || out.truncated {
            if out.info.contains_key(&self.stats_key) {
                return Err(EnvError::Other(format!(
                    "{}: RecordEpisodeStatistics: info already has the key '{}'",
                    self.env.id(),
                    self.stats_key
                )));
            }
            let seconds = (self.episode_start.elapsed().as_secs_f64() * 1e6).round() / 1e6;
            let mut stats = Info::new();
            stats.insert("r".into(), Value::Float(self.episode_return));
            stats.insert("l".into(), Value::Int(self.episode_length as i64));
            stats.insert("t".into(), Value::Float(seconds));
            out.info.insert(self.stats_key.clone(), Value::Map(stats));
            let cap = self.buffer_length;
            Self::push(&mut self.time_queue, cap, seconds);
            Self::push(&mut self.return_queue, cap, self.episode_return);
            Self::push(&mut self.length_queue, cap, self.episode_length);
            self.episode_count += 1;
            self.episode_start = Instant::now();
        }
        Ok(out)
    }
}
