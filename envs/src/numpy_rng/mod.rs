//! numpy's default random generator, reproduced bit for bit: `SeedSequence` hashing, the
//! `PCG64` bit generator, and the `Generator` draws Gymnasium's environments make
//! (`random`, `uniform`, the ziggurat `standard_normal`, `integers`).
//!
//! Gymnasium seeds every environment with `Generator(PCG64(SeedSequence(seed)))` and draws its
//! reset noise from it, so an environment that draws from [`NumpyRng`] starts each episode in
//! the state Gymnasium starts it in for the same seed. `tests/numpy_rng.rs` checks the streams
//! against numpy 2.4.6 (`fixtures/gymnasium/gen_seeding.py`).
//!
//! ```
//! use graft_envs::{make, Env, Kwargs, NumpyRng};
//!
//! // np.random.default_rng(0): the same draws, to the last bit.
//! let mut rng = NumpyRng::from_seed(0);
//! assert_eq!(rng.uniform(-0.05, 0.05), 0.013696168732145436);
//! assert_eq!(NumpyRng::from_seed(0).standard_normal(), 0.1257302210933933);
//! assert_eq!(NumpyRng::from_seed(0).integers(0, 10)?, 8);
//!
//! // gym.make("CartPole-v1").reset(seed=42), as Gymnasium's documentation shows it.
//! let mut env = make("CartPole-v1", &Kwargs::new())?;
//! let (obs, _) = env.reset(Some(42), &Kwargs::new())?;
//! assert_eq!(obs.f32, [0.027395604, -0.006112156, 0.035859793, 0.019736802]);
//! # Ok::<(), graft_envs::EnvError>(())
//! ```

mod generator;
mod pcg64;
pub mod random_state;
mod seed_sequence;
mod ziggurat;
mod ziggurat_tables;

pub use generator::{uniform_bounds_error, NumpyRng};
pub use pcg64::{Pcg64, Pcg64State};
pub use random_state::RandomState;
pub use seed_sequence::{SeedSequence, POOL_SIZE};
