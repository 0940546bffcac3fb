//! The [`Game`] trait every MinAtar game implements (the counterpart of minatar's
//! `environments/<game>.py` `Env`), and the six actions of the full action set.

use super::grid::Grid;
use crate::numpy_rng::random_state::RandomState;

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
