//! MinAtar: five miniature Atari games on a 10x10 grid of boolean channels, in pure Rust.
//!
//! K. Young and T. Tian, "MinAtar: An Atari-Inspired Testbed for Thorough and Reproducible
//! Reinforcement Learning Experiments", 2019, <https://arxiv.org/abs/1903.03176>.
//!
//! Each game is a port of the `minatar` Python package, version 1.0.15, that reproduces its
//! trajectories exactly: the same seed and actions give the same observations, rewards and
//! terminals step for step, because the games draw from a bit-exact port of numpy's legacy
//! `RandomState` ([`mt19937`]) in the original's order. `tests/minatar_parity.rs` checks this
//! against trajectories recorded from the Python package.
//!
//! [`make`] builds the Graft [`Env`] for an id such as `MinAtar/Breakout-v1`; [`specs`] lists
//! the ids. As in minatar's Gymnasium registration, `-v1` uses each game's minimal action set
//! and `-v0` all six actions; neither sets a step limit.

mod asterix;
mod breakout;
mod env;
mod freeway;
pub mod mt19937;
mod seaquest;
mod space_invaders;

pub use asterix::Asterix;
pub use breakout::Breakout;
pub use env::{MinAtar, MinAtarConfig};
pub use freeway::Freeway;
pub use mt19937::RandomState;
pub use seaquest::Seaquest;
pub use space_invaders::SpaceInvaders;

use crate::env::{Env, Kwargs, Value};
use crate::error::{EnvError, Result};
use crate::registry::Registration;
use crate::spec::EnvSpec;

/// The six actions every MinAtar game accepts, in minatar's `action_map` order.
pub const NOOP: u8 = 0;
/// Move left.
pub const LEFT: u8 = 1;
/// Move up.
pub const UP: u8 = 2;
/// Move right.
pub const RIGHT: u8 = 3;
/// Move down.
pub const DOWN: u8 = 4;
/// Fire.
pub const FIRE: u8 = 5;
/// Number of actions in the full action set.
pub const NUM_ACTIONS: usize = 6;

/// One MinAtar game's rules: the counterpart of minatar's `environments/<game>.py` `Env`.
pub trait Game: Clone + Send + 'static {
    /// The game's name in ids (`"Breakout"`, `"SpaceInvaders"`).
    const NAME: &'static str;
    /// Number of observation channels.
    const CHANNELS: usize;
    /// minatar's `minimal_action_set()`: indices into the full action set.
    const MINIMAL_ACTIONS: &'static [u8];

    /// A game in its start state (no randomness drawn); `ramping` turns the difficulty ramp on
    /// where the game has one.
    fn new(ramping: bool) -> Self;

    /// Start a new episode, drawing from `rng` as minatar's `reset()` does.
    fn reset(&mut self, rng: &mut RandomState);

    /// One frame with action `a` (`0..6`, the full set): `(reward, terminal)`.
    fn act(&mut self, a: u8, rng: &mut RandomState) -> (i32, bool);

    /// Set the cells of minatar's `state()` in `grid` (which the caller has cleared).
    fn write_state(&self, grid: &mut Grid<'_>) {
        self.write_static(grid);
        self.write_dynamic(grid);
    }

    /// The slowly changing part of the state (Breakout's bricks, the alien block), which the
    /// environment caches between steps and copies out whole; `static_key` must change
    /// whenever it does. By default there is none.
    fn write_static(&self, _grid: &mut Grid<'_>) {}

    /// Whether the game has a static part; when not, the environment clears the observation
    /// with a memset instead of copying a blank cached layer.
    const HAS_STATIC: bool = false;

    /// The rows (`0..10` by default) and channels (all by default) that
    /// [`Game::write_static`] can set: the environment copies only that part of the cached
    /// layer into each observation and clears the rest. Debug builds check the claim.
    const STATIC_ROWS: std::ops::Range<i32> = 0..10;
    /// See [`Game::STATIC_ROWS`].
    const STATIC_CHANNELS: std::ops::Range<usize> = 0..Self::CHANNELS;

    /// A value that identifies what [`Game::write_static`] draws.
    fn static_key(&self) -> u128 {
        0
    }

    /// The rest of the state, set on top of the static part.
    fn write_dynamic(&self, grid: &mut Grid<'_>);

    /// minatar's `difficulty_ramp()`: the ramp level, or `None` for games without a ramp.
    fn difficulty_ramp(&self) -> Option<i32>;
}

/// A cleared 10x10xC boolean observation that games set cells in, HWC (minatar's `state()`
/// layout) or CHW.
///
/// The layout is kept as two strides rather than a flag, so setting a cell is one
/// multiply-add and a bounds check with no layout branch: this runs a dozen times per step.
#[derive(Debug)]
pub struct Grid<'a> {
    buf: &'a mut [u8],
    /// Distance between neighbouring cells: `C` for HWC, 1 for CHW.
    cell_stride: usize,
    /// Distance between neighbouring channels: 1 for HWC, 100 for CHW.
    chan_stride: usize,
}

impl<'a> Grid<'a> {
    /// A view over `buf` (length `100 * channels`), which must already be zeroed.
    #[inline]
    pub fn new(buf: &'a mut [u8], channels: usize, channels_first: bool) -> Self {
        let (cell_stride, chan_stride) = if channels_first { (1, 100) } else { (channels, 1) };
        Grid { buf, cell_stride, chan_stride }
    }

    /// Set cell (`y`, `x`) of channel `c`. Cells outside the buffer are ignored (the games
    /// never produce them).
    #[inline]
    pub fn set(&mut self, y: i32, x: i32, c: usize) {
        debug_assert!((0..10).contains(&y) && (0..10).contains(&x));
        self.set_cell((y * 10 + x) as usize, c);
    }

    /// Set cell number `cell` (`y * 10 + x`) of channel `c`; ignored outside the buffer.
    #[inline]
    pub fn set_cell(&mut self, cell: usize, c: usize) {
        let i = cell.wrapping_mul(self.cell_stride).wrapping_add(c * self.chan_stride);
        if let Some(v) = self.buf.get_mut(i) {
            *v = 1;
        }
    }

    /// Set cell (`y`, `x`) of channel `c` when `cond` holds, without a jump on `cond` (for
    /// conditions that are hard to predict); the cell must be on the grid either way.
    #[inline]
    pub fn set_if(&mut self, y: i32, x: i32, c: usize, cond: bool) {
        debug_assert!((0..10).contains(&y) && (0..10).contains(&x));
        let cell = (y * 10 + x) as usize;
        let i = cell.wrapping_mul(self.cell_stride).wrapping_add(c * self.chan_stride);
        if let Some(v) = self.buf.get_mut(i) {
            *v |= cond as u8;
        }
    }

    /// Store `on` into cell (`y`, `x`) of channel `c`, 0 included: for cells that no other
    /// write of the observation reaches (a gauge), where a plain store replaces a test.
    #[inline]
    pub fn put(&mut self, y: i32, x: i32, c: usize, on: bool) {
        debug_assert!((0..10).contains(&y) && (0..10).contains(&x));
        let cell = (y * 10 + x) as usize;
        let i = cell.wrapping_mul(self.cell_stride).wrapping_add(c * self.chan_stride);
        if let Some(v) = self.buf.get_mut(i) {
            *v = on as u8;
        }
    }

    /// Set every cell whose bit `y * 10 + x` is set in `mask`, in channel `c`.
    #[inline]
    pub fn set_mask(&mut self, mask: u128, c: usize) {
        for (half, base) in [(mask as u64, 0usize), ((mask >> 64) as u64, 64)] {
            let mut bits = half;
            while bits != 0 {
                self.set_cell(base + bits.trailing_zeros() as usize, c);
                bits &= bits - 1;
            }
        }
    }
}

/// The colour of each channel, as minatar's renderers draw it: seaborn's
/// `color_palette("cubehelix", n_channels)`, scaled to bytes and rounded (the float values
/// are in `tests/fixtures/minatar/palette.json`). Empty cells are black.
pub fn palette(channels: usize) -> &'static [[u8; 3]] {
    match channels {
        4 => &[[22, 61, 78], [84, 121, 47], [208, 126, 147], [193, 202, 243]],
        6 => &[
            [26, 36, 65],
            [27, 97, 69],
            [105, 123, 48],
            [200, 123, 124],
            [205, 162, 224],
            [198, 225, 241],
        ],
        7 => &[
            [27, 30, 59],
            [22, 83, 76],
            [68, 119, 49],
            [161, 121, 74],
            [212, 132, 169],
            [198, 180, 238],
            [203, 232, 240],
        ],
        10 => &[
            [25, 18, 43],
            [23, 52, 76],
            [24, 91, 72],
            [60, 118, 50],
            [126, 122, 54],
            [188, 121, 103],
            [212, 134, 175],
            [202, 169, 231],
            [194, 210, 243],
            [214, 240, 239],
        ],
        _ => &[],
    }
}

/// The games, by the name used in ids.
const GAMES: [&str; 5] = ["Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"];

/// The registrations minatar 1.0.15 makes with Gymnasium: `MinAtar/<Game>-v0` (all six
/// actions) and `MinAtar/<Game>-v1` (the minimal action set), with no step limit.
pub fn specs() -> Vec<EnvSpec> {
    let mut out = Vec::with_capacity(GAMES.len() * 2);
    for game in GAMES {
        for (version, minimal) in [("v0", false), ("v1", true)] {
            let kwargs =
                MinAtarConfig { use_minimal_action_set: minimal, ..Default::default() }.to_kwargs();
            out.push(EnvSpec {
                id: format!("MinAtar/{game}-{version}"),
                max_episode_steps: None,
                reward_threshold: None,
                nondeterministic: false,
                kwargs,
            });
        }
    }
    out
}

/// Build the MinAtar environment registered as `id` (see [`specs`]), with keyword arguments
/// over the registration's defaults: `sticky_action_prob` (0.1), `difficulty_ramping` (true),
/// `use_minimal_action_set` (true for `-v1`, false for `-v0`), `channels_first` (false: the
/// observation is `[10, 10, C]` like minatar's `state()`; true gives `[C, 10, 10]`) and
/// `render_cell_px` (16: pixels per cell side in `render()`). `render_mode` and
/// `display_time`, which minatar's Gymnasium class takes, are accepted and ignored.
pub fn make(id: &str, kwargs: &Kwargs) -> Result<Box<dyn Env>> {
    let rest = id.strip_prefix("MinAtar/").ok_or_else(|| unknown(id))?;
    let (game, version) = rest.rsplit_once('-').ok_or_else(|| unknown(id))?;
    let minimal = match version {
        "v0" => false,
        "v1" => true,
        _ => return Err(unknown(id)),
    };
    let mut config = MinAtarConfig { use_minimal_action_set: minimal, ..Default::default() };
    config.apply_kwargs(id, kwargs)?;
    Ok(match game {
        "Asterix" => Box::new(MinAtar::<Asterix>::new(id, config)?),
        "Breakout" => Box::new(MinAtar::<Breakout>::new(id, config)?),
        "Freeway" => Box::new(MinAtar::<Freeway>::new(id, config)?),
        "Seaquest" => Box::new(MinAtar::<Seaquest>::new(id, config)?),
        "SpaceInvaders" => Box::new(MinAtar::<SpaceInvaders>::new(id, config)?),
        _ => return Err(unknown(id)),
    })
}

/// The registry entries for [`specs`]' ids (no step limit), for `registry.rs`'s table:
/// `all.extend(crate::minatar::registrations());`.
pub fn registrations() -> Vec<Registration> {
    macro_rules! entry {
        ($id:literal) => {
            Registration {
                id: $id,
                max_episode_steps: None,
                reward_threshold: None,
                nondeterministic: false,
                make: |kw| make($id, kw),
            }
        };
    }
    vec![
        entry!("MinAtar/Asterix-v0"),
        entry!("MinAtar/Asterix-v1"),
        entry!("MinAtar/Breakout-v0"),
        entry!("MinAtar/Breakout-v1"),
        entry!("MinAtar/Freeway-v0"),
        entry!("MinAtar/Freeway-v1"),
        entry!("MinAtar/Seaquest-v0"),
        entry!("MinAtar/Seaquest-v1"),
        entry!("MinAtar/SpaceInvaders-v0"),
        entry!("MinAtar/SpaceInvaders-v1"),
    ]
}

fn unknown(id: &str) -> EnvError {
    EnvError::UnknownEnv {
        id: id.to_string(),
        known: specs().iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", "),
    }
}

impl MinAtarConfig {
    /// The configuration as keyword arguments (what [`specs`] lists as defaults).
    pub fn to_kwargs(&self) -> Kwargs {
        let mut k = Kwargs::new();
        k.insert("sticky_action_prob".into(), Value::Float(self.sticky_action_prob));
        k.insert("difficulty_ramping".into(), Value::Bool(self.difficulty_ramping));
        k.insert("use_minimal_action_set".into(), Value::Bool(self.use_minimal_action_set));
        k.insert("channels_first".into(), Value::Bool(self.channels_first));
        k.insert("render_cell_px".into(), Value::Int(self.render_cell_px as i64));
        k
    }

    /// Override fields from keyword arguments; unknown keys and wrong types are errors.
    pub fn apply_kwargs(&mut self, env: &str, kwargs: &Kwargs) -> Result<()> {
        let bad = |key: &str, reason: &str| EnvError::BadKwarg {
            env: env.to_string(),
            key: key.to_string(),
            reason: reason.to_string(),
        };
        for (key, value) in kwargs {
            match key.as_str() {
                "sticky_action_prob" => {
                    let p = value.as_f64().ok_or_else(|| bad(key, "expected a number"))?;
                    self.sticky_action_prob = p;
                }
                "difficulty_ramping" | "use_minimal_action_set" | "channels_first" => {
                    let b = value.as_bool().ok_or_else(|| bad(key, "expected a bool"))?;
                    match key.as_str() {
                        "difficulty_ramping" => self.difficulty_ramping = b,
                        "use_minimal_action_set" => self.use_minimal_action_set = b,
                        _ => self.channels_first = b,
                    }
                }
                "render_cell_px" => match value {
                    Value::Int(n) if (1..=256).contains(n) => self.render_cell_px = *n as u32,
                    _ => return Err(bad(key, "expected an integer in 1..=256")),
                },
                "render_mode" | "display_time" => {}
                _ => {
                    return Err(bad(
                        key,
                        "unknown; MinAtar takes sticky_action_prob, difficulty_ramping, \
                         use_minimal_action_set, channels_first, render_cell_px",
                    ))
                }
            }
        }
        self.validate(env)
    }

    /// Fail on values no game can use.
    pub fn validate(&self, env: &str) -> Result<()> {
        let p = self.sticky_action_prob;
        if !(0.0..=1.0).contains(&p) {
            return Err(EnvError::BadKwarg {
                env: env.to_string(),
                key: "sticky_action_prob".into(),
                reason: format!("{p} is not a probability in [0, 1]"),
            });
        }
        if self.render_cell_px == 0 || self.render_cell_px > 256 {
            return Err(EnvError::BadKwarg {
                env: env.to_string(),
                key: "render_cell_px".into(),
                reason: format!("{} is not in 1..=256", self.render_cell_px),
            });
        }
        Ok(())
    }
}
