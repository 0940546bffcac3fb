//! MinAtar Freeway (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>), ported from
//! `minatar/environments/freeway.py` of minatar 1.0.15.
//!
//! The chicken crosses eight lanes of cars, moving at most once every 3 frames; reaching the
//! top gives +1, sends it back to the bottom and re-draws the cars' speeds. A car hit also
//! sends it back. Each car's trail channel (speed1..speed5) tells how often it moves. The
//! episode ends after 2500 frames (terminal on the 2501st step). No difficulty ramp.
//! Channels: chicken, car, speed1, speed2, speed3, speed4, speed5.

use super::{Game, Grid, DOWN, NOOP, UP};
use crate::numpy_rng::random_state::RandomState;

const PLAYER_SPEED: i32 = 3;
const TIME_LIMIT: i32 = 2500;

/// A car: `[x, y, timer, speed]`; the sign of `speed` is its direction.
type Car = [i32; 4];

/// Freeway's game state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freeway {
    cars: [Car; 8],
    pos: i32,
    move_timer: i32,
    terminate_timer: i32,
    terminal: bool,
}

impl Freeway {
    fn randomize_cars(&mut self, rng: &mut RandomState, initialize: bool) {
        let mut speeds = [0i32; 8];
        for s in &mut speeds {
            *s = rng.randint_range(1, 6);
        }
        for s in &mut speeds {
            // np.sign(rand - 0.5): 0 exactly at 0.5.
            let d = rng.rand() - 0.5;
            *s *= if d > 0.0 {
                1
            } else if d < 0.0 {
                -1
            } else {
                0
            };
        }
        for (i, (car, &s)) in self.cars.iter_mut().zip(&speeds).enumerate() {
            if initialize {
                *car = [0, i as i32 + 1, s.abs(), s];
            } else {
                car[2] = s.abs();
                car[3] = s;
            }
        }
    }
}

impl Game for Freeway {
    const NAME: &'static str = "Freeway";
    const CHANNELS: usize = 7;
    const MINIMAL_ACTIONS: &'static [u8] = &[NOOP, UP, DOWN];

    fn new(_ramping: bool) -> Self {
        Freeway {
            cars: [[0; 4]; 8],
            pos: 9,
            move_timer: PLAYER_SPEED,
            terminate_timer: TIME_LIMIT,
            terminal: false,
        }
    }

    fn reset(&mut self, rng: &mut RandomState) {
        self.randomize_cars(rng, true);
        self.pos = 9;
        self.move_timer = PLAYER_SPEED;
        self.terminate_timer = TIME_LIMIT;
        self.terminal = false;
    }

    fn act(&mut self, a: u8, rng: &mut RandomState) -> (i32, bool) {
        let mut r = 0;
        if self.terminal {
            return (r, true);
        }
        // minatar's `if a == 'u' and move_timer == 0: ... elif a == 'd' and ...`, as
        // arithmetic: the actions are random, and a jump on them is mispredicted.
        let ready = self.move_timer == 0;
        let (up, down) = ((a == UP) & ready, (a == DOWN) & ready);
        self.pos = (self.pos + down as i32 - up as i32).clamp(0, 9);
        if up | down {
            self.move_timer = PLAYER_SPEED;
        }

        if self.pos == 0 {
            r += 1;
            self.randomize_cars(rng, false);
            self.pos = 9;
        }

        // Each car: a hit sends the chicken back; a car whose timer is 0 moves one cell
        // (wrapping around) and may hit it there, otherwise its timer counts down. Written
        // with selects rather than jumps: eight cars with different periods make the outcomes
        // hard to predict.
        let mut pos = self.pos;
        for car in &mut self.cars {
            pos = if (car[0] == 4) & (car[1] == pos) { 9 } else { pos };
            let moves = car[2] == 0;
            let stepped = car[0] + if car[3] > 0 { 1 } else { -1 };
            let wrapped = if stepped < 0 {
                9
            } else if stepped > 9 {
                0
            } else {
                stepped
            };
            car[0] = if moves { wrapped } else { car[0] };
            car[2] = if moves { car[3].abs() } else { car[2] - 1 };
            pos = if moves & (car[0] == 4) & (car[1] == pos) { 9 } else { pos };
        }
        self.pos = pos;

        self.move_timer -= (self.move_timer > 0) as i32;
        self.terminate_timer -= 1;
        if self.terminate_timer < 0 {
            self.terminal = true;
        }
        (r, self.terminal)
    }

    #[inline(always)]
    fn write_dynamic(&self, grid: &mut Grid<'_>) {
        grid.set(self.pos, 4, 0);
        for &[x, y, _, speed] in &self.cars {
            let row = (y * 10) as usize;
            grid.set_cell(row + x as usize, 1);
            // The trail is the cell the car came from, wrapping around the road.
            let back = x + if speed > 0 { -1 } else { 1 };
            let back = if back < 0 {
                9
            } else if back > 9 {
                0
            } else {
                back
            };
            // minatar has no trail for a car of speed 0 (a draw of exactly 0.5).
            let speed = speed.unsigned_abs() as usize;
            if (1..=5).contains(&speed) {
                grid.set_cell(row + back as usize, 1 + speed);
            }
        }
    }

    fn difficulty_ramp(&self) -> Option<i32> {
        None
    }
}
