//! The Graft [`Env`] around a MinAtar game: sticky actions, action sets, observations and
//! rendering, as minatar 1.0.15's `Environment` and its Gymnasium class `minatar.gym.BaseEnv`
//! (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>).
//!
//! Faithful details: the game and the sticky-action draw share one `RandomState`; every step
//! draws `rand()` for stickiness, even when the probability is 0; the remembered action is
//! the last *executed* action of the full set and survives `reset` (minatar never clears it);
//! `reset(seed)` replaces the generator with `RandomState(seed)`, `reset(None)` continues it.

use image::RgbImage;

use super::{palette, Game, Grid, MinAtarConfig, NUM_ACTIONS};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::numpy_rng::random_state::{threshold_53, RandomState};
use crate::rng::EnvRng;
use crate::space::{BoxSpace, DType, Space};

/// A MinAtar game as a Graft environment.
#[derive(Debug, Clone)]
pub struct MinAtar<G: Game> {
    id: String,
    config: MinAtarConfig,
    game: G,
    rng: RandomState,
    rng_seeded: bool,
    last_action: u8,
    /// The full-set action each of this environment's actions stands for (the first
    /// `n_actions` entries), kept inline so the step's lookup is one compare and one load.
    action_set: [u8; NUM_ACTIONS],
    n_actions: usize,
    /// `rand() < sticky_action_prob` as an integer compare (see [`threshold_53`]).
    sticky_threshold: u64,
    /// `observation_space.u8_len()`, so the per-step buffer check is one compare.
    obs_len: usize,
    observation_space: Space,
    action_space: Space,
    episode: EpisodeState,
    /// The game's static layer as last drawn, and the key it was drawn for.
    template: Vec<u8>,
    template_key: Option<u128>,
    /// The bytes of `template` that [`Game::STATIC_ROWS`] and [`Game::STATIC_CHANNELS`] can
    /// reach: the only part that is copied, the rest of an observation is cleared.
    template_span: std::ops::Range<usize>,
}

impl<G: Game> MinAtar<G> {
    /// The game `G` under the id `id` with `config`.
    pub fn new(id: &str, config: MinAtarConfig) -> Result<Self> {
        config.validate(id)?;
        let mut action_set = [0u8; NUM_ACTIONS];
        let n_actions = if config.use_minimal_action_set {
            let n = G::MINIMAL_ACTIONS.len().min(NUM_ACTIONS);
            action_set[..n].copy_from_slice(&G::MINIMAL_ACTIONS[..n]);
            n
        } else {
            for (i, a) in action_set.iter_mut().enumerate() {
                *a = i as u8;
            }
            NUM_ACTIONS
        };
        let shape = if config.channels_first {
            vec![G::CHANNELS, 10, 10]
        } else {
            vec![10, 10, G::CHANNELS]
        };
        Ok(MinAtar {
            id: id.to_string(),
            game: G::new(config.difficulty_ramping),
            rng: RandomState::new(0),
            rng_seeded: false,
            last_action: 0,
            action_space: Space::discrete(n_actions as u64),
            observation_space: Space::Box(BoxSpace::uniform(0.0, 1.0, shape, DType::Bool)),
            action_set,
            n_actions,
            sticky_threshold: threshold_53(config.sticky_action_prob),
            obs_len: 100 * G::CHANNELS,
            template: vec![0; 100 * G::CHANNELS],
            template_key: None,
            template_span: static_span::<G>(config.channels_first),
            config,
            episode: EpisodeState::NeedsReset,
        })
    }

    /// The game's state.
    pub fn game(&self) -> &G {
        &self.game
    }

    /// The options this environment was built with.
    pub fn config(&self) -> &MinAtarConfig {
        &self.config
    }

    /// The actions of the full set (`0..6`, minatar's `action_map`) that this environment's
    /// actions `0..n` stand for.
    pub fn action_set(&self) -> &[u8] {
        &self.action_set[..self.n_actions]
    }

    /// minatar's `difficulty_ramp()`: the ramp level, `None` for Breakout and Freeway.
    pub fn difficulty_ramp(&self) -> Option<i32> {
        self.game.difficulty_ramp()
    }

    /// `Ok` when `obs` has room for exactly one observation: a single length compare on the
    /// step path, [`ObsMut::check`]'s typed error otherwise.
    #[inline]
    fn check_obs(&self, obs: &ObsMut<'_>) -> Result<()> {
        if obs.f32.is_empty() && obs.u8.len() == self.obs_len {
            return Ok(());
        }
        obs.check(&self.observation_space, &self.id)?;
        Err(EnvError::LengthMismatch {
            what: format!("{} observation", self.id),
            expected: self.obs_len,
            got: obs.u8.len(),
        })
    }

    /// minatar's `state()` into `out` (of length `obs_len`): cleared, the cached static layer
    /// copied in (games without one skip that), then the moving parts set.
    ///
    /// The static layers are small (Breakout's three brick rows), so only the span holding
    /// them is copied: a memset and a short copy cost much less than copying the whole
    /// 400-1000 byte template. (Seaquest's gauges, which change every few frames, are not
    /// cached: the game stores them directly.)
    ///
    /// When the layer can cover most of the grid (Space Invaders' alien block), the whole
    /// template is copied instead, which saves the memset.
    #[inline(always)]
    fn write_obs(&mut self, out: &mut [u8]) {
        if G::HAS_STATIC {
            let key = self.game.static_key();
            if self.template_key != Some(key) {
                self.redraw_template(key);
            }
            let span = self.template_span.clone();
            if span.len() * 2 > out.len() {
                out.copy_from_slice(&self.template);
            } else {
                out.fill(0);
                if let (Some(to), Some(from)) = (out.get_mut(span.clone()), self.template.get(span))
                {
                    to.copy_from_slice(from);
                }
            }
            self.write_dynamic(out);
        } else {
            out.fill(0);
            // Re-slicing to the constant length (which `check_obs` has checked) tells the
            // compiler the buffer's size, so writes at constant offsets (Seaquest's gauges)
            // need no bounds checks: Seaquest 30.4 -> 29.8 ns, Asterix 20.0 -> 19.0 ns. Not
            // for the games with a static layer: Space Invaders' writes then compiled to
            // slower code (35.9 -> 39.7 ns).
            if let Some(out) = out.get_mut(..100 * G::CHANNELS) {
                self.write_dynamic(out);
            }
        }
    }

    /// The game's moving parts into `out`, with one call per layout, each with literal
    /// strides, so that the game's cell writes compile to constant offsets.
    #[inline(always)]
    fn write_dynamic(&self, out: &mut [u8]) {
        if self.config.channels_first {
            self.game.write_dynamic(&mut Grid::new(out, G::CHANNELS, true));
        } else {
            self.game.write_dynamic(&mut Grid::new(out, G::CHANNELS, false));
        }
    }

    /// Draw the static layer for `key` into the template and find the span it occupies.
    #[cold]
    fn redraw_template(&mut self, key: u128) {
        self.template.fill(0);
        let mut grid = Grid::new(&mut self.template, G::CHANNELS, self.config.channels_first);
        self.game.write_static(&mut grid);
        self.template_key = Some(key);
        let span = self.template_span.clone();
        debug_assert!(
            self.template.iter().enumerate().all(|(i, &v)| v == 0 || span.contains(&i)),
            "{}: static layer outside its declared rows/channels",
            G::NAME
        );
    }

    /// The colour of each of the 100 cells: the highest set channel's palette entry, black when
    /// none is set (minatar's `np.amax(state * (arange(C) + 1))` lookup).
    fn cell_colours(&self) -> [[u8; 3]; 100] {
        let mut cells = [0u8; 1000];
        let hwc = &mut cells[..100 * G::CHANNELS];
        let mut grid = Grid::new(hwc, G::CHANNELS, false);
        self.game.write_state(&mut grid);
        let pal = palette(G::CHANNELS);
        let mut out = [[0u8; 3]; 100];
        for (cell, colour) in out.iter_mut().enumerate() {
            let chans = &cells[cell * G::CHANNELS..(cell + 1) * G::CHANNELS];
            if let Some(c) = chans.iter().rposition(|&v| v != 0) {
                *colour = pal.get(c).copied().unwrap_or([255, 255, 255]);
            }
        }
        out
    }
}

/// The bytes an observation's static layer can occupy, from the game's declared rows and
/// channels: from the first row's first cell in the first channel to the last row's last cell
/// in the last channel (an index grows with both the cell and the channel in either layout).
fn static_span<G: Game>(channels_first: bool) -> std::ops::Range<usize> {
    let (rows, chans) = (G::STATIC_ROWS, G::STATIC_CHANNELS);
    if rows.is_empty() || chans.is_empty() || !G::HAS_STATIC {
        return 0..0;
    }
    let (cell_stride, chan_stride) = if channels_first { (1, 100) } else { (G::CHANNELS, 1) };
    let first = rows.start as usize * 10 * cell_stride + chans.start * chan_stride;
    let last = (rows.end as usize * 10 - 1) * cell_stride + (chans.end - 1) * chan_stride;
    first..(last + 1).min(100 * G::CHANNELS)
}

impl<G: Game> Env for MinAtar<G> {
    fn id(&self) -> &str {
        &self.id
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        _options: &Kwargs,
        obs: ObsMut<'_>,
    ) -> Result<Info> {
        self.check_obs(&obs)?;
        if let Some(seed) = seed {
            self.rng = RandomState::from_u64(seed);
            self.rng_seeded = true;
        } else if !self.rng_seeded {
            // minatar's unseeded RandomState() takes OS entropy.
            self.rng = RandomState::new(EnvRng::from_entropy().next_u64() as u32);
            self.rng_seeded = true;
        }
        self.game.reset(&mut self.rng);
        self.write_obs(obs.u8);
        self.episode = EpisodeState::Running;
        Ok(Info::new())
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(&self.id)?;
        let mut a = match action {
            ActionRef::Discrete(i) if (i as u64) < self.n_actions as u64 => {
                self.action_set[i as usize]
            }
            _ => {
                self.action_space.check_action(&self.id, action)?;
                return Err(EnvError::InvalidAction {
                    env: self.id.clone(),
                    action: action.to_string(),
                    space: self.action_space.to_string(),
                });
            }
        };
        self.check_obs(&obs)?;
        // minatar: `if self.random.rand() < self.sticky_action_prob` (drawn every step), as a
        // mask: an `if`, or a compare the compiler turns back into one, is a jump that the
        // random draw defeats one time in ten. Both sides are below 2**53 + 1, so the sign of
        // the wrapped difference is the compare.
        let diff = self.rng.rand_u53().wrapping_sub(self.sticky_threshold);
        let sticky = 0u8.wrapping_sub((diff >> 63) as u8);
        a ^= (a ^ self.last_action) & sticky;
        self.last_action = a;
        let (reward, terminated) = self.game.act(a, &mut self.rng);
        self.write_obs(obs.u8);
        self.episode = EpisodeState::after_step(terminated, false);
        Ok(StepOutcome { reward: reward as f64, terminated, truncated: false, info: Info::new() })
    }

    /// The grid with each cell `render_cell_px` pixels wide, coloured like minatar's
    /// `rgb_array` (values scaled to bytes).
    fn render(&self) -> Result<RgbImage> {
        let px = self.config.render_cell_px;
        let side = 10 * px;
        let mut img = RgbImage::new(side, side);
        self.render_into(side, side, &mut img)?;
        Ok(img)
    }

    /// Nearest-cell sampling straight from the game state, at any size.
    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        let need = width as usize * height as usize * 3;
        if out.len() != need {
            return Err(EnvError::LengthMismatch {
                what: format!("{} frame buffer", self.id),
                expected: need,
                got: out.len(),
            });
        }
        if width == 0 || height == 0 {
            return Err(EnvError::Render {
                env: self.id.clone(),
                reason: format!("cannot render a {width}x{height} frame"),
            });
        }
        let cells = self.cell_colours();
        let col_of: Vec<usize> =
            (0..width as u64).map(|x| (x * 10 / width as u64) as usize).collect();
        for (y, row) in out.chunks_exact_mut(width as usize * 3).enumerate() {
            let cy = (y as u64 * 10 / height as u64) as usize;
            for (px, &cx) in row.chunks_exact_mut(3).zip(&col_of) {
                px.copy_from_slice(&cells[cy * 10 + cx]);
            }
        }
        Ok(())
    }
}
