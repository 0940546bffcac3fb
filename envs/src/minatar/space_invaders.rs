//! MinAtar Space Invaders (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>), ported
//! from `minatar/environments/space_invaders.py` of minatar 1.0.15.
//!
//! A cannon on the bottom row shoots upward at a block of aliens, which march sideways, step
//! down and turn at the walls, and fire back from the alien nearest the cannon. Each alien
//! shot gives +1. Aliens speed up as they thin out; each cleared wave is replaced by one that
//! moves faster (with ramping on). The episode ends when an alien or an alien bullet reaches
//! the cannon. Channels: cannon, alien, alien_left, alien_right, friendly_bullet,
//! enemy_bullet. The game is deterministic: only sticky actions draw random numbers.
//!
//! The 10x10 maps are bitboards, bit `y * 10 + x`; numpy's `np.roll` along rows is a shift
//! by 10 bits.

use super::{Game, Grid, FIRE, LEFT, NOOP, RIGHT};
use crate::numpy_rng::random_state::RandomState;

const SHOT_COOL_DOWN: i32 = 5;
const ENEMY_MOVE_INTERVAL: i32 = 12;
const ENEMY_SHOT_INTERVAL: i32 = 10;

const ALL: u128 = (1u128 << 100) - 1;
const ROW0: u128 = (1u128 << 10) - 1;
const ROW9: u128 = ROW0 << 90;
/// Column 0 over all ten rows.
const COL0: u128 = {
    let mut m = 0u128;
    let mut y = 0;
    while y < 10 {
        m |= 1u128 << (y * 10);
        y += 1;
    }
    m
};
const COL9: u128 = COL0 << 9;
/// Rows 0..=3, columns 2..=7: a fresh wave.
const WAVE: u128 = {
    let mut m = 0u128;
    let mut y = 0;
    while y < 4 {
        let mut x = 2;
        while x < 8 {
            m |= 1u128 << (y * 10 + x);
            x += 1;
        }
        y += 1;
    }
    m
};
/// Columns ordered by distance from each cannon position (a stable sort, as minatar's).
const SEARCH_ORDER: [[u8; 10]; 10] = {
    let mut out = [[0u8; 10]; 10];
    let mut pos: usize = 0;
    while pos < 10 {
        let mut n = 0;
        let mut d = 0;
        while d < 10 {
            let mut i: usize = 0;
            while i < 10 {
                let dist = i.abs_diff(pos);
                if dist == d {
                    out[pos][n] = i as u8;
                    n += 1;
                }
                i += 1;
            }
            d += 1;
        }
        pos += 1;
    }
    out
};

#[inline]
fn bit(y: i32, x: i32) -> u128 {
    1u128 << (y * 10 + x)
}

/// Space Invaders' game state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceInvaders {
    ramping: bool,
    pos: i32,
    f_bullets: u128,
    e_bullets: u128,
    aliens: u128,
    alien_dir: i32,
    enemy_move_interval: i32,
    alien_move_timer: i32,
    alien_shot_timer: i32,
    ramp_index: i32,
    shot_timer: i32,
    terminal: bool,
}

impl SpaceInvaders {
    /// The lowest alien in the column nearest the cannon, as `(row, column)`.
    fn nearest_alien(&self) -> Option<(i32, i32)> {
        for &c in &SEARCH_ORDER[self.pos as usize] {
            let col = self.aliens & (COL0 << c);
            if col != 0 {
                let top_bit = 127 - col.leading_zeros() as i32;
                return Some((top_bit / 10, c as i32));
            }
        }
        None
    }
}

impl Game for SpaceInvaders {
    const NAME: &'static str = "SpaceInvaders";
    const CHANNELS: usize = 6;
    const MINIMAL_ACTIONS: &'static [u8] = &[NOOP, LEFT, RIGHT, FIRE];

    fn new(ramping: bool) -> Self {
        SpaceInvaders {
            ramping,
            pos: 5,
            f_bullets: 0,
            e_bullets: 0,
            aliens: WAVE,
            alien_dir: -1,
            enemy_move_interval: ENEMY_MOVE_INTERVAL,
            alien_move_timer: ENEMY_MOVE_INTERVAL,
            alien_shot_timer: ENEMY_SHOT_INTERVAL,
            ramp_index: 0,
            shot_timer: 0,
            terminal: false,
        }
    }

    fn reset(&mut self, _rng: &mut RandomState) {
        *self = SpaceInvaders::new(self.ramping);
    }

    fn act(&mut self, a: u8, _rng: &mut RandomState) -> (i32, bool) {
        if self.terminal {
            return (0, true);
        }
        if a == FIRE && self.shot_timer == 0 {
            self.f_bullets |= bit(9, self.pos);
            self.shot_timer = SHOT_COOL_DOWN;
        } else if a == LEFT {
            self.pos = (self.pos - 1).max(0);
        } else if a == RIGHT {
            self.pos = (self.pos + 1).min(9);
        }

        // Friendly bullets move up (roll -1 over rows, bottom row cleared).
        self.f_bullets >>= 10;
        // Enemy bullets move down (roll +1 over rows, top row cleared).
        self.e_bullets = (self.e_bullets << 10) & ALL;
        if self.e_bullets & bit(9, self.pos) != 0 {
            self.terminal = true;
        }

        if self.aliens & bit(9, self.pos) != 0 {
            self.terminal = true;
        }
        if self.alien_move_timer == 0 {
            self.alien_move_timer = (self.aliens.count_ones() as i32).min(self.enemy_move_interval);
            let at_left = self.aliens & COL0 != 0 && self.alien_dir < 0;
            let at_right = self.aliens & COL9 != 0 && self.alien_dir > 0;
            if at_left || at_right {
                self.alien_dir = -self.alien_dir;
                if self.aliens & ROW9 != 0 {
                    self.terminal = true;
                }
                // np.roll(+1, axis=0): the bottom row wraps to the top.
                self.aliens = ((self.aliens << 10) & ALL) | (self.aliens >> 90);
            } else if self.alien_dir > 0 {
                // No alien in column 9, so nothing crosses a row boundary.
                self.aliens <<= 1;
            } else {
                self.aliens >>= 1;
            }
            if self.aliens & bit(9, self.pos) != 0 {
                self.terminal = true;
            }
        }
        if self.alien_shot_timer == 0 {
            self.alien_shot_timer = ENEMY_SHOT_INTERVAL;
            if let Some((y, x)) = self.nearest_alien() {
                self.e_bullets |= bit(y, x);
            }
        }

        let kills = self.aliens & self.f_bullets;
        let r = kills.count_ones() as i32;
        self.aliens &= !kills;
        self.f_bullets &= !kills;

        if self.shot_timer > 0 {
            self.shot_timer -= 1;
        }
        self.alien_move_timer -= 1;
        self.alien_shot_timer -= 1;
        if self.aliens == 0 {
            if self.enemy_move_interval > 6 && self.ramping {
                self.enemy_move_interval -= 1;
                self.ramp_index += 1;
            }
            self.aliens |= WAVE;
        }
        (r, self.terminal)
    }

    fn write_static(&self, grid: &mut Grid<'_>) {
        grid.set_mask(self.aliens, 1);
        grid.set_mask(self.aliens, if self.alien_dir < 0 { 2 } else { 3 });
    }

    const HAS_STATIC: bool = true;
    const STATIC_CHANNELS: std::ops::Range<usize> = 1..4;

    fn static_key(&self) -> u128 {
        self.aliens | ((self.alien_dir < 0) as u128) << 100
    }

    #[inline(always)]
    fn write_dynamic(&self, grid: &mut Grid<'_>) {
        grid.set(9, self.pos, 0);
        grid.set_mask(self.f_bullets, 4);
        grid.set_mask(self.e_bullets, 5);
    }

    fn difficulty_ramp(&self) -> Option<i32> {
        Some(self.ramp_index)
    }
}
