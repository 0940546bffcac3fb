//! MinAtar Breakout (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>), ported from
//! `minatar/environments/breakout.py` of minatar 1.0.15.
//!
//! The paddle on the bottom row bounces a ball that travels along diagonals and breaks three
//! rows of bricks (+1 each); when all are gone three new rows appear. The ball's previous cell
//! is shown in a trail channel. The episode ends when the ball reaches the bottom row away
//! from the paddle. No difficulty ramp. Channels: paddle, ball, trail, brick.

use super::{Game, Grid, LEFT, NOOP, RIGHT};
use crate::numpy_rng::random_state::RandomState;

/// Bricks of rows 1..=3, as bits `y * 10 + x`.
const BRICK_ROWS: u128 = ((1u128 << 30) - 1) << 10;

/// Breakout's game state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakout {
    ball_x: i32,
    ball_y: i32,
    /// 0: up-left, 1: up-right, 2: down-right, 3: down-left.
    ball_dir: usize,
    pos: i32,
    bricks: u128,
    strike: bool,
    last_x: i32,
    last_y: i32,
    terminal: bool,
}

impl Breakout {
    #[inline]
    fn brick(&self, y: i32, x: i32) -> bool {
        self.bricks >> (y * 10 + x) & 1 == 1
    }
}

impl Game for Breakout {
    const NAME: &'static str = "Breakout";
    const CHANNELS: usize = 4;
    const MINIMAL_ACTIONS: &'static [u8] = &[NOOP, LEFT, RIGHT];

    fn new(_ramping: bool) -> Self {
        Breakout {
            ball_x: 0,
            ball_y: 3,
            ball_dir: 2,
            pos: 4,
            bricks: BRICK_ROWS,
            strike: false,
            last_x: 0,
            last_y: 3,
            terminal: false,
        }
    }

    fn reset(&mut self, rng: &mut RandomState) {
        self.ball_y = 3;
        let (x, dir) = if rng.randint(2) == 0 { (0, 2) } else { (9, 3) };
        self.ball_x = x;
        self.ball_dir = dir;
        self.pos = 4;
        self.bricks = BRICK_ROWS;
        self.strike = false;
        self.last_x = x;
        self.last_y = 3;
        self.terminal = false;
    }

    fn act(&mut self, a: u8, _rng: &mut RandomState) -> (i32, bool) {
        let mut r = 0;
        if self.terminal {
            return (r, true);
        }
        // Branch-free paddle move: the actions are random, so a branch here mispredicts.
        let dx = (a == RIGHT) as i32 - (a == LEFT) as i32;
        self.pos = (self.pos + dx).clamp(0, 9);

        self.last_x = self.ball_x;
        self.last_y = self.ball_y;
        let (dx, dy) = [(-1, -1), (1, -1), (1, 1), (-1, 1)][self.ball_dir];
        let mut new_x = self.ball_x + dx;
        let mut new_y = self.ball_y + dy;

        let mut strike_toggle = false;
        if !(0..=9).contains(&new_x) {
            new_x = new_x.clamp(0, 9);
            self.ball_dir = [1, 0, 3, 2][self.ball_dir];
        }
        if new_y < 0 {
            new_y = 0;
            self.ball_dir = [3, 2, 1, 0][self.ball_dir];
        } else if self.brick(new_y, new_x) {
            strike_toggle = true;
            if !self.strike {
                r += 1;
                self.strike = true;
                self.bricks &= !(1u128 << (new_y * 10 + new_x));
                new_y = self.last_y;
                self.ball_dir = [3, 2, 1, 0][self.ball_dir];
            }
        } else if new_y == 9 {
            if self.bricks == 0 {
                self.bricks = BRICK_ROWS;
            }
            if self.ball_x == self.pos {
                self.ball_dir = [3, 2, 1, 0][self.ball_dir];
                new_y = self.last_y;
            } else if new_x == self.pos {
                self.ball_dir = [2, 3, 0, 1][self.ball_dir];
                new_y = self.last_y;
            } else {
                self.terminal = true;
            }
        }
        if !strike_toggle {
            self.strike = false;
        }
        self.ball_x = new_x;
        self.ball_y = new_y;
        (r, self.terminal)
    }

    fn write_static(&self, grid: &mut Grid<'_>) {
        grid.set_mask(self.bricks, 3);
    }

    const HAS_STATIC: bool = true;
    const STATIC_ROWS: std::ops::Range<i32> = 1..4;
    const STATIC_CHANNELS: std::ops::Range<usize> = 3..4;

    fn static_key(&self) -> u128 {
        self.bricks
    }

    #[inline(always)]
    fn write_dynamic(&self, grid: &mut Grid<'_>) {
        grid.set(self.ball_y, self.ball_x, 1);
        grid.set(9, self.pos, 0);
        grid.set(self.last_y, self.last_x, 2);
    }

    fn difficulty_ramp(&self) -> Option<i32> {
        None
    }
}
