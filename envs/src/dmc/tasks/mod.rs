//! The suite's tasks: one file per domain, each the `Physics` helpers and `Task` subclasses of
//! dm_control's `suite/<domain>.py` reimplemented, and the table of ids ([`TASKS`]).

mod ball_in_cup;
mod cartpole;
mod cheetah;
mod finger;
mod hopper;
mod quadruped;
mod reacher;
mod walker;

use std::ops::Range;

use crate::dmc::assets;
use crate::dmc::physics::Physics;
use crate::error::{EnvError, Result};
use crate::mujoco::Model;
use crate::numpy_rng::RandomState;

/// A task's episode logic (dm_control's `base.Task`): the initial state, the observation and
/// the reward. No suite task here terminates: episodes end at the time limit.
pub(crate) trait Task: Send + std::fmt::Debug {
    /// `initialize_episode`: runs between `Physics::reset` and `Physics::after_reset`, drawing
    /// from the task's `RandomState` in dm_control's order.
    fn initialize_episode(&mut self, physics: &mut Physics, random: &mut RandomState)
        -> Result<()>;
    /// `get_observation`, written into `obs` key by key in dm_control's order.
    fn observe(&self, physics: &Physics, obs: &mut ObsDict);
    /// `get_reward`.
    fn reward(&self, physics: &Physics) -> f64;
}

/// An observation as dm_control's ordered dict: named arrays in order, stored flat.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObsDict {
    values: Vec<f64>,
    keys: Vec<(&'static str, Range<usize>)>,
}

impl ObsDict {
    /// Empty it, keeping the allocations.
    pub(crate) fn clear(&mut self) {
        self.values.clear();
        self.keys.clear();
    }

    /// Append the array `key`.
    pub(crate) fn push(&mut self, key: &'static str, values: impl IntoIterator<Item = f64>) {
        let start = self.values.len();
        self.values.extend(values);
        self.keys.push((key, start..self.values.len()));
    }

    /// Every value, keys in order: `flatten_observation`'s concatenation.
    pub fn flat(&self) -> &[f64] {
        &self.values
    }

    /// The array `key`, if the observation has it.
    pub fn get(&self, key: &str) -> Option<&[f64]> {
        self.keys.iter().find(|(k, _)| *k == key).map(|(_, r)| &self.values[r.clone()])
    }

    /// The keys and their arrays, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &[f64])> + '_ {
        self.keys.iter().map(|(k, r)| (*k, &self.values[r.clone()]))
    }
}

/// One task of the suite: its id, its settings and how to build it.
#[derive(Debug, Clone, Copy)]
pub struct TaskSpec {
    /// dm_control's domain name (`"ball_in_cup"`).
    pub domain: &'static str,
    /// dm_control's task name (`"catch"`).
    pub task: &'static str,
    /// Graft's id, `dmc/<domain>-<task>`.
    pub id: &'static str,
    /// Seconds per episode (`time_limit`).
    pub time_limit: f64,
    /// Seconds per control step, when the task sets one (else one physics step).
    pub control_timestep: Option<f64>,
    /// Control steps per episode: `time_limit / control_timestep`, rounded up as dm_control's
    /// `step_count >= step_limit` ends it (1000 for every task here).
    pub episode_steps: u64,
    /// The action repeat the pixel-based papers use for it (PlaNet, CURL, DrQ: 8 for
    /// cartpole, 2 for finger and walker, 4 for the rest).
    pub action_repeat: usize,
    /// The camera the papers render from: 0, or 2 for quadruped (its egocentric view).
    pub camera: i32,
    pub(crate) model: fn() -> Result<Model>,
    pub(crate) build: fn(&Physics) -> Result<Box<dyn Task>>,
}

fn domain_model(domain: &str) -> Result<Model> {
    let xml = assets::domain_xml(domain).ok_or_else(|| EnvError::Other(format!("no {domain}")))?;
    Ok(assets::compile(domain, xml)?)
}

macro_rules! spec {
    ($domain:literal, $task:literal, $limit:expr, $control:expr, $repeat:expr, $camera:expr,
     $model:expr, $build:expr) => {
        TaskSpec {
            domain: $domain,
            task: $task,
            id: concat!("dmc/", $domain, "-", $task),
            time_limit: $limit,
            control_timestep: $control,
            episode_steps: 1000,
            action_repeat: $repeat,
            camera: $camera,
            model: $model,
            build: $build,
        }
    };
}

fn boxed<T: Task + 'static>(task: Result<T>) -> Result<Box<dyn Task>> {
    task.map(|t| Box::new(t) as Box<dyn Task>)
}

/// Every task Graft implements, in dm_control's `suite.ALL_TASKS` order of domains.
pub static TASKS: [TaskSpec; 18] = [
    spec!("ball_in_cup", "catch", 20.0, Some(0.02), 4, 0, || domain_model("ball_in_cup"), |p| {
        boxed(ball_in_cup::BallInCup::new(p))
    }),
    spec!("cartpole", "balance", 10.0, None, 8, 0, || domain_model("cartpole"), |p| {
        boxed(cartpole::Balance::new(p, false, false))
    }),
    spec!("cartpole", "balance_sparse", 10.0, None, 8, 0, || domain_model("cartpole"), |p| {
        boxed(cartpole::Balance::new(p, false, true))
    }),
    spec!("cartpole", "swingup", 10.0, None, 8, 0, || domain_model("cartpole"), |p| {
        boxed(cartpole::Balance::new(p, true, false))
    }),
    spec!("cartpole", "swingup_sparse", 10.0, None, 8, 0, || domain_model("cartpole"), |p| {
        boxed(cartpole::Balance::new(p, true, true))
    }),
    spec!("cheetah", "run", 10.0, None, 4, 0, || domain_model("cheetah"), |p| {
        boxed(cheetah::Cheetah::new(p))
    }),
    spec!("finger", "spin", 20.0, Some(0.02), 2, 0, || domain_model("finger"), |p| {
        boxed(finger::Spin::new(p))
    }),
    spec!("hopper", "hop", 20.0, Some(0.02), 4, 0, || domain_model("hopper"), |p| {
        boxed(hopper::Hopper::new(p, true))
    }),
    spec!("hopper", "stand", 20.0, Some(0.02), 4, 0, || domain_model("hopper"), |p| {
        boxed(hopper::Hopper::new(p, false))
    }),
    spec!(
        "quadruped",
        "run",
        20.0,
        Some(0.02),
        4,
        2,
        || quadruped::model(quadruped::RUN_SPEED),
        |p| boxed(quadruped::Move::new(p, quadruped::RUN_SPEED))
    ),
    spec!(
        "quadruped",
        "walk",
        20.0,
        Some(0.02),
        4,
        2,
        || quadruped::model(quadruped::WALK_SPEED),
        |p| boxed(quadruped::Move::new(p, quadruped::WALK_SPEED))
    ),
    spec!("reacher", "easy", 20.0, None, 4, 0, || domain_model("reacher"), |p| {
        boxed(reacher::Reacher::new(p, reacher::BIG_TARGET))
    }),
    spec!("reacher", "hard", 20.0, None, 4, 0, || domain_model("reacher"), |p| {
        boxed(reacher::Reacher::new(p, reacher::SMALL_TARGET))
    }),
    spec!("walker", "run", 25.0, Some(0.025), 2, 0, || domain_model("walker"), |p| {
        boxed(walker::PlanarWalker::new(p, walker::RUN_SPEED))
    }),
    spec!("walker", "stand", 25.0, Some(0.025), 2, 0, || domain_model("walker"), |p| {
        boxed(walker::PlanarWalker::new(p, 0.0))
    }),
    spec!("walker", "walk", 25.0, Some(0.025), 2, 0, || domain_model("walker"), |p| {
        boxed(walker::PlanarWalker::new(p, walker::WALK_SPEED))
    }),
    spec!("finger", "turn_easy", 20.0, Some(0.02), 2, 0, || domain_model("finger"), |p| {
        boxed(finger::Turn::new(p, finger::EASY_TARGET_SIZE))
    }),
    spec!("finger", "turn_hard", 20.0, Some(0.02), 2, 0, || domain_model("finger"), |p| {
        boxed(finger::Turn::new(p, finger::HARD_TARGET_SIZE))
    }),
];

/// The spec of `dmc/<domain>-<task>`; an error listing the domains, or the domain's tasks.
pub fn find(id: &str) -> Result<&'static TaskSpec> {
    if let Some(spec) = TASKS.iter().find(|t| t.id == id) {
        return Ok(spec);
    }
    let rest = id.strip_prefix("dmc/").unwrap_or(id);
    let mut domains: Vec<&str> = TASKS.iter().map(|t| t.domain).collect();
    domains.sort_unstable();
    domains.dedup();
    // The longest domain name that starts the id decides which list to show.
    let domain = domains
        .iter()
        .filter(|d| rest.starts_with(&format!("{d}-")) || rest == **d)
        .max_by_key(|d| d.len());
    let reason = match domain {
        Some(domain) => {
            let tasks: Vec<&str> =
                TASKS.iter().filter(|t| t.domain == *domain).map(|t| t.task).collect();
            format!("domain {domain} has the tasks {}", tasks.join(", "))
        }
        None => format!("the domains are {}", domains.join(", ")),
    };
    Err(EnvError::Other(format!(
        "unknown DeepMind Control Suite task {id:?}: ids are dmc/<domain>-<task>; {reason}"
    )))
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the tasks.

/// `np.linalg.norm` of a short vector: `sqrt(sum of squares)`, summed in order.
pub(crate) fn norm(xs: &[f64]) -> f64 {
    xs.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// dm_control's `randomizers.randomize_limited_and_rotational_joints`: every joint in model
/// order; limited hinges and slides uniform in their range, unlimited hinges uniform in
/// [-pi, pi], ball joints a random (range-limited) rotation, free joints a random orientation
/// (from `rand(4)`, as dm_control draws it); free joints' positions stay.
pub(crate) fn randomize_limited_and_rotational_joints(
    physics: &mut Physics,
    random: &mut RandomState,
) {
    let (hinge, slide, ball, free) = (
        Model::enum_value("mjJNT_HINGE"),
        Model::enum_value("mjJNT_SLIDE"),
        Model::enum_value("mjJNT_BALL"),
        Model::enum_value("mjJNT_FREE"),
    );
    let model = physics.model();
    let types = model.array_i32("jnt_type").map(|(t, _)| t.to_vec()).unwrap_or_default();
    let limited = model.array_u8("jnt_limited").map(|(l, _)| l.to_vec()).unwrap_or_default();
    let ranges = model.array("jnt_range").map(|(r, _)| r.to_vec()).unwrap_or_default();
    let adrs = model.array_i32("jnt_qposadr").map(|(a, _)| a.to_vec()).unwrap_or_default();
    let qpos = physics.data_mut().qpos_mut();
    for (j, &kind) in types.iter().enumerate() {
        let (lo, hi) = (ranges[2 * j], ranges[2 * j + 1]);
        let adr = adrs[j] as usize;
        if limited[j] != 0 {
            if kind == hinge || kind == slide {
                qpos[adr] = random.uniform(lo, hi);
            } else if kind == ball {
                qpos[adr..adr + 4].copy_from_slice(&random_limited_quaternion(random, hi));
            }
        } else if kind == hinge {
            qpos[adr] = random.uniform(-std::f64::consts::PI, std::f64::consts::PI);
        } else if kind == ball {
            let q: Vec<f64> = (0..4).map(|_| random.randn()).collect();
            let n = norm(&q);
            qpos[adr..adr + 4].iter_mut().zip(&q).for_each(|(p, x)| *p = x / n);
        } else if kind == free {
            let q: Vec<f64> = (0..4).map(|_| random.rand()).collect();
            let n = norm(&q);
            qpos[adr + 3..adr + 7].iter_mut().zip(&q).for_each(|(p, x)| *p = x / n);
        }
    }
}

/// `randomizers.random_limited_quaternion`: a rotation about a random axis by an angle
/// uniform in `[0, limit)` (`mju_axisAngle2Quat`).
fn random_limited_quaternion(random: &mut RandomState, limit: f64) -> [f64; 4] {
    let axis: Vec<f64> = (0..3).map(|_| random.randn()).collect();
    let n = norm(&axis);
    let angle = random.rand() * limit;
    let (s, c) = (angle / 2.0).sin_cos();
    [c, axis[0] / n * s, axis[1] / n * s, axis[2] / n * s]
}

/// Entries of a 3x3 `xmat` row, by dm_control's names.
pub(crate) const XX: usize = 0;
pub(crate) const XZ: usize = 2;
pub(crate) const ZZ: usize = 8;
