//! `data::` — collect trajectory datasets from environments, open and describe them, and
//! turn data into supervised sets for fine-tuning: behaviour cloning, labelled image datasets
//! (`data::images(path[, format])`: ImageFolder, CIFAR, MNIST-style IDX, decoded into memory),
//! Gaussian blobs for quick experiments, random subsets (`data::take(set, fraction, seed)`)
//! and images resized for a network's input size (`data::resize(set, height, width)`,
//! bilinear).
//!
//! ```rhai
//! let ds = data::collect(#{env: "CartPole-v1", policy: "heuristic", episodes: 5});
//! print(data::info(ds));
//! let set = data::behaviour_cloning(ds);     // observation -> action
//! ```

use std::rc::Rc;

use rhai::{Dynamic, Engine, Map, Module};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::{fail, from_map, RhaiResult};
use crate::data::{collect, CollectConfig, Dataset, PolicySpec};
use crate::finetune::{Supervised, Task};
use crate::script::error::to_rhai;
use crate::script::session::Session;

/// A trajectory dataset in a script (Rhai type `Dataset`).
#[derive(Clone)]
pub struct DatasetHandle(pub Rc<Dataset>);

/// A supervised set in a script (Rhai type `Supervised`).
#[derive(Clone)]
pub struct SupervisedHandle(pub Rc<Supervised>);

/// `data::collect` options.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectOptions {
    /// Registered environment id.
    pub env: String,
    /// Keyword arguments to `make` (e.g. an Atari game's `preprocessing: true`).
    pub env_kwargs: serde_json::Map<String, serde_json::Value>,
    /// `random` or `heuristic` (the env's expert).
    pub policy: String,
    /// Episodes to collect.
    pub episodes: usize,
    /// Seed of episode 0 (episode e uses seed + e); default: the run's seed.
    pub seed: Option<u64>,
    /// File name inside `<run>/data/` (default `<env>-<policy>.arrow`).
    pub name: Option<String>,
    /// Record `[width, height]` RGB frames as observations (the state goes in `state`).
    pub pixels: Option<[u32; 2]>,
    /// Probability of a uniformly random action instead of the policy's (noisy expert).
    pub epsilon: f64,
    /// Physics steps per stored transition with one action (frame skip; at least 1);
    /// default: the papers' value for a Control Suite task, 1 otherwise (as the CLI).
    pub action_repeat: Option<usize>,
    /// Replace a dataset of the same name collected earlier in the run (refused without).
    pub overwrite: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            env: String::new(),
            env_kwargs: serde_json::Map::new(),
            policy: "random".into(),
            episodes: 10,
            seed: None,
            name: None,
            pixels: None,
            epsilon: 0.0,
            action_repeat: None,
            overwrite: false,
        }
    }
}

/// `data::blobs` options: `classes` Gaussian clusters in `dim` dimensions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlobsOptions {
    /// Examples.
    pub n: i64,
    /// Input width.
    pub dim: i64,
    /// Number of clusters (= classes).
    pub classes: i64,
    /// Standard deviation around each centre (centres are N(0, 3²)).
    pub spread: f64,
    /// Seed (default: the run's seed).
    pub seed: Option<u64>,
    /// Per-example shape to give the inputs (its product must be `dim`), e.g. `[3, 8, 8]`
    /// for image models.
    pub shape: Option<Vec<i64>>,
}

impl Default for BlobsOptions {
    fn default() -> Self {
        BlobsOptions { n: 512, dim: 8, classes: 4, spread: 1.0, seed: None, shape: None }
    }
}

/// Gaussian blobs: class `c` examples are `centre_c + spread · N(0, I)`.
pub fn blobs(o: &BlobsOptions, seed: u64) -> crate::Result<Supervised> {
    if o.n < 1 || o.dim < 1 || o.classes < 1 || o.spread.is_nan() || o.spread < 0.0 {
        return Err(crate::Error::Invalid(format!("data::blobs: bad options {o:?}")));
    }
    // The points, their noise and their sum are float32 [n, dim] tensors alive at once,
    // beside the [classes, dim] centres.
    let points = (o.n as u128).saturating_mul(o.dim as u128);
    let centres = (o.classes as u128).saturating_mul(o.dim as u128);
    crate::device::check_memory(
        &format!("data::blobs of {} points in {} dimensions", o.n, o.dim),
        points.saturating_mul(3).saturating_add(centres).saturating_mul(4),
    )?;
    tch::manual_seed(crate::train::step_seed(seed, 0));
    let opts = (Kind::Float, Device::Cpu);
    let centres = Tensor::randn([o.classes, o.dim], opts) * 3.0;
    let y = Tensor::arange(o.n, (Kind::Int64, Device::Cpu)).remainder(o.classes);
    let x = centres.index_select(0, &y) + Tensor::randn([o.n, o.dim], opts) * o.spread;
    let x = match &o.shape {
        Some(shape) => {
            if shape.iter().product::<i64>() != o.dim || shape.iter().any(|&s| s < 1) {
                return Err(crate::Error::Invalid(format!(
                    "data::blobs: shape {shape:?} does not hold dim = {} values",
                    o.dim
                )));
            }
            let mut full = vec![o.n];
            full.extend_from_slice(shape);
            x.reshape(full)
        }
        None => x,
    };
    Supervised::classification(x, y)
}

/// Register the `Dataset` and `Supervised` types.
pub fn register_types(engine: &mut Engine) {
    engine
        .register_type_with_name::<DatasetHandle>("Dataset")
        .register_get("episodes", |d: &mut DatasetHandle| d.0.num_episodes() as i64)
        .register_get("transitions", |d: &mut DatasetHandle| d.0.num_transitions() as i64)
        .register_get("path", |d: &mut DatasetHandle| d.0.path().display().to_string())
        .register_type_with_name::<SupervisedHandle>("Supervised")
        .register_get("len", |s: &mut SupervisedHandle| s.0.len() as i64)
        .register_get("output_dim", |s: &mut SupervisedHandle| s.0.output_dim())
        .register_get("task", |s: &mut SupervisedHandle| match s.0.task {
            Task::Classification => "classification".to_string(),
            Task::Regression => "regression".to_string(),
        });
}

fn info(d: &Dataset) -> Map {
    let meta = d.meta();
    let mut m = Map::new();
    m.insert("path".into(), Dynamic::from(d.path().display().to_string()));
    m.insert("episodes".into(), Dynamic::from(d.num_episodes() as i64));
    m.insert("transitions".into(), Dynamic::from(d.num_transitions() as i64));
    m.insert("dataset_id".into(), Dynamic::from(meta.dataset_id.clone()));
    m.insert("algorithm".into(), Dynamic::from(meta.algorithm_name.clone()));
    m
}

/// The `data` module.
pub fn module(session: &Session) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    api_fn!(m, "collect", |options: Map| -> RhaiResult<DatasetHandle> {
        let o: CollectOptions = from_map("data::collect", options)?;
        if o.env.is_empty() {
            return fail(
                "data::collect: give the environment, e.g. #{env: \"CartPole-v1\"}".into(),
            );
        }
        if !(0.0..=1.0).contains(&o.epsilon) {
            return fail(format!("data::collect: epsilon {} must be in [0, 1]", o.epsilon));
        }
        let action_repeat =
            o.action_repeat.unwrap_or_else(|| graft_envs::dmc::default_action_repeat(&o.env));
        if action_repeat == 0 {
            return fail("data::collect: action_repeat must be at least 1, got 0".into());
        }
        let policy: PolicySpec = o.policy.parse().map_err(to_rhai)?;
        let name = o.name.clone().unwrap_or_else(|| {
            format!("{}-{}.arrow", o.env.replace('/', "_"), policy.name().replace(':', "_"))
        });
        let path = s.output_path(&format!("data/{name}")).map_err(to_rhai)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| to_rhai(crate::Error::io(dir, e)))?;
        }
        let mut cfg = CollectConfig::new(&o.env, &path);
        cfg.kwargs =
            crate::data::schema::kwargs_from_json(&serde_json::Value::Object(o.env_kwargs.clone()))
                .map_err(|e| {
                    to_rhai(crate::Error::Invalid(format!("data::collect: env_kwargs: {e}")))
                })?;
        cfg.policy = policy;
        cfg.episodes = o.episodes;
        cfg.pixels = o.pixels.map(|[w, h]| (w, h));
        cfg.epsilon = o.epsilon;
        cfg.action_repeat = action_repeat;
        cfg.seed = o.seed.unwrap_or(s.seed());
        cfg.overwrite = o.overwrite;
        let summary = collect(&cfg, &mut |_, _| {}).map_err(to_rhai)?;
        s.log_line(&format!(
            "collected {} episodes ({} steps) of {} into {}",
            summary.episodes,
            summary.steps,
            o.env,
            summary.path.display()
        ));
        Ok(DatasetHandle(Rc::new(Dataset::open(&summary.path).map_err(to_rhai)?)))
    });
    let s = session.clone();
    api_fn!(m, "open", |path: &str| {
        Ok(DatasetHandle(Rc::new(Dataset::open(s.input_path(path)).map_err(to_rhai)?)))
    });
    api_fn!(m, "info", |d: &mut DatasetHandle| Ok(info(&d.0)));
    api_fn!(m, "behaviour_cloning", |d: &mut DatasetHandle| {
        Ok(SupervisedHandle(Rc::new(Supervised::from_trajectories(&d.0).map_err(to_rhai)?)))
    });
    let s = session.clone();
    api_fn!(m, "images", |path: &str| {
        let ds = crate::data::images::open(&s.input_path(path), None).map_err(to_rhai)?;
        Ok(SupervisedHandle(Rc::new(Supervised::from_images(ds.as_ref()).map_err(to_rhai)?)))
    });
    let s = session.clone();
    api_fn!(m, "images", |path: &str, format: &str| {
        let ds = crate::data::images::open(&s.input_path(path), Some(format)).map_err(to_rhai)?;
        Ok(SupervisedHandle(Rc::new(Supervised::from_images(ds.as_ref()).map_err(to_rhai)?)))
    });
    api_fn!(m, "take", |set: &mut SupervisedHandle, fraction: f64, seed: i64| {
        if !(fraction > 0.0 && fraction <= 1.0) {
            return fail(format!("data::take: fraction must be in (0, 1], got {fraction}"));
        }
        if fraction == 1.0 {
            return Ok(set.clone());
        }
        let (_, kept) = set.0.split(fraction, seed as u64).map_err(to_rhai)?;
        if kept.is_empty() {
            return fail(format!("data::take: {fraction} of {} examples is none", set.0.len()));
        }
        Ok(SupervisedHandle(Rc::new(kept)))
    });
    api_fn!(m, "resize", |set: &mut SupervisedHandle, height: i64, width: i64| {
        Ok(SupervisedHandle(Rc::new(set.0.resized(height, width).map_err(to_rhai)?)))
    });
    let s = session.clone();
    api_fn!(m, "blobs", |options: Map| {
        let o: BlobsOptions = from_map("data::blobs", options)?;
        let set = blobs(&o, o.seed.unwrap_or(s.seed())).map_err(to_rhai)?;
        Ok(SupervisedHandle(Rc::new(set)))
    });
    m
}
