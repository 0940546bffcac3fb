//! `AtariEnv`: one Atari 2600 game with ale-py 0.12.1's Gymnasium semantics (`ale_py.env`).
//!
//! What Gymnasium's `AtariEnv` does, in the same order, so that the same seed gives the same
//! episode: `SeedSequence(seed).generate_state(2)` splits a seed into numpy's (for stochastic
//! frame skips and the wrappers' no-op draws) and ALE's (`setInt("random_seed")`, for sticky
//! actions); a seeded `reset` reloads the ROM (`load_game`) before `reset_game`; a step repeats
//! the action for `frameskip` emulator frames and sums their rewards; `terminated` is
//! `game_over(with_truncation=False)` and `truncated` ALE's frame limit.

use std::path::PathBuf;

use image::RgbImage;

use super::ale::{Ale, ACTION_MEANINGS};
use super::error::AtariError;
use super::games::{Frameskip, IdDefaults};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome, Value};
use crate::error::{EnvError, Result};
use crate::numpy_rng::{NumpyRng, SeedSequence};
use crate::space::{BoxSpace, DType, Space};

/// What an observation is (`obs_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObsType {
    /// The screen, `[210, 160, 3]` RGB bytes.
    Rgb,
    /// The screen through ALE's luminance palette, `[210, 160]`.
    Grayscale,
    /// The console's 128 bytes of RAM.
    Ram,
}

/// An Atari environment's settings: the registered id's defaults with the caller's kwargs.
#[derive(Debug, Clone, PartialEq)]
pub struct AtariConfig {
    /// The ROM id (`"breakout"`).
    pub game: String,
    /// Game mode (`None`: the game's default).
    pub mode: Option<u32>,
    /// Difficulty switch setting (`None`: the default).
    pub difficulty: Option<u32>,
    pub obs_type: ObsType,
    pub frameskip: Frameskip,
    /// Sticky actions: the chance that ALE repeats the previous frame's action.
    pub repeat_action_probability: f32,
    /// All 18 actions instead of the game's minimal set.
    pub full_action_space: bool,
    /// Frames after which ALE truncates an episode (108,000: 30 minutes at 60 Hz).
    pub max_num_frames_per_episode: Option<u32>,
}

impl AtariConfig {
    /// The config for registered id `id`, its defaults overridden by `kwargs` (ale-py's
    /// `AtariEnv.__init__` arguments; `continuous` and `sound_obs` are not supported).
    pub fn from_kwargs(id: &str, defaults: &IdDefaults, kwargs: &Kwargs) -> Result<AtariConfig> {
        let mut config = AtariConfig {
            game: defaults.game.to_string(),
            mode: None,
            difficulty: None,
            obs_type: ObsType::Rgb,
            frameskip: defaults.frameskip,
            repeat_action_probability: defaults.repeat_action_probability,
            full_action_space: false,
            max_num_frames_per_episode: Some(108_000),
        };
        let bad = |key: &str, reason: String| EnvError::BadKwarg {
            env: id.to_string(),
            key: key.to_string(),
            reason,
        };
        let non_negative = |key: &str, v: &Value| match v {
            Value::Int(i) if (0..=i64::from(u32::MAX)).contains(i) => Ok(*i as u32),
            other => Err(bad(key, format!("expected a non-negative int, got {other:?}"))),
        };
        for (key, value) in kwargs {
            match key.as_str() {
                "mode" => config.mode = Some(non_negative(key, value)?),
                "difficulty" => config.difficulty = Some(non_negative(key, value)?),
                "obs_type" => {
                    config.obs_type = match value.as_str() {
                        Some("rgb") => ObsType::Rgb,
                        Some("grayscale") => ObsType::Grayscale,
                        Some("ram") => ObsType::Ram,
                        _ => {
                            return Err(bad(
                                key,
                                format!(
                                    "expected \"rgb\", \"grayscale\" or \"ram\", got {value:?}"
                                ),
                            ))
                        }
                    }
                }
                "frameskip" => {
                    config.frameskip = parse_frameskip(value).map_err(|r| bad(key, r))?
                }
                "repeat_action_probability" => match value.as_f64() {
                    Some(p) if (0.0..=1.0).contains(&p) => {
                        config.repeat_action_probability = p as f32
                    }
                    _ => {
                        return Err(bad(key, format!("expected a number in [0, 1], got {value:?}")))
                    }
                },
                "full_action_space" => {
                    config.full_action_space = value
                        .as_bool()
                        .ok_or_else(|| bad(key, format!("expected a bool, got {value:?}")))?
                }
                "max_num_frames_per_episode" => {
                    config.max_num_frames_per_episode = match value {
                        Value::Int(n) if *n > 0 && *n <= i64::from(i32::MAX) => Some(*n as u32),
                        other => {
                            return Err(bad(key, format!("expected a positive int, got {other:?}")))
                        }
                    }
                }
                "continuous" | "continuous_action_threshold" | "sound_obs" => {
                    return Err(bad(
                        key,
                        "not supported by Graft's Atari envs (discrete actions and image/RAM \
                         observations only)"
                            .into(),
                    ))
                }
                _ => {
                    return Err(bad(
                        key,
                        "not an argument of Atari envs (they take mode, difficulty, obs_type, \
                         frameskip, repeat_action_probability, full_action_space and \
                         max_num_frames_per_episode)"
                            .into(),
                    ))
                }
            }
        }
        Ok(config)
    }
}

/// `frameskip`: a positive int, or `[low, high]` with `0 < low < high` (a draw from
/// `[low, high)` per step).
fn parse_frameskip(value: &Value) -> std::result::Result<Frameskip, String> {
    match value {
        Value::Int(n) if *n > 0 && *n <= i64::from(u32::MAX) => Ok(Frameskip::Fixed(*n as u32)),
        Value::Int(n) => Err(format!("frameskip must be positive, got {n}")),
        Value::Floats(xs) if xs.len() == 2 => {
            let whole = |x: f64| x.fract() == 0.0 && x > 0.0 && x <= f64::from(u32::MAX);
            let (low, high) = (xs[0], xs[1]);
            if !(whole(low) && whole(high)) {
                return Err(format!("a stochastic frameskip takes two positive ints, got {xs:?}"));
            }
            if low >= high {
                return Err(format!("the lower bound must be below the upper one, got {xs:?}"));
            }
            Ok(Frameskip::Stochastic { low: low as u32, high: high as u32 })
        }
        other => Err(format!("expected a positive int or [low, high], got {other:?}")),
    }
}

/// Where ROMs are read from: `$GRAFT_ALE_ROMS` when set, else the folder `setup.sh --atari`
/// provisioned when graft-envs was built.
pub fn roms_dir() -> PathBuf {
    std::env::var_os("GRAFT_ALE_ROMS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("GRAFT_ALE_ROMS")))
}

/// Refuse a ROM file whose MD5 is not the one ale-py 0.12.1 lists for `game` (see
/// [`AtariError::RomMismatch`]).
fn check_rom(game: &str, rom: &std::path::Path) -> Result<()> {
    use md5::{Digest, Md5};
    let bytes = std::fs::read(rom).map_err(|e| AtariError::MissingRom {
        game: game.into(),
        path: format!("{} ({e})", rom.display()),
    })?;
    let got: String = Md5::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let expected = super::games::rom_md5(game).unwrap_or_default();
    if got != expected {
        return Err(AtariError::RomMismatch {
            game: game.into(),
            path: rom.display().to_string(),
            expected: expected.into(),
            got,
        }
        .into());
    }
    Ok(())
}

/// Access to the emulator under a chain of Atari wrappers (Gymnasium's `env.unwrapped.ale`
/// and `env.unwrapped.np_random`), which the preprocessing wrappers need.
pub trait AleEnv: Env {
    /// The innermost [`AtariEnv`].
    fn atari(&self) -> &AtariEnv;
    /// The innermost [`AtariEnv`], mutably.
    fn atari_mut(&mut self) -> &mut AtariEnv;
}

/// One Atari game (see the module docs).
pub struct AtariEnv {
    id: String,
    config: AtariConfig,
    rom: PathBuf,
    ale: Ale,
    /// ALE action ids, indexed by the agent's action.
    action_set: Vec<i32>,
    /// Gymnasium's `np_random`: stochastic frame skips and the wrappers' no-op counts.
    np_random: NumpyRng,
    /// The seeds of the last seeded reset (`info["seeds"]`).
    seeds: Option<(u32, u32)>,
    observation_space: Space,
    action_space: Space,
    episode: EpisodeState,
}

impl std::fmt::Debug for AtariEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtariEnv").field("id", &self.id).field("config", &self.config).finish()
    }
}

impl AtariEnv {
    /// Build the game of registered id `id` with its defaults and `kwargs`. Seeded from the
    /// operating system's entropy until a `reset(Some(seed))`, as ale-py.
    pub fn new(id: &str, defaults: &IdDefaults, kwargs: &Kwargs) -> Result<AtariEnv> {
        let config = AtariConfig::from_kwargs(id, defaults, kwargs)?;
        Self::with_config(id, config)
    }

    /// Build from a full config.
    pub fn with_config(id: &str, config: AtariConfig) -> Result<AtariEnv> {
        let rom = roms_dir().join(format!("{}.bin", config.game));
        if !rom.is_file() {
            return Err(AtariError::MissingRom {
                game: config.game.clone(),
                path: rom.display().to_string(),
            }
            .into());
        }
        check_rom(&config.game, &rom)?;
        let mut ale =
            Ale::new(id, config.repeat_action_probability, config.max_num_frames_per_episode)?;
        let (np_random, ale_seed, _) = split_seed(&SeedSequence::from_os_entropy());
        // The modes and difficulties are only known once the ROM is in: load it plain, check
        // the requested ones, then load with them.
        ale.load(ale_seed, &rom, None, None)?;
        if let Some(mode) = config.mode {
            let available = ale.available_modes();
            if !available.contains(&mode) {
                return Err(
                    AtariError::BadMode { env: id.into(), mode: mode.into(), available }.into()
                );
            }
        }
        if let Some(difficulty) = config.difficulty {
            let available = ale.available_difficulties();
            if !available.contains(&difficulty) {
                return Err(AtariError::BadDifficulty {
                    env: id.into(),
                    difficulty: difficulty.into(),
                    available,
                }
                .into());
            }
        }
        if config.mode.is_some() || config.difficulty.is_some() {
            ale.load(ale_seed, &rom, config.mode, config.difficulty)?;
        }
        let action_set = ale.action_set(config.full_action_space);
        let (h, w) = ale.screen_dims();
        let shape = match config.obs_type {
            ObsType::Rgb => vec![h, w, 3],
            ObsType::Grayscale => vec![h, w],
            ObsType::Ram => vec![ale.ram_size()],
        };
        Ok(AtariEnv {
            id: id.to_string(),
            observation_space: Space::Box(BoxSpace::uniform(0.0, 255.0, shape, DType::U8)),
            action_space: Space::discrete(action_set.len() as u64),
            action_set,
            rom,
            ale,
            np_random,
            seeds: None,
            config,
            episode: EpisodeState::NeedsReset,
        })
    }

    /// The settings.
    pub fn config(&self) -> &AtariConfig {
        &self.config
    }

    /// The emulator (Gymnasium's `env.unwrapped.ale`).
    pub fn ale(&self) -> &Ale {
        &self.ale
    }

    /// Gymnasium's `env.unwrapped.np_random`.
    pub fn np_random_mut(&mut self) -> &mut NumpyRng {
        &mut self.np_random
    }

    /// `get_action_meanings()`: the name of each action of the action space.
    pub fn action_meanings(&self) -> Vec<&'static str> {
        self.action_set
            .iter()
            .map(|&a| ACTION_MEANINGS.get(a as usize).copied().unwrap_or("?"))
            .collect()
    }

    /// Lives left (`ale.lives()`).
    pub fn lives(&self) -> i32 {
        self.ale.lives()
    }

    /// The console's RAM.
    pub fn ram(&self) -> Vec<u8> {
        let mut out = vec![0; self.ale.ram_size()];
        // The buffer has the RAM's size: this cannot fail.
        let _ = self.ale.ram(&mut out);
        out
    }

    /// Reset without writing an observation (see [`Self::step_without_obs`]). Options are
    /// accepted and ignored, as ale-py ignores them.
    pub fn reset_without_obs(&mut self, seed: Option<u64>, _options: &Kwargs) -> Result<Info> {
        if let Some(seed) = seed {
            let (np_random, ale_seed, seeds) = split_seed(&SeedSequence::from_u64(seed));
            self.np_random = np_random;
            self.seeds = Some(seeds);
            self.ale.load(ale_seed, &self.rom, self.config.mode, self.config.difficulty)?;
        }
        self.ale.reset_game()?;
        self.episode = EpisodeState::Running;
        let mut info = self.info();
        if let (Some(_), Some((np_seed, ale_seed))) = (seed, self.seeds) {
            info.insert(
                "seeds".into(),
                Value::Floats(vec![f64::from(np_seed), f64::from(ale_seed)]),
            );
        }
        Ok(info)
    }

    /// Step without writing an observation: what a wrapper that reads the screen itself
    /// (AtariPreprocessing) needs from the frames it skips.
    pub fn step_without_obs(&mut self, action: ActionRef<'_>) -> Result<StepOutcome> {
        self.episode.check_step(&self.id)?;
        self.check_action(action)?;
        // `check_action` accepts only discrete actions in range; this cannot fail after it.
        let ale_action = match action {
            ActionRef::Discrete(index) => self.action_set.get(index as usize).copied(),
            _ => None,
        }
        .ok_or_else(|| EnvError::InvalidAction {
            env: self.id.clone(),
            action: action.to_string(),
            space: self.action_space.to_string(),
        })?;
        let frames = match self.config.frameskip {
            Frameskip::Fixed(n) => n,
            Frameskip::Stochastic { low, high } => {
                self.np_random.integers(i64::from(low), i64::from(high))? as u32
            }
        };
        let mut reward = 0.0;
        for _ in 0..frames {
            reward += f64::from(self.ale.act(ale_action, 1.0)?);
        }
        let terminated = self.ale.game_over(false);
        let truncated = self.ale.game_truncated();
        self.episode = EpisodeState::after_step(terminated, truncated);
        Ok(StepOutcome { reward, terminated, truncated, info: self.info() })
    }

    fn info(&self) -> Info {
        Info::from([
            ("lives".to_string(), Value::Int(self.ale.lives().into())),
            (
                "episode_frame_number".to_string(),
                Value::Int(self.ale.episode_frame_number().into()),
            ),
            ("frame_number".to_string(), Value::Int(self.ale.frame_number().into())),
        ])
    }

    fn write_obs(&self, obs: ObsMut<'_>) -> Result<()> {
        match self.config.obs_type {
            ObsType::Rgb => self.ale.screen_rgb(obs.u8),
            ObsType::Grayscale => self.ale.screen_grayscale(obs.u8),
            ObsType::Ram => self.ale.ram(obs.u8),
        }
    }
}

/// AtariEnv's `seed_game`: `SeedSequence(seed).generate_state(2)` gives numpy's seed and
/// ALE's (passed to ALE as a C `int`, as `np.int32(ale_seed)` does).
fn split_seed(seq: &SeedSequence) -> (NumpyRng, i32, (u32, u32)) {
    let words = seq.generate_state_u32(2);
    let (np_seed, ale_seed) = (words[0], words[1]);
    (NumpyRng::from_seed(u64::from(np_seed)), ale_seed as i32, (np_seed, ale_seed))
}

impl Env for AtariEnv {
    fn id(&self) -> &str {
        &self.id
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.observation_space, &self.id)?;
        let info = self.reset_without_obs(seed, options)?;
        self.write_obs(obs)?;
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        obs.check(&self.observation_space, &self.id)?;
        let out = self.step_without_obs(action)?;
        self.write_obs(obs)?;
        Ok(out)
    }

    fn render(&self) -> Result<RgbImage> {
        let (h, w) = self.ale.screen_dims();
        let mut rgb = vec![0; h * w * 3];
        self.ale.screen_rgb(&mut rgb)?;
        RgbImage::from_raw(w as u32, h as u32, rgb)
            .ok_or_else(|| EnvError::Render { env: self.id.clone(), reason: "screen size".into() })
    }
}

impl AleEnv for AtariEnv {
    fn atari(&self) -> &AtariEnv {
        self
    }

    fn atari_mut(&mut self) -> &mut AtariEnv {
        self
    }
}
