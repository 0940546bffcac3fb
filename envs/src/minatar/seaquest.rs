//! MinAtar Seaquest (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>), ported from
//! `minatar/environments/seaquest.py` of minatar 1.0.15.
//!
//! A two-cell submarine shoots enemy fish and submarines (+1 each), picks up divers (up to 6)
//! and must surface before its oxygen runs out. Surfacing with divers refills oxygen and drops
//! one diver; surfacing with six drops them all and pays one point per tenth of oxygen left;
//! surfacing with none ends the episode, as do contact with an enemy or an enemy bullet and
//! running out of oxygen. With ramping on, each surfacing makes enemies spawn and move faster.
//! Channels: sub_front, sub_back, friendly_bullet, trail, enemy_bullet, enemy_fish,
//! enemy_sub, oxygen_guage, diver_guage, diver.
//!
//! minatar keeps its entities in Python lists, walks them with `reversed(list)` while
//! removing from them, and removes with `list.remove(item)`, which drops the first *equal*
//! element. Entities here are plain arrays in `Vec`s handled the same way (see [`PyList`]),
//! so even lists holding equal entities evolve exactly as the original's.

use super::{Game, Grid, DOWN, FIRE, LEFT, NOOP, RIGHT, UP};
use crate::numpy_rng::random_state::RandomState;

const MAX_OXYGEN: i32 = 200;
const INIT_SPAWN_SPEED: i32 = 20;
const DIVER_SPAWN_SPEED: i32 = 30;
const INIT_MOVE_INTERVAL: i32 = 5;
const SHOT_COOL_DOWN: i32 = 5;
const ENEMY_SHOT_INTERVAL: i32 = 10;
const DIVER_MOVE_INTERVAL: i32 = 5;

/// `[x, y, moving_right]`.
type Bullet = [i32; 3];
/// `[x, y, moving_right, move_timer]` (fish and divers).
type Mover = [i32; 4];
/// `[x, y, moving_right, move_timer, shot_timer]`.
type Sub = [i32; 5];

/// Python list operations minatar relies on.
trait PyList<T: PartialEq + Copy> {
    /// `list.remove(value)`: drop the first element equal to `value`; its index.
    fn remove_eq(&mut self, value: T) -> usize;
}

impl<T: PartialEq + Copy> PyList<T> for Vec<T> {
    #[inline]
    fn remove_eq(&mut self, value: T) -> usize {
        let j = self.iter().position(|v| *v == value).unwrap_or(self.len());
        if j < self.len() {
            self.remove(j);
        }
        j
    }
}

/// `reversed(list)`'s cursor: it yields index `len - 1` down to 0 and stops early when the
/// index falls outside the (possibly shrunk) list, as CPython's `listreviter` does. (One
/// unsigned compare covers both ends: -1 wraps to `usize::MAX`.)
#[inline]
fn rev_next(idx: &mut isize, len: usize) -> Option<usize> {
    if (*idx as usize) < len {
        let i = *idx as usize;
        *idx -= 1;
        Some(i)
    } else {
        None
    }
}

/// `subs.remove(sub)` for the sub tracked by `at`: afterwards `at` is where that sub now sits,
/// or `None` when it was the one removed (its value is then kept in `detached`).
fn remove_tracked(subs: &mut Vec<Sub>, at: &mut Option<usize>, detached: &mut Sub) {
    if let Some(k) = *at {
        let v = subs[k];
        let j = subs.remove_eq(v);
        if j == k {
            *detached = v;
            *at = None;
        } else if j < k {
            *at = Some(k - 1);
        }
    }
}

#[inline]
fn step_x(right: i32) -> i32 {
    if right != 0 {
        1
    } else {
        -1
    }
}

/// Seaquest's game state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seaquest {
    ramping: bool,
    oxygen: i32,
    diver_count: i32,
    sub_x: i32,
    sub_y: i32,
    /// Facing right.
    sub_or: bool,
    f_bullets: Vec<Bullet>,
    e_bullets: Vec<Bullet>,
    e_fish: Vec<Mover>,
    e_subs: Vec<Sub>,
    divers: Vec<Mover>,
    e_spawn_speed: i32,
    e_spawn_timer: i32,
    d_spawn_timer: i32,
    move_speed: i32,
    ramp_index: i32,
    shot_timer: i32,
    surface: bool,
    terminal: bool,
}

impl Seaquest {
    /// Cells of the oxygen gauge: numpy's `0 : max(0, oxygen) * 10 // max_oxygen` slice, which
    /// for the oxygen's range `..=200` is `max(0, oxygen) // 20` (an unsigned divide by a
    /// constant: a multiply and a shift).
    #[inline]
    fn oxygen_cells(&self) -> i32 {
        const _: () = assert!(MAX_OXYGEN == 200);
        ((self.oxygen.max(0) as u32 / 20) as i32).min(10)
    }

    #[inline]
    fn at_sub(&self, x: i32, y: i32) -> bool {
        (x == self.sub_x) & (y == self.sub_y)
    }

    fn spawn_enemy(&mut self, rng: &mut RandomState) {
        let lr = rng.rand() < 0.5;
        let is_sub = rng.rand() < 1.0 / 3.0;
        let x = if lr { 0 } else { 9 };
        let y = rng.randint_range(1, 9);
        let lr = lr as i32;
        let clash = self.e_subs.iter().any(|z| z[1] == y && z[2] != lr)
            || self.e_fish.iter().any(|z| z[1] == y && z[2] != lr);
        if clash {
            return;
        }
        if is_sub {
            self.e_subs.push([x, y, lr, self.move_speed, ENEMY_SHOT_INTERVAL]);
        } else {
            self.e_fish.push([x, y, lr, self.move_speed]);
        }
    }

    fn spawn_diver(&mut self, rng: &mut RandomState) {
        let lr = rng.rand() < 0.5;
        let x = if lr { 0 } else { 9 };
        let y = rng.randint_range(1, 9);
        self.divers.push([x, y, lr as i32, DIVER_MOVE_INTERVAL]);
    }

    fn surface(&mut self) -> i32 {
        self.surface = true;
        let r = if self.diver_count == 6 {
            self.diver_count = 0;
            (self.oxygen * 10).div_euclid(MAX_OXYGEN)
        } else {
            0
        };
        self.oxygen = MAX_OXYGEN;
        // As in minatar, this also runs after a full load, leaving the count at -1.
        self.diver_count -= 1;
        if self.ramping && (self.e_spawn_speed > 1 || self.move_speed > 2) {
            if self.move_speed > 2 && self.ramp_index % 2 != 0 {
                self.move_speed -= 1;
            }
            if self.e_spawn_speed > 1 {
                self.e_spawn_speed -= 1;
            }
            self.ramp_index += 1;
        }
        r
    }

    fn update_friendly_bullets(&mut self, r: &mut i32) {
        let mut idx = self.f_bullets.len() as isize - 1;
        while let Some(i) = rev_next(&mut idx, self.f_bullets.len()) {
            self.f_bullets[i][0] += step_x(self.f_bullets[i][2]);
            let b = self.f_bullets[i];
            if !(0..=9).contains(&b[0]) {
                self.f_bullets.remove_eq(b);
            } else if let Some(j) = self.e_fish.iter().position(|f| (f[0] == b[0]) & (f[1] == b[1]))
            {
                self.e_fish.remove(j);
                self.f_bullets.remove_eq(b);
                *r += 1;
            } else if let Some(j) = self.e_subs.iter().position(|s| (s[0] == b[0]) & (s[1] == b[1]))
            {
                self.e_subs.remove(j);
                self.f_bullets.remove_eq(b);
                *r += 1;
            }
        }
    }

    fn update_divers(&mut self) {
        let mut idx = self.divers.len() as isize - 1;
        while let Some(i) = rev_next(&mut idx, self.divers.len()) {
            let d = self.divers[i];
            if self.at_sub(d[0], d[1]) && self.diver_count < 6 {
                self.divers.remove_eq(d);
                self.diver_count += 1;
            } else if d[3] == 0 {
                let d = &mut self.divers[i];
                d[3] = DIVER_MOVE_INTERVAL;
                d[0] += step_x(d[2]);
                let d = *d;
                if !(0..=9).contains(&d[0]) {
                    self.divers.remove_eq(d);
                } else if self.at_sub(d[0], d[1]) && self.diver_count < 6 {
                    self.divers.remove_eq(d);
                    self.diver_count += 1;
                }
            } else {
                self.divers[i][3] -= 1;
            }
        }
    }

    fn update_enemy_subs(&mut self, r: &mut i32) {
        let mut idx = self.e_subs.len() as isize - 1;
        while let Some(i) = rev_next(&mut idx, self.e_subs.len()) {
            // Where minatar's `sub` object lives after `e_subs.remove(sub)`: still in the list
            // (an earlier equal sub was removed instead) or detached.
            let mut at: Option<usize> = Some(i);
            let mut detached: Sub = self.e_subs[i];
            let s = self.e_subs[i];
            self.terminal |= self.at_sub(s[0], s[1]);
            if s[3] == 0 {
                let s = &mut self.e_subs[i];
                s[3] = self.move_speed;
                s[0] += step_x(s[2]);
                let s = *s;
                if !(0..=9).contains(&s[0]) {
                    remove_tracked(&mut self.e_subs, &mut at, &mut detached);
                } else if self.at_sub(s[0], s[1]) {
                    self.terminal = true;
                } else if let Some(j) =
                    self.f_bullets.iter().position(|b| (b[0] == s[0]) & (b[1] == s[1]))
                {
                    remove_tracked(&mut self.e_subs, &mut at, &mut detached);
                    self.f_bullets.remove(j);
                    *r += 1;
                }
            } else {
                self.e_subs[i][3] -= 1;
            }
            let sub = match at {
                Some(k) => &mut self.e_subs[k],
                None => &mut detached,
            };
            if sub[4] == 0 {
                sub[4] = ENEMY_SHOT_INTERVAL;
                let shot = [sub[0], sub[1], sub[2]];
                self.e_bullets.push(shot);
            } else {
                sub[4] -= 1;
            }
        }
    }

    fn update_enemy_bullets(&mut self) {
        let mut idx = self.e_bullets.len() as isize - 1;
        while let Some(i) = rev_next(&mut idx, self.e_bullets.len()) {
            let b = self.e_bullets[i];
            self.terminal |= self.at_sub(b[0], b[1]);
            self.e_bullets[i][0] += step_x(b[2]);
            let b = self.e_bullets[i];
            if !(0..=9).contains(&b[0]) {
                self.e_bullets.remove_eq(b);
            } else if self.at_sub(b[0], b[1]) {
                self.terminal = true;
            }
        }
    }

    fn update_enemy_fish(&mut self, r: &mut i32) {
        let mut idx = self.e_fish.len() as isize - 1;
        while let Some(i) = rev_next(&mut idx, self.e_fish.len()) {
            let f = self.e_fish[i];
            self.terminal |= self.at_sub(f[0], f[1]);
            if f[3] == 0 {
                let f = &mut self.e_fish[i];
                f[3] = self.move_speed;
                f[0] += step_x(f[2]);
                let f = *f;
                if !(0..=9).contains(&f[0]) {
                    self.e_fish.remove_eq(f);
                } else if self.at_sub(f[0], f[1]) {
                    self.terminal = true;
                } else if let Some(j) =
                    self.f_bullets.iter().position(|b| (b[0] == f[0]) & (b[1] == f[1]))
                {
                    self.e_fish.remove_eq(f);
                    self.f_bullets.remove(j);
                    *r += 1;
                }
            } else {
                self.e_fish[i][3] -= 1;
            }
        }
    }
}

impl Game for Seaquest {
    const NAME: &'static str = "Seaquest";
    const CHANNELS: usize = 10;
    const MINIMAL_ACTIONS: &'static [u8] = &[NOOP, LEFT, UP, RIGHT, DOWN, FIRE];

    fn new(ramping: bool) -> Self {
        Seaquest {
            ramping,
            oxygen: MAX_OXYGEN,
            diver_count: 0,
            sub_x: 5,
            sub_y: 0,
            sub_or: false,
            f_bullets: Vec::with_capacity(8),
            e_bullets: Vec::with_capacity(16),
            e_fish: Vec::with_capacity(16),
            e_subs: Vec::with_capacity(16),
            divers: Vec::with_capacity(16),
            e_spawn_speed: INIT_SPAWN_SPEED,
            e_spawn_timer: INIT_SPAWN_SPEED,
            d_spawn_timer: DIVER_SPAWN_SPEED,
            move_speed: INIT_MOVE_INTERVAL,
            ramp_index: 0,
            shot_timer: 0,
            surface: true,
            terminal: false,
        }
    }

    fn reset(&mut self, _rng: &mut RandomState) {
        // Field by field, keeping the lists' allocations (`..Seaquest::new()` would allocate
        // five fresh lists only to drop them).
        self.f_bullets.clear();
        self.e_bullets.clear();
        self.e_fish.clear();
        self.e_subs.clear();
        self.divers.clear();
        self.oxygen = MAX_OXYGEN;
        self.diver_count = 0;
        self.sub_x = 5;
        self.sub_y = 0;
        self.sub_or = false;
        self.e_spawn_speed = INIT_SPAWN_SPEED;
        self.e_spawn_timer = INIT_SPAWN_SPEED;
        self.d_spawn_timer = DIVER_SPAWN_SPEED;
        self.move_speed = INIT_MOVE_INTERVAL;
        self.ramp_index = 0;
        self.shot_timer = 0;
        self.surface = true;
        self.terminal = false;
    }

    fn act(&mut self, a: u8, rng: &mut RandomState) -> (i32, bool) {
        let mut r = 0;
        if self.terminal {
            return (r, true);
        }
        if self.e_spawn_timer == 0 {
            self.spawn_enemy(rng);
            self.e_spawn_timer = self.e_spawn_speed;
        }
        if self.d_spawn_timer == 0 {
            self.spawn_diver(rng);
            self.d_spawn_timer = DIVER_SPAWN_SPEED;
        }

        // minatar's `if a == 'f' and shot_timer == 0: ... elif a == 'l': ... elif 'r', 'u',
        // 'd'`, all as arithmetic on the action: a jump on random actions is mispredicted
        // most of the time. A shot is always written past the end of the list and kept only
        // when fired (the length becomes `len + fire`); each move is a no-op for the other
        // actions, firing included.
        let fire = (a == FIRE) & (self.shot_timer == 0);
        let len = self.f_bullets.len();
        self.f_bullets.push([self.sub_x, self.sub_y, self.sub_or as i32]);
        self.f_bullets.truncate(len + fire as usize);
        // (`fire` implies a timer of 0, so this sets it to the cool-down.)
        self.shot_timer += SHOT_COOL_DOWN * fire as i32;
        // The step in x and y per action, looked up: written as compares, the compiler
        // packed the two coordinates into one vector update of a dozen shuffles.
        const DX: [i32; 6] = [0, -1, 0, 1, 0, 0];
        const DY: [i32; 6] = [0, 0, -1, 0, 1, 0];
        let k = (a as usize).min(5);
        self.sub_x = (self.sub_x + DX[k]).clamp(0, 9);
        self.sub_y = (self.sub_y + DY[k]).clamp(0, 8);
        self.sub_or = (a == RIGHT) | (self.sub_or & (a != LEFT));

        self.update_friendly_bullets(&mut r);
        self.update_divers();
        self.update_enemy_subs(&mut r);
        self.update_enemy_bullets();
        self.update_enemy_fish(&mut r);

        // Timers count down to 0 (as arithmetic: the shot timer follows the random actions).
        self.e_spawn_timer -= (self.e_spawn_timer > 0) as i32;
        self.d_spawn_timer -= (self.d_spawn_timer > 0) as i32;
        self.shot_timer -= (self.shot_timer > 0) as i32;
        self.terminal |= self.oxygen <= 0;
        // minatar: `if sub_y > 0: oxygen -= 1; surface = False` `elif not surface:` surface
        // (or end the episode without divers). The rare surfacing is the only branch.
        let under = self.sub_y > 0;
        let surfacing = !under & !self.surface;
        self.oxygen -= under as i32;
        self.surface &= !under;
        if surfacing {
            if self.diver_count == 0 {
                self.terminal = true;
            } else {
                r += self.surface();
            }
        }
        (r, self.terminal)
    }

    #[inline(always)]
    fn write_dynamic(&self, grid: &mut Grid<'_>) {
        // The oxygen and diver gauges, on the bottom row, which nothing else reaches: a 0 or
        // a 1 stored into each of their 16 cells, with no loop and no jump. (A cached layer
        // copied in, as Breakout's bricks are, measured 5 ns per step: the gauges change
        // every few frames, so the cache was redrawn often, and the copy is a call.)
        let oxygen = self.oxygen_cells();
        for x in 0..10 {
            grid.put(9, x, 7, x < oxygen);
        }
        // numpy's `9 - diver_count : 9` slice, empty for the count of -1 after a full load;
        // the count is at most 6, so the slice starts at column 3 or later.
        let divers_from = 9 - self.diver_count;
        for x in 3..9 {
            grid.put(9, x, 8, x >= divers_from);
        }
        grid.set(self.sub_y, self.sub_x, 0);
        let back = if self.sub_or { self.sub_x - 1 } else { self.sub_x + 1 };
        // numpy reads index -1 as the last column; the game never produces 10.
        grid.set(self.sub_y, back + 10 * (back < 0) as i32, 1);
        for b in &self.f_bullets {
            grid.set(b[1], b[0], 2);
        }
        for b in &self.e_bullets {
            grid.set(b[1], b[0], 4);
        }
        // The cell an entity came from, unless that is off the grid (a condition, not a jump:
        // entities near the edges come and go).
        let trail = |grid: &mut Grid<'_>, e: &[i32]| {
            let back = if e[2] != 0 { e[0] - 1 } else { e[0] + 1 };
            grid.set_if(e[1], back.clamp(0, 9), 3, (0..=9).contains(&back));
        };
        for f in &self.e_fish {
            grid.set(f[1], f[0], 5);
            trail(grid, f);
        }
        for s in &self.e_subs {
            grid.set(s[1], s[0], 6);
            trail(grid, s);
        }
        for d in &self.divers {
            grid.set(d[1], d[0], 9);
            trail(grid, d);
        }
    }

    fn difficulty_ramp(&self) -> Option<i32> {
        Some(self.ramp_index)
    }
}
