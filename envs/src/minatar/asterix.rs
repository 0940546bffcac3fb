//! MinAtar Asterix (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>), ported from
//! `minatar/environments/asterix.py` of minatar 1.0.15.
//!
//! The player moves in four directions; enemies and treasure enter from the sides, one per
//! row at most. Treasure gives +1, touching an enemy ends the episode. Trails show where each
//! entity came from. With ramping on, every 101 frames entities spawn faster and, on every
//! other ramp, move faster. Channels: player, enemy, trail, gold.

use super::{Game, Grid, DOWN, LEFT, NOOP, RIGHT, UP};
use crate::numpy_rng::random_state::RandomState;

const RAMP_INTERVAL: i32 = 100;
const INIT_SPAWN_SPEED: i32 = 10;
const INIT_MOVE_INTERVAL: i32 = 5;

/// An enemy or a treasure in the row `slot + 1`. Whether a slot is occupied is a bit of
/// [`Asterix::occupied`]; an empty slot keeps its last values, unused.
///
/// Occupancy is a bit mask rather than an `Option` per slot so that moving all eight slots
/// needs no jump on which are occupied (entities come and go at random, and those jumps were
/// mispredicted), and drawing visits only the occupied ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Entity {
    x: i32,
    /// Moving right (entered from the left).
    right: bool,
    gold: bool,
}

/// Asterix's game state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asterix {
    ramping: bool,
    player_x: i32,
    player_y: i32,
    entities: [Entity; 8],
    /// Bit `i` set: slot `i` holds an entity.
    occupied: u8,
    spawn_speed: i32,
    spawn_timer: i32,
    move_speed: i32,
    move_timer: i32,
    ramp_timer: i32,
    ramp_index: i32,
    terminal: bool,
}

impl Asterix {
    fn spawn_entity(&mut self, rng: &mut RandomState) {
        let right = rng.rand() < 0.5;
        let gold = rng.rand() < 1.0 / 3.0;
        let x = if right { 0 } else { 9 };
        let mut free = [0usize; 8];
        let mut n = 0;
        for i in 0..8 {
            free[n] = i;
            n += (self.occupied >> i & 1 == 0) as usize;
        }
        if n == 0 {
            return;
        }
        let slot = free[rng.randint(n as u32) as usize];
        self.entities[slot] = Entity { x, right, gold };
        self.occupied |= 1 << slot;
    }

    /// Collide entity `i`, the one in the player's row, with the player: treasure is
    /// collected, an enemy ends the game.
    #[inline]
    fn touch(&mut self, i: usize, r: &mut i32) {
        if let Some(e) = self.entities.get(i) {
            if (self.occupied >> i & 1 == 1) & (e.x == self.player_x) {
                if e.gold {
                    self.occupied &= !(1 << i);
                    *r += 1;
                } else {
                    self.terminal = true;
                }
            }
        }
    }
}

impl Game for Asterix {
    const NAME: &'static str = "Asterix";
    const CHANNELS: usize = 4;
    const MINIMAL_ACTIONS: &'static [u8] = &[NOOP, LEFT, UP, RIGHT, DOWN];

    fn new(ramping: bool) -> Self {
        Asterix {
            ramping,
            player_x: 5,
            player_y: 5,
            entities: [Entity::default(); 8],
            occupied: 0,
            spawn_speed: INIT_SPAWN_SPEED,
            spawn_timer: INIT_SPAWN_SPEED,
            move_speed: INIT_MOVE_INTERVAL,
            move_timer: INIT_MOVE_INTERVAL,
            ramp_timer: RAMP_INTERVAL,
            ramp_index: 0,
            terminal: false,
        }
    }

    fn reset(&mut self, _rng: &mut RandomState) {
        *self = Asterix::new(self.ramping);
    }

    fn act(&mut self, a: u8, rng: &mut RandomState) -> (i32, bool) {
        let mut r = 0;
        if self.terminal {
            return (r, true);
        }
        if self.spawn_timer == 0 {
            self.spawn_entity(rng);
            self.spawn_timer = self.spawn_speed;
        }
        // Branch-free move (the actions are random, so a jump on them mispredicts).
        let dx = (a == RIGHT) as i32 - (a == LEFT) as i32;
        let dy = (a == DOWN) as i32 - (a == UP) as i32;
        self.player_x = (self.player_x + dx).clamp(0, 9);
        self.player_y = (self.player_y + dy).clamp(1, 8);

        // minatar checks every entity against the player, but entity `i` lives in row `i + 1`,
        // so only the one in the player's row can touch it; and moving one entity never
        // affects another, so its move-then-check loop is all moves, then that one check.
        let row = (self.player_y - 1) as usize;
        self.touch(row, &mut r);
        if self.move_timer == 0 {
            self.move_timer = self.move_speed;
            let mut left_grid = 0u8;
            for (i, e) in self.entities.iter_mut().enumerate() {
                let alive = self.occupied >> i & 1 == 1;
                let moved = e.x + if e.right { 1 } else { -1 };
                e.x = if alive { moved } else { e.x };
                left_grid |= ((alive & !(0..=9).contains(&e.x)) as u8) << i;
            }
            self.occupied &= !left_grid;
            self.touch(row, &mut r);
        }

        self.spawn_timer -= 1;
        self.move_timer -= 1;

        if self.ramping && (self.spawn_speed > 1 || self.move_speed > 1) {
            if self.ramp_timer >= 0 {
                self.ramp_timer -= 1;
            } else {
                if self.move_speed > 1 && self.ramp_index % 2 != 0 {
                    self.move_speed -= 1;
                }
                if self.spawn_speed > 1 {
                    self.spawn_speed -= 1;
                }
                self.ramp_index += 1;
                self.ramp_timer = RAMP_INTERVAL;
            }
        }
        (r, self.terminal)
    }

    #[inline(always)]
    fn write_dynamic(&self, grid: &mut Grid<'_>) {
        grid.set(self.player_y, self.player_x, 0);
        let mut slots = self.occupied;
        while slots != 0 {
            let slot = slots.trailing_zeros() as usize;
            slots &= slots - 1;
            let e = self.entities[slot & 7];
            let y = slot as i32 + 1;
            grid.set(y, e.x, if e.gold { 3 } else { 1 });
            let back = if e.right { e.x - 1 } else { e.x + 1 };
            grid.set_if(y, back.clamp(0, 9), 2, (0..=9).contains(&back));
        }
    }

    fn difficulty_ramp(&self) -> Option<i32> {
        Some(self.ramp_index)
    }
}
