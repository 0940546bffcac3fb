//! How a vector environment resets finished sub-environments and how it spreads work over
//! threads.
//!
//! The autoreset modes are Gymnasium 1.x's `gymnasium.vector.AutoresetMode`; see
//! <https://farama.org/Vector-Autoreset-Mode> for the trade-offs between them.

use serde::{Deserialize, Serialize};

/// What happens to a sub-environment whose episode ended (Gymnasium's `AutoresetMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoresetMode {
    /// The step after the episode ended resets the sub-environment: that step ignores its
    /// action and returns the first observation of the new episode, reward 0 and both flags
    /// false. Gymnasium's default.
    #[default]
    NextStep,
    /// The sub-environment is reset within the step that ended it: the batch holds the new
    /// episode's first observation, the reward and flags of the final transition, and the
    /// final observation and info go to `final_obs` / `final_info`.
    SameStep,
    /// Nothing is reset automatically; the caller resets finished sub-environments with
    /// [`VectorEnv::reset_mask`](crate::vector::VectorEnv::reset_mask). Stepping one that
    /// has ended is an error.
    Disabled,
}

impl AutoresetMode {
    /// Gymnasium's value for the mode (`"NextStep"`, `"SameStep"`, `"Disabled"`).
    pub fn gymnasium_name(self) -> &'static str {
        match self {
            AutoresetMode::NextStep => "NextStep",
            AutoresetMode::SameStep => "SameStep",
            AutoresetMode::Disabled => "Disabled",
        }
    }
}

/// Whether a batch is stepped on the calling thread or across a thread pool.
///
/// Both give bit-identical results: each sub-environment is stepped by exactly one thread,
/// and writes only its own slots of the batch buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Execution {
    /// Let [`make_vec`](crate::registry::make_vec) choose from the id: threaded on every
    /// core for environments whose step costs microseconds (MuJoCo: tens of µs per step, so
    /// waking a worker pays), sequential for the rest (classic control and MinAtar step in
    /// nanoseconds, where a wake-up costs more than the step). A [`VectorEnv`] built
    /// directly runs it sequentially.
    ///
    /// [`VectorEnv`]: crate::vector::VectorEnv
    #[default]
    Auto,
    /// Step sub-environments one after another on the calling thread.
    Sequential,
    /// Split the batch into `threads` contiguous blocks: the calling thread steps the first,
    /// `threads - 1` dedicated workers the others (`threads = 0`: one per available core).
    Threaded {
        /// Threads stepping the batch, the caller included; 0 picks the number of available
        /// cores.
        threads: usize,
    },
}

/// Settings of a [`VectorEnv`](crate::vector::VectorEnv).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VectorConfig {
    /// How finished sub-environments are reset (default: next step, as Gymnasium).
    pub autoreset: AutoresetMode,
    /// Sequential or threaded stepping (default: [`Execution::Auto`], which `make_vec`
    /// resolves per id).
    pub execution: Execution,
    /// Threaded mode: the sub-envs a thread claims at a time, and the fewest it is given. A
    /// batch smaller than twice this runs on the calling thread, because a hand-off between
    /// threads costs microseconds: for envs that step in tens of nanoseconds (CartPole) use
    /// ~64 or more; for MuJoCo and pixel envs 1 (0 means 1).
    pub min_envs_per_thread: usize,
}

impl VectorConfig {
    /// The given autoreset mode, execution chosen by `make_vec` ([`Execution::Auto`]).
    pub fn with_autoreset(autoreset: AutoresetMode) -> Self {
        VectorConfig { autoreset, ..Default::default() }
    }

    /// Sequential stepping, next-step autoreset.
    pub fn sequential() -> Self {
        VectorConfig { execution: Execution::Sequential, ..Default::default() }
    }

    /// Threaded stepping on `threads` workers (0: one per core), next-step autoreset.
    pub fn threaded(threads: usize) -> Self {
        VectorConfig { execution: Execution::Threaded { threads }, ..Default::default() }
    }
}
