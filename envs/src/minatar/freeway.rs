//! MinAtar Freeway (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>), ported from
//! `minatar/environments/freeway.py` of minatar 1.0.15.
//!
//! The chicken crosses eight lanes of cars, moving at most once every 3 frames; reaching the
//! top gives +1, sends it back to the bottom and re-draws the cars' speeds. A car hit also
//! sends it back. Each car's trail channel (speed1..speed5) tells how often it moves. The
//! episode ends after 2500 frames (terminal on the 2501st step). No difficulty ramp.
//! Channels: chicken, car, speed1, speed2, speed3, speed4, speed5.

use super::mt19937::RandomState;
use super::{Game, Grid, DOWN, NOOP, UP};

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
        if a == UP && self.move_timer == 0 {
            self.move_timer = PLAYER_SPEED;
            self.pos = (self.pos - 1).max(0);
        } else if a == DOWN && self.move_timer == 0 {
            self.move_timer = PLAYER_SPEED;
            self.pos = (self.pos + 1).min(9);
        }

        if self.pos == 0 {
            r += 1;
            self.randomize_cars(rng, false);
            self.pos = 9;
        }

        for car in &mut self.cars {
            if car[0] == 4 && car[1] == self.pos {
                self.pos = 9;
            }
            if car[2] == 0 {
                car[2] = car[3].abs();
                car[0] += if car[3] > 0 { 1 } else { -1 };
                if car[0] < 0 {
                    car[0] = 9;
                } else if car[0] > 9 {
                    car[0] = 0;
                }
                if car[0] == 4 && car[1] == self.pos {
                    self.pos = 9;
                }
            } else {
                car[2] -= 1;
            }
        }

        if self.move_timer > 0 {
            self.move_timer -= 1;
        }
        self.terminate_timer -= 1;
        if self.terminate_timer < 0 {
            self.terminal = true;
        }
        (r, self.terminal)
    }

    fn write_dynamic(&self, grid: &mut Grid<'_>) {
        grid.set(self.pos, 4, 0);
        for &[x, y, _, speed] in &self.cars {
            let row = (y * 10) as usize;
            grid.set_cell(row + x as usize, 1);
            // The trail is the cell the car came from, wrapping around the road.
            let back = if speed > 0 {
                if x == 0 {
                    9
                } else {
                    x - 1
                }
            } else if x == 9 {
                0
            } else {
                x + 1
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
