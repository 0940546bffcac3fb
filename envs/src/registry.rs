//! The environment registry: Gymnasium ids to constructors and specs, and `make`, which builds
//! an environment and wraps it in a [`TimeLimit`] as `gymnasium.make` does.
//!
//! Every family contributes a list of [`Registration`]s; the table is their concatenation.
//! Adding an environment is one entry in its family's list.

use std::sync::OnceLock;

use crate::classic::{
    Acrobot, CartPole, CartPoleVectorEnv, MountainCar, MountainCarContinuous, Pendulum,
};
use crate::env::{Env, Kwargs, Value};
use crate::error::{EnvError, Result};
use crate::space::Space;
use crate::spec::EnvSpec;
use crate::vector::{AutoresetMode, BatchAction, BatchView, Execution, VectorConfig, VectorEnv};
use crate::wrappers::time_limit::TimeLimit;

/// Builds the environment registered as the first argument from keyword arguments (the spec's
/// defaults merged with the caller's, `max_episode_steps` and `render_mode` already taken out).
/// The id lets one function serve a family whose ids differ only in data (the Control
/// Suite's tasks, the Atari games).
pub type Constructor = fn(&str, &Kwargs) -> Result<Box<dyn Env>>;

/// One registered id: what `spec` reports and how `make` builds it.
#[derive(Debug, Clone, Copy)]
pub struct Registration {
    /// Gymnasium's id, e.g. `"CartPole-v1"`.
    pub id: &'static str,
    /// `make` wraps the env in a `TimeLimit` of this many steps, if set.
    pub max_episode_steps: Option<u64>,
    /// The return at which the task counts as solved, if declared.
    pub reward_threshold: Option<f64>,
    /// Whether the same seed can still give different trajectories.
    pub nondeterministic: bool,
    /// The constructor.
    pub make: Constructor,
}

impl Registration {
    /// The spec `spec(id)` returns.
    pub fn spec(&self) -> EnvSpec {
        EnvSpec {
            id: self.id.to_string(),
            max_episode_steps: self.max_episode_steps,
            reward_threshold: self.reward_threshold,
            nondeterministic: self.nondeterministic,
            kwargs: Kwargs::new(),
        }
    }
}

fn boxed<E: Env + 'static>(env: Result<E>) -> Result<Box<dyn Env>> {
    env.map(|e| Box::new(e) as Box<dyn Env>)
}

/// Builds an environment already inside its `TimeLimit` (the limit is the second argument),
/// so that the `Box<dyn Env>` `make` returns holds a `TimeLimit<E>`: one virtual call per
/// step instead of two (`Box<dyn Env>` around `TimeLimit<Box<dyn Env>>`), and the wrapper's
/// bookkeeping inlined into the env's step.
type LimitedConstructor = fn(&Kwargs, u64) -> Result<Box<dyn Env>>;

fn limited<E: Env + 'static>(env: Result<E>, limit: u64) -> Result<Box<dyn Env>> {
    Ok(Box::new(TimeLimit::new(env?, limit)?))
}

/// The typed `make` path of the ids that have one (the classic-control envs, whose steps are
/// cheap enough for a virtual call to show). Other ids get `TimeLimit<Box<dyn Env>>`.
/// CartPole-v1 gets a `CartPole` with its built-in time limit
/// ([`CartPole::with_time_limit`]: `TimeLimit`'s semantics without the wrapper).
fn limited_constructor(id: &str) -> Option<LimitedConstructor> {
    let build: LimitedConstructor = match id {
        // CartPole counts its own steps: one object, no wrapper layer, same semantics.
        "CartPole-v1" => {
            |kw, n| boxed(CartPole::from_kwargs(kw).and_then(|e| e.with_time_limit(n)))
        }
        "MountainCar-v0" => |kw, n| limited(MountainCar::from_kwargs(kw), n),
        "MountainCarContinuous-v0" => |kw, n| limited(MountainCarContinuous::from_kwargs(kw), n),
        "Acrobot-v1" => |kw, n| limited(Acrobot::from_kwargs(kw), n),
        "Pendulum-v1" => |kw, n| limited(Pendulum::from_kwargs(kw), n),
        _ => return None,
    };
    Some(build)
}

/// Gymnasium's classic-control registrations (ids, limits and thresholds as in
/// `gymnasium/envs/__init__.py`).
fn classic_control() -> Vec<Registration> {
    fn entry(
        id: &'static str,
        max_episode_steps: u64,
        reward_threshold: Option<f64>,
        make: Constructor,
    ) -> Registration {
        Registration {
            id,
            max_episode_steps: Some(max_episode_steps),
            reward_threshold,
            nondeterministic: false,
            make,
        }
    }
    vec![
        entry("CartPole-v1", 500, Some(475.0), |_, kw| boxed(CartPole::from_kwargs(kw))),
        entry("MountainCar-v0", 200, Some(-110.0), |_, kw| boxed(MountainCar::from_kwargs(kw))),
        entry("MountainCarContinuous-v0", 999, Some(90.0), |_, kw| {
            boxed(MountainCarContinuous::from_kwargs(kw))
        }),
        entry("Acrobot-v1", 500, Some(-100.0), |_, kw| boxed(Acrobot::from_kwargs(kw))),
        entry("Pendulum-v1", 200, None, |_, kw| boxed(Pendulum::from_kwargs(kw))),
    ]
}

fn table() -> &'static [Registration] {
    static TABLE: OnceLock<Vec<Registration>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut all = classic_control();
        // Other families append their registrations here, one `extend` each.
        all.extend(crate::minatar::registrations());
        all.extend(crate::mujoco::registrations());
        all.extend(crate::dmc::registrations());
        #[cfg(feature = "atari")]
        all.extend(crate::atari::registrations());
        all.sort_by(|a, b| a.id.cmp(b.id));
        all
    })
}

fn lookup(id: &str) -> Result<&'static Registration> {
    if id.starts_with("dmc/") {
        // The suite's own message lists its domains, or the tasks of the domain named.
        crate::dmc::find(id)?;
    }
    #[cfg(feature = "atari")]
    if crate::atari::is_atari_id(id) {
        // Lists the games when the id is in Atari's syntax but names none.
        crate::atari::find(id)?;
    }
    #[cfg(not(feature = "atari"))]
    if id.starts_with("ALE/") || id.contains("NoFrameskip-v") {
        return Err(EnvError::Other(format!(
            "'{id}' is an Atari game: this build of graft-envs has no Arcade Learning \
             Environment. Run scripts/setup.sh --atari, then build with --features atari \
             (ALE is GPL-2.0, so it is not in the default build)"
        )));
    }
    table().iter().find(|r| r.id == id).ok_or_else(|| {
        // The few hundred Atari ids would drown the list: they are summarised at its end.
        let listed = table().iter().map(|r| r.id).filter(|id| !is_atari(id));
        let mut known = listed.collect::<Vec<_>>().join(", ");
        if cfg!(feature = "atari") {
            known.push_str(", and the Atari games as ALE/<Game>-v5 (and legacy -v0/-v4 ids)");
        }
        EnvError::UnknownEnv { id: id.to_string(), known }
    })
}

/// Whether `id` is one of the Atari ids (always false without the `atari` feature).
fn is_atari(id: &str) -> bool {
    #[cfg(feature = "atari")]
    return crate::atari::is_atari_id(id);
    #[cfg(not(feature = "atari"))]
    {
        let _ = id;
        false
    }
}

/// The spec of a registered id.
pub fn spec(id: &str) -> Result<EnvSpec> {
    lookup(id).map(Registration::spec)
}

/// Every registered spec, sorted by id.
pub fn registered() -> Vec<EnvSpec> {
    table().iter().map(Registration::spec).collect()
}

/// Env arguments that change how an agent *learns* from a game, not the game it is scored
/// on: Atari's `episodic_life` and `terminal_on_life_loss` (a lost life ends the agent's
/// episode) and `clip_reward` (rewards become their sign). Published Atari scores are whole
/// games in raw points (Machado et al. 2018, "Revisiting the Arcade Learning Environment";
/// CleanRL records returns beneath these wrappers), so evaluation leaves them out
/// ([`evaluation_kwargs`]).
pub const TRAINING_ONLY_KWARGS: [&str; 3] =
    ["episodic_life", "terminal_on_life_loss", "clip_reward"];

/// `kwargs` without [`TRAINING_ONLY_KWARGS`]: the env an agent trained with `kwargs` is
/// evaluated on. Only Atari's `make` reads these keys, so other envs' arguments pass through
/// unchanged.
pub fn evaluation_kwargs(kwargs: &Kwargs) -> Kwargs {
    kwargs
        .iter()
        .filter(|(k, _)| !TRAINING_ONLY_KWARGS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Build the environment registered as `id`, as `gymnasium.make(id, **kwargs)`.
///
/// `kwargs` go to the environment's constructor, except two that `make` itself takes:
/// `max_episode_steps` (an int overriding the spec's limit; `-1` means no `TimeLimit`) and
/// `render_mode` (only `"rgb_array"`, which every env supports anyway). Unknown ids give
/// [`EnvError::UnknownEnv`]; unknown or ill-typed arguments [`EnvError::BadKwarg`].
pub fn make(id: &str, kwargs: &Kwargs) -> Result<Box<dyn Env>> {
    let reg = lookup(id)?;
    let mut env_kwargs = reg.spec().kwargs;
    let mut limit = reg.max_episode_steps;
    for (key, value) in kwargs {
        match (key.as_str(), value) {
            ("max_episode_steps", Value::Int(-1)) => limit = None,
            ("max_episode_steps", Value::Int(n)) if *n > 0 => limit = Some(*n as u64),
            ("max_episode_steps", v) => return Err(bad(id, key, "a positive int or -1", v)),
            ("render_mode", Value::Str(s)) if s == "rgb_array" => {}
            ("render_mode", v) => return Err(bad(id, key, "\"rgb_array\"", v)),
            _ => {
                env_kwargs.insert(key.clone(), value.clone());
            }
        }
    }
    match (limit, limited_constructor(reg.id)) {
        (Some(n), Some(build)) => build(&env_kwargs, n),
        (Some(n), None) => Ok(Box::new(TimeLimit::new((reg.make)(reg.id, &env_kwargs)?, n)?)),
        (None, _) => (reg.make)(reg.id, &env_kwargs),
    }
}

/// [`make`] with the arguments as pairs: `make_with("Pendulum-v1", [("g", Value::Float(9.81))])`.
pub fn make_with<'a>(
    id: &str,
    kwargs: impl IntoIterator<Item = (&'a str, Value)>,
) -> Result<Box<dyn Env>> {
    let kwargs: Kwargs = kwargs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    make(id, &kwargs)
}

/// A batch of environments from [`make_vec`]: a native batched implementation where the id
/// has one and the config allows it, else a [`VectorEnv`] over [`make`]. Both have Gymnasium's
/// vector semantics (sub-env `i` seeded `seed + i`, contiguous batch buffers).
#[derive(Debug)]
pub enum VecEnv {
    /// `CartPole-v1`, sequential, next-step autoreset: the structure-of-arrays
    /// [`CartPoleVectorEnv`] (Gymnasium's `vectorization_mode="vector_entry_point"`).
    CartPole(CartPoleVectorEnv),
    /// Any other id or config: N envs from [`make`] (Gymnasium's `"sync"` mode).
    Sync(VectorEnv),
}

impl VecEnv {
    /// Number of sub-environments N.
    pub fn num_envs(&self) -> usize {
        match self {
            VecEnv::CartPole(v) => v.num_envs(),
            VecEnv::Sync(v) => v.num_envs(),
        }
    }

    /// One sub-env's observation space.
    pub fn single_observation_space(&self) -> &Space {
        match self {
            VecEnv::CartPole(v) => v.single_observation_space(),
            VecEnv::Sync(v) => v.single_observation_space(),
        }
    }

    /// One sub-env's action space.
    pub fn single_action_space(&self) -> &Space {
        match self {
            VecEnv::CartPole(v) => v.single_action_space(),
            VecEnv::Sync(v) => v.single_action_space(),
        }
    }

    /// Reset every sub-env; sub-env `i` is seeded with `seed + i`.
    pub fn reset(&mut self, seed: Option<u64>, options: &Kwargs) -> Result<BatchView<'_>> {
        match self {
            VecEnv::CartPole(v) => v.reset(seed, options),
            VecEnv::Sync(v) => v.reset(seed, options),
        }
    }

    /// Step every sub-env (see [`VectorEnv::step`]).
    pub fn step(&mut self, actions: BatchAction<'_>) -> Result<BatchView<'_>> {
        match self {
            VecEnv::CartPole(v) => v.step(actions),
            VecEnv::Sync(v) => v.step(actions),
        }
    }

    /// [`step`](Self::step) with one integer action per sub-env.
    pub fn step_discrete(&mut self, actions: &[i64]) -> Result<BatchView<'_>> {
        self.step(BatchAction::Discrete(actions))
    }

    /// [`step`](Self::step) with `N * dim` floats, row-major (`Box` action spaces, MuJoCo).
    pub fn step_continuous(&mut self, actions: &[f32]) -> Result<BatchView<'_>> {
        self.step(BatchAction::Continuous(actions))
    }

    /// The current batch.
    pub fn view(&self) -> BatchView<'_> {
        match self {
            VecEnv::CartPole(v) => v.view(),
            VecEnv::Sync(v) => v.view(),
        }
    }
}

/// `num_envs` copies of the registered environment `id`, as
/// `gymnasium.make_vec(id, num_envs, **kwargs)`: `CartPole-v1` with a sequential (or auto),
/// next-step config gets the native [`CartPoleVectorEnv`] (about 10x faster per env-step);
/// everything else a [`VectorEnv`] over [`make`] with `config`. `kwargs` are [`make`]'s.
///
/// [`Execution::Auto`] (the default) becomes a thread pool with one worker per core for the
/// MuJoCo ids — each sub-env is stepped by one worker, so the batch is bit-identical to a
/// sequential run — and sequential stepping for the others. The MuJoCo sub-envs share one
/// compiled model.
pub fn make_vec(
    id: &str,
    num_envs: usize,
    kwargs: &Kwargs,
    config: VectorConfig,
) -> Result<VecEnv> {
    let mut config = config;
    if config.execution == Execution::Auto {
        config.execution =
            if is_mujoco(id) { Execution::Threaded { threads: 0 } } else { Execution::Sequential };
    }
    let native =
        config.autoreset == AutoresetMode::NextStep && config.execution == Execution::Sequential;
    if id == "CartPole-v1" && native {
        return CartPoleVectorEnv::from_kwargs(num_envs, kwargs).map(VecEnv::CartPole);
    }
    VectorEnv::make(id, num_envs, kwargs, config).map(VecEnv::Sync)
}

/// Whether `id` is one of the MuJoCo environments (Gymnasium's or the Control Suite's), whose
/// steps cost tens of microseconds.
fn is_mujoco(id: &str) -> bool {
    id.starts_with("dmc/") || crate::mujoco::registrations().iter().any(|r| r.id == id)
}

fn bad(id: &str, key: &str, want: &str, got: &Value) -> EnvError {
    EnvError::BadKwarg {
        env: id.to_string(),
        key: key.to_string(),
        reason: format!("expected {want}, got {got:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without the `atari` feature, Atari ids say how to get it instead of "unknown id".
    #[cfg(not(feature = "atari"))]
    #[test]
    fn atari_ids_without_the_feature_say_how_to_enable_it() {
        for id in ["ALE/Breakout-v5", "PongNoFrameskip-v4"] {
            let err = make(id, &Kwargs::new()).err().expect("no ALE in this build");
            let text = err.to_string();
            assert!(
                text.contains("--features atari") && text.contains("setup.sh --atari"),
                "{text}"
            );
        }
    }
    use crate::env::Action;

    #[test]
    fn specs_match_gymnasium() {
        let s = spec("CartPole-v1").unwrap();
        assert_eq!((s.max_episode_steps, s.reward_threshold), (Some(500), Some(475.0)));
        let s = spec("MountainCar-v0").unwrap();
        assert_eq!((s.max_episode_steps, s.reward_threshold), (Some(200), Some(-110.0)));
        let s = spec("MountainCarContinuous-v0").unwrap();
        assert_eq!((s.max_episode_steps, s.reward_threshold), (Some(999), Some(90.0)));
        let s = spec("Acrobot-v1").unwrap();
        assert_eq!((s.max_episode_steps, s.reward_threshold), (Some(500), Some(-100.0)));
        let s = spec("Pendulum-v1").unwrap();
        assert_eq!((s.max_episode_steps, s.reward_threshold), (Some(200), None));
        assert_eq!(registered().len(), table().len());
    }

    /// Every classic-control id takes the typed path, and it builds what the generic one does.
    #[test]
    fn typed_make_path_covers_classic_control_and_agrees() {
        for reg in classic_control() {
            let build = limited_constructor(reg.id);
            assert!(build.is_some(), "{} has no typed make path", reg.id);
            let Some(build) = build else { continue };
            let mut fast = build(&Kwargs::new(), 7).unwrap();
            let inner = (reg.make)(reg.id, &Kwargs::new()).unwrap();
            let mut slow: Box<dyn Env> = Box::new(TimeLimit::new(inner, 7).unwrap());
            assert_eq!(fast.reset(Some(3), &Kwargs::new()), slow.reset(Some(3), &Kwargs::new()));
            let action = fast.action_space().sample_action(&mut crate::EnvRng::seed_from(1));
            let action = action.unwrap();
            for _ in 0..7 {
                assert_eq!(fast.step(&action), slow.step(&action), "{}", reg.id);
            }
            assert!(matches!(fast.step(&action), Err(EnvError::StepAfterDone { .. })));
        }
    }

    #[test]
    fn unknown_id_lists_known_ids() {
        match make("CartPole-v9", &Kwargs::new()) {
            Err(EnvError::UnknownEnv { id, known }) => {
                assert_eq!(id, "CartPole-v9");
                assert!(known.contains("CartPole-v1") && known.contains("Pendulum-v1"));
            }
            other => panic!("expected UnknownEnv, got {:?}", other.map(|e| e.id().to_string())),
        }
    }

    #[test]
    fn make_applies_and_overrides_the_time_limit() {
        let a = Action::Discrete(1);
        let mut env = make_with("MountainCar-v0", [("max_episode_steps", Value::Int(3))]).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        let flags: Vec<bool> = (0..3).map(|_| env.step(&a).unwrap().truncated).collect();
        assert_eq!(flags, [false, false, true]);

        let mut env = make("MountainCar-v0", &Kwargs::new()).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        let n = (1..=200).find(|_| env.step(&a).unwrap().truncated);
        assert_eq!(n, Some(200));

        let mut env = make_with("MountainCar-v0", [("max_episode_steps", Value::Int(-1))]).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        assert!((0..300).all(|_| !env.step(&a).unwrap().truncated));
    }

    #[test]
    fn make_passes_kwargs_and_refuses_bad_ones() {
        assert!(make_with("Pendulum-v1", [("g", Value::Float(9.81))]).is_ok());
        assert!(make_with("CartPole-v1", [("render_mode", Value::Str("rgb_array".into()))]).is_ok());
        for (k, v) in [
            ("g", Value::Float(1.0)),
            ("max_episode_steps", Value::Int(0)),
            ("max_episode_steps", Value::Float(10.0)),
            ("render_mode", Value::Str("human".into())),
            ("sutton_barto_reward", Value::Int(1)),
        ] {
            assert!(
                matches!(
                    make_with("CartPole-v1", [(k, v.clone())]),
                    Err(EnvError::BadKwarg { .. })
                ),
                "{k}={v:?}"
            );
        }
    }
}
