//! Atari 2600 games through the Arcade Learning Environment (feature `atari`), with ale-py
//! 0.12.1's Gymnasium semantics.
//!
//! ALE itself, the C++ emulator and per-game logic (rewards, lives, terminal states, modes),
//! is compiled from ale-py 0.12.1's own source distribution (`scripts/setup.sh --atari`
//! provisions it with the ROMs; `build.rs` compiles it), so the emulator is the one Gymnasium
//! users run, not a port. Graft reimplements the Python layer above it: [`AtariEnv`]
//! (`ale_py.env.AtariEnv`: seeding, frame skip, sticky actions, observations, `info`), the
//! registered ids ([`games`]), Gymnasium's [`AtariPreprocessing`] and Stable-Baselines3's
//! [`EpisodicLife`], [`FireReset`] and [`ClipReward`]. `tests/atari_parity.rs` checks all of it
//! against ale-py and Gymnasium frame by frame. ALE is GPL-2.0, so this module is behind a
//! cargo feature; the default build does not contain it.
//!
//! ```no_run
//! use graft_envs::{make, Action, Env, Kwargs};
//!
//! # fn main() -> graft_envs::Result<()> {
//! let mut env = make("ALE/Breakout-v5", &Kwargs::new())?;
//! let (obs, info) = env.reset(Some(0), &Kwargs::new())?;
//! assert_eq!(obs.u8.len(), 210 * 160 * 3);
//! assert_eq!(info["lives"].as_f64(), Some(5.0));
//! let step = env.step(&Action::Discrete(1))?; // FIRE
//! # let _ = step;
//! # Ok(())
//! # }
//! ```

mod ale;
mod env;
mod error;
mod ffi;
pub mod games;
mod preprocessing;
mod sb3;

use std::sync::OnceLock;

pub use ale::{Ale, ACTION_MEANINGS};
pub use env::{roms_dir, AleEnv, AtariConfig, AtariEnv, ObsType};
pub use error::AtariError;
pub use games::{Frameskip, IdDefaults};
pub use preprocessing::{AtariPreprocessing, AtariPreprocessingConfig};
pub use sb3::{ClipReward, EpisodicLife, FireReset};

use crate::env::{Env, Kwargs};
use crate::error::Result;
use crate::registry::Registration;

/// Every registered id with its defaults, built once (the ids live as long as the program).
fn ids() -> &'static [(&'static str, IdDefaults)] {
    static IDS: OnceLock<Vec<(&'static str, IdDefaults)>> = OnceLock::new();
    IDS.get_or_init(|| {
        games::registered_ids()
            .into_iter()
            .map(|(id, defaults)| (&*Box::leak(id.into_boxed_str()), defaults))
            .collect()
    })
}

/// The defaults of registered id `id`; for an id that looks like an Atari one but is not
/// registered, [`AtariError::UnknownGame`] listing the games.
pub fn find(id: &str) -> Result<&'static IdDefaults> {
    ids().iter().find(|(i, _)| *i == id).map(|(_, d)| d).ok_or_else(|| {
        let supported = ids()
            .iter()
            .filter_map(|(i, _)| i.strip_prefix("ALE/").and_then(|n| n.strip_suffix("-v5")))
            .collect::<Vec<_>>()
            .join(", ");
        AtariError::UnknownGame { id: id.to_string(), supported }.into()
    })
}

/// Whether `id` is in the Atari family's id syntax (`ALE/...`, or a legacy `...-v0`/`-v4` whose
/// name is a registered game's).
pub fn is_atari_id(id: &str) -> bool {
    id.starts_with("ALE/") || ids().iter().any(|(i, _)| *i == id)
}

/// Build registered id `id`: an [`AtariEnv`] with the id's defaults and `kwargs`, inside the
/// wrappers that Graft's own kwargs ask for (so that the CLI, Rhai scripts and agents, which
/// all build envs by id and kwargs, can ask for them):
///
/// - `preprocessing=true`: [`AtariPreprocessing`] (Gymnasium's defaults; the env's own
///   `frameskip` then defaults to 1), tuned by `noop_max`, `frame_skip`, `screen_size` (an int,
///   square), `terminal_on_life_loss`, `grayscale_obs`, `grayscale_newaxis`, `scale_obs`;
/// - `episodic_life=true`: SB3's [`EpisodicLife`]; `fire_reset=true`: [`FireReset`] (refused
///   for games without FIRE); `clip_reward=true`: [`ClipReward`];
/// - `frame_stack=k`: the last k observations ([`FrameStackObservation`](crate::FrameStackObservation)).
///
/// CleanRL's `dqn_atari.py` chain, as agents read it (`[4, 84, 84, 1]` bytes):
/// `preprocessing=true grayscale_newaxis=true episodic_life=true fire_reset=true
/// clip_reward=true frame_stack=4`.
pub fn make(id: &str, kwargs: &Kwargs) -> Result<Box<dyn Env>> {
    let chain = Chain::split(id, kwargs)?;
    let mut env_kwargs = chain.env_kwargs;
    if chain.preprocessing.is_some() && !env_kwargs.contains_key("frameskip") {
        env_kwargs.insert("frameskip".into(), crate::env::Value::Int(1));
    }
    let env = AtariEnv::new(id, find(id)?, &env_kwargs)?;
    let fire = chain.fire_reset;
    let (episodic, clip) = (chain.episodic_life, chain.clip_reward);
    // Each wrapper layer is a concrete type over the one inside it; the boxed result hides it.
    fn finish<E: AleEnv + 'static>(
        env: E,
        episodic: bool,
        fire: bool,
        clip: bool,
    ) -> Result<Box<dyn AleEnv>> {
        fn fire_clip<E: AleEnv + 'static>(
            env: E,
            fire: bool,
            clip: bool,
        ) -> Result<Box<dyn AleEnv>> {
            match (fire, clip) {
                (true, true) => Ok(Box::new(ClipReward::new(FireReset::new(env)?))),
                (true, false) => Ok(Box::new(FireReset::new(env)?)),
                (false, true) => Ok(Box::new(ClipReward::new(env))),
                (false, false) => Ok(Box::new(env)),
            }
        }
        if episodic {
            fire_clip(EpisodicLife::new(env), fire, clip)
        } else {
            fire_clip(env, fire, clip)
        }
    }
    let wrapped = match chain.preprocessing {
        Some(config) => finish(AtariPreprocessing::new(env, config)?, episodic, fire, clip)?,
        None => finish(env, episodic, fire, clip)?,
    };
    Ok(match chain.frame_stack {
        Some(k) => Box::new(crate::FrameStackObservation::new(wrapped, k)?),
        None => wrapped,
    })
}

impl<E: AleEnv + ?Sized> AleEnv for Box<E> {
    fn atari(&self) -> &AtariEnv {
        (**self).atari()
    }

    fn atari_mut(&mut self) -> &mut AtariEnv {
        (**self).atari_mut()
    }
}

/// Graft's wrapper kwargs taken out of `make`'s (see [`make`]); the rest go to [`AtariEnv`].
struct Chain {
    env_kwargs: Kwargs,
    preprocessing: Option<AtariPreprocessingConfig>,
    episodic_life: bool,
    fire_reset: bool,
    clip_reward: bool,
    frame_stack: Option<usize>,
}

impl Chain {
    fn split(id: &str, kwargs: &Kwargs) -> Result<Chain> {
        use crate::env::Value;
        use crate::error::EnvError;
        let bad = |key: &str, reason: &str| EnvError::BadKwarg {
            env: id.into(),
            key: key.into(),
            reason: reason.into(),
        };
        let flag = |key: &str| match kwargs.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(key, "expected a bool")),
        };
        let count = |key: &str, min: i64| match kwargs.get(key) {
            None => Ok(None),
            Some(Value::Int(n)) if *n >= min && *n <= i64::from(u32::MAX) => Ok(Some(*n as u32)),
            Some(_) => Err(bad(key, &format!("expected an int >= {min}"))),
        };
        const PRE_KEYS: [&str; 7] = [
            "noop_max",
            "frame_skip",
            "screen_size",
            "terminal_on_life_loss",
            "grayscale_obs",
            "grayscale_newaxis",
            "scale_obs",
        ];
        let preprocessing = if flag("preprocessing")? {
            let mut c = AtariPreprocessingConfig::default();
            if let Some(n) = count("noop_max", 0)? {
                c.noop_max = n;
            }
            if let Some(n) = count("frame_skip", 1)? {
                c.frame_skip = n;
            }
            if let Some(n) = count("screen_size", 1)? {
                c.screen_size = (n as usize, n as usize);
            }
            c.terminal_on_life_loss = flag("terminal_on_life_loss")?;
            c.grayscale_obs = kwargs.get("grayscale_obs").is_none() || flag("grayscale_obs")?;
            c.grayscale_newaxis = flag("grayscale_newaxis")?;
            c.scale_obs = flag("scale_obs")?;
            Some(c)
        } else {
            if let Some(key) = PRE_KEYS.iter().find(|k| kwargs.contains_key(**k)) {
                return Err(bad(key, "an AtariPreprocessing setting: pass preprocessing=true too"));
            }
            None
        };
        let frame_stack = count("frame_stack", 1)?.map(|k| k as usize);
        let ours = ["preprocessing", "episodic_life", "fire_reset", "clip_reward", "frame_stack"];
        let env_kwargs = kwargs
            .iter()
            .filter(|(k, _)| !ours.contains(&k.as_str()) && !PRE_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Chain {
            env_kwargs,
            preprocessing,
            episodic_life: flag("episodic_life")?,
            fire_reset: flag("fire_reset")?,
            clip_reward: flag("clip_reward")?,
            frame_stack,
        })
    }
}

/// The registry's Atari entries: no step limit (ALE truncates at
/// `max_num_frames_per_episode`), as ale-py registers them.
pub fn registrations() -> Vec<Registration> {
    ids()
        .iter()
        .map(|(id, _)| Registration {
            id,
            max_episode_steps: None,
            reward_threshold: None,
            nondeterministic: false,
            make,
        })
        .collect()
}
