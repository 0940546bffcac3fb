//! The trajectory dataset schema: column names (Minari's), Arrow types, and the dataset
//! metadata stored in the schema.
//!
//! One row per transition, plus one *final-observation row* per episode:
//!
//! | column | Arrow type | per row |
//! |---|---|---|
//! | `episode_id` | `int64` | episode number, 0, 1, 2, … in file order |
//! | `step` | `int64` | 0, 1, …, N within the episode (N = the episode's length) |
//! | `observations` | `fixed_size_list<float32>[n]` or `fixed_size_list<uint8>[n]` | observation *before* the action (the final row: the last observation) |
//! | `actions` | `int64` (Discrete), `fixed_size_list<float32>[d]` (Box), `fixed_size_list<int64>[k]` (MultiDiscrete) | null on the final row |
//! | `rewards` | `float64` | null on the final row |
//! | `terminations` | `bool` | null on the final row |
//! | `truncations` | `bool` | null on the final row |
//! | `state` (optional) | `fixed_size_list<float32>[m]` | low-dimensional env state beside pixel observations |
//! | `info` (optional) | `utf8` (JSON object) | null when the step reported nothing |
//!
//! So an episode of N transitions takes N + 1 rows, and grouping `observations` by
//! `episode_id` gives N + 1 observations and N actions, exactly Minari's episode layout. The
//! next observation of the transition in row r is always row r + 1, and no observation is
//! stored twice. Image observations are raw `uint8` in HWC order, with their shape in the
//! field metadata (`"shape": "[64, 64, 3]"`).
//!
//! Dataset metadata lives in the schema's key-value metadata (see [`DatasetMeta`]), with
//! Minari's keys where Minari has one.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use serde_json::{json, Value as Json};

use graft_envs::{DType, EnvSpec, Kwargs, Space, Value};

/// Column names, as Minari names them.
pub mod col {
    pub const EPISODE_ID: &str = "episode_id";
    pub const STEP: &str = "step";
    pub const OBSERVATIONS: &str = "observations";
    pub const ACTIONS: &str = "actions";
    pub const REWARDS: &str = "rewards";
    pub const TERMINATIONS: &str = "terminations";
    pub const TRUNCATIONS: &str = "truncations";
    pub const STATE: &str = "state";
    pub const INFO: &str = "info";
}

/// The `graft_format` metadata value of files this version writes.
pub const FORMAT: &str = "graft.trajectories/1";

/// One observation as flat buffers split by element type, as `graft_envs` lays them out
/// (`f32` part, `u8` part); either may be empty.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ObsView<'a> {
    /// The `f32` values (a state vector; with pixels, the `state` column).
    pub f32: &'a [f32],
    /// The `u8` values (an image, HWC).
    pub u8: &'a [u8],
}

impl<'a> ObsView<'a> {
    /// A view of an owned observation.
    pub fn of(obs: &'a graft_envs::Obs) -> Self {
        ObsView { f32: &obs.f32, u8: &obs.u8 }
    }
}

/// How observations are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObsColumn {
    /// `fixed_size_list<float32>[len]`: state vectors.
    F32 { len: usize },
    /// `fixed_size_list<uint8>[len]`: images (HWC) or MinAtar channels, `shape` multiplying
    /// out to `len`.
    U8 { len: usize, shape: Vec<usize> },
}

impl ObsColumn {
    /// Values per observation.
    pub fn len(&self) -> usize {
        match self {
            ObsColumn::F32 { len } | ObsColumn::U8 { len, .. } => *len,
        }
    }

    /// Whether an observation holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of one observation.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            ObsColumn::F32 { len } => vec![*len],
            ObsColumn::U8 { shape, .. } => shape.clone(),
        }
    }
}

/// How actions are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionColumn {
    /// `int64`.
    Discrete,
    /// `fixed_size_list<float32>[d]`.
    Continuous(usize),
    /// `fixed_size_list<int64>[k]`.
    MultiDiscrete(usize),
}

impl ActionColumn {
    /// Values per action.
    pub fn len(&self) -> usize {
        match self {
            ActionColumn::Discrete => 1,
            ActionColumn::Continuous(d) | ActionColumn::MultiDiscrete(d) => *d,
        }
    }

    /// Whether an action holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The columns of one dataset: what [`Layout::schema`] builds and [`Layout::from_schema`]
/// recognises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The `observations` column.
    pub obs: ObsColumn,
    /// The `actions` column.
    pub action: ActionColumn,
    /// Length of the optional `state` column.
    pub state: Option<usize>,
    /// Whether the optional `info` column is present.
    pub info: bool,
}

impl Layout {
    /// The layout for an environment's spaces. A flat observation with only `f32` values is
    /// stored as such; one with `u8` values (images) stores them in `observations` and any
    /// `f32` values (e.g. the `state` entry of `AddRenderObservation`'s `Dict`) in `state`.
    pub fn for_spaces(obs: &Space, action: &Space, info: bool) -> Result<Layout, String> {
        let (f, u) = (obs.f32_len(), obs.u8_len());
        let (obs_col, state) = if u == 0 {
            (ObsColumn::F32 { len: f }, None)
        } else {
            (
                ObsColumn::U8 { len: u, shape: u8_shape(obs).unwrap_or(vec![u]) },
                (f > 0).then_some(f),
            )
        };
        let action = match action {
            Space::Discrete { .. } => ActionColumn::Discrete,
            Space::Box(b) if b.dtype == DType::F32 => ActionColumn::Continuous(b.len()),
            Space::MultiDiscrete { nvec, .. } => ActionColumn::MultiDiscrete(nvec.len()),
            other => return Err(format!("action space {other} cannot be stored")),
        };
        Ok(Layout { obs: obs_col, action, state, info })
    }

    /// The Arrow schema for this layout, with `metadata` as its key-value metadata.
    pub fn schema(&self, metadata: HashMap<String, String>) -> Schema {
        let mut fields = vec![
            Field::new(col::EPISODE_ID, DataType::Int64, false),
            Field::new(col::STEP, DataType::Int64, false),
        ];
        let obs = match &self.obs {
            ObsColumn::F32 { len } => {
                Field::new(col::OBSERVATIONS, fsl(DataType::Float32, *len), false)
            }
            ObsColumn::U8 { len, shape } => {
                Field::new(col::OBSERVATIONS, fsl(DataType::UInt8, *len), false).with_metadata(
                    HashMap::from([
                        ("shape".to_string(), json!(shape).to_string()),
                        ("dtype".to_string(), "uint8".to_string()),
                    ]),
                )
            }
        };
        fields.push(obs);
        fields.push(Field::new(col::ACTIONS, self.action_type(), true));
        fields.push(Field::new(col::REWARDS, DataType::Float64, true));
        fields.push(Field::new(col::TERMINATIONS, DataType::Boolean, true));
        fields.push(Field::new(col::TRUNCATIONS, DataType::Boolean, true));
        if let Some(m) = self.state {
            fields.push(Field::new(col::STATE, fsl(DataType::Float32, m), false));
        }
        if self.info {
            fields.push(Field::new(col::INFO, DataType::Utf8, true));
        }
        Schema::new_with_metadata(fields, metadata)
    }

    fn action_type(&self) -> DataType {
        match self.action {
            ActionColumn::Discrete => DataType::Int64,
            ActionColumn::Continuous(d) => fsl(DataType::Float32, d),
            ActionColumn::MultiDiscrete(k) => fsl(DataType::Int64, k),
        }
    }

    /// Recognise a dataset schema (Graft's or one written by another tool with the same
    /// columns). Nullability and list item names are not checked; types and lengths are.
    pub fn from_schema(schema: &Schema) -> Result<Layout, String> {
        let field = |name: &str| {
            schema.field_with_name(name).map_err(|_| {
                let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                format!("missing column '{name}' (columns: {})", have.join(", "))
            })
        };
        let want = |name: &str, ok: bool, expected: &str| -> Result<(), String> {
            if ok {
                Ok(())
            } else {
                let got = schema.field_with_name(name).map(|f| f.data_type().to_string());
                Err(format!(
                    "column '{name}' has type {}, expected {expected}",
                    got.unwrap_or_default()
                ))
            }
        };
        want(col::EPISODE_ID, *field(col::EPISODE_ID)?.data_type() == DataType::Int64, "int64")?;
        want(col::STEP, *field(col::STEP)?.data_type() == DataType::Int64, "int64")?;
        want(col::REWARDS, *field(col::REWARDS)?.data_type() == DataType::Float64, "double")?;
        for name in [col::TERMINATIONS, col::TRUNCATIONS] {
            want(name, *field(name)?.data_type() == DataType::Boolean, "bool")?;
        }
        let obs_field = field(col::OBSERVATIONS)?;
        let obs = match fsl_parts(obs_field.data_type()) {
            Some((DataType::Float32, n)) => ObsColumn::F32 { len: n },
            Some((DataType::UInt8, n)) => {
                let shape = match obs_field.metadata().get("shape") {
                    None => vec![n],
                    Some(s) => serde_json::from_str::<Vec<usize>>(s).map_err(|_| {
                        format!(
                            "column 'observations': shape metadata '{s}' is not a list of sizes"
                        )
                    })?,
                };
                // Checked: the shape comes from the file, and may be anything.
                if shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b)) != Some(n)
                    || shape.iter().any(|&d| d > i32::MAX as usize)
                {
                    return Err(format!(
                        "column 'observations': shape metadata {shape:?} does not multiply out to \
                         the list size {n}"
                    ));
                }
                ObsColumn::U8 { len: n, shape }
            }
            _ => {
                return Err(format!(
                    "column 'observations' has type {}, expected fixed_size_list<float> or \
                     fixed_size_list<uint8>",
                    obs_field.data_type()
                ))
            }
        };
        let act_field = field(col::ACTIONS)?;
        let action = match act_field.data_type() {
            DataType::Int64 => ActionColumn::Discrete,
            t => match fsl_parts(t) {
                Some((DataType::Float32, d)) => ActionColumn::Continuous(d),
                Some((DataType::Int64, k)) => ActionColumn::MultiDiscrete(k),
                _ => {
                    return Err(format!(
                        "column 'actions' has type {t}, expected int64, fixed_size_list<float> \
                         or fixed_size_list<int64>"
                    ))
                }
            },
        };
        let state = match schema.field_with_name(col::STATE) {
            Err(_) => None,
            Ok(f) => match fsl_parts(f.data_type()) {
                Some((DataType::Float32, m)) => Some(m),
                _ => {
                    return Err(format!(
                        "column 'state' has type {}, expected fixed_size_list<float>",
                        f.data_type()
                    ))
                }
            },
        };
        let info = match schema.field_with_name(col::INFO) {
            Err(_) => false,
            Ok(f) if matches!(f.data_type(), DataType::Utf8) => true,
            Ok(f) => {
                return Err(format!("column 'info' has type {}, expected utf8", f.data_type()))
            }
        };
        Ok(Layout { obs, action, state, info })
    }
}

/// `fixed_size_list<item>[n]` with Arrow's conventional item field (nullable, as pyarrow
/// makes it, although Graft never writes null items).
pub(crate) fn fsl(item: DataType, n: usize) -> DataType {
    DataType::FixedSizeList(Arc::new(Field::new("item", item, true)), n as i32)
}

fn fsl_parts(t: &DataType) -> Option<(DataType, usize)> {
    match t {
        DataType::FixedSizeList(item, n) if *n >= 0 => {
            Some((item.data_type().clone(), *n as usize))
        }
        _ => None,
    }
}

/// The shape of the single `u8` leaf of a space, if it has exactly one.
fn u8_shape(space: &Space) -> Option<Vec<usize>> {
    match space {
        Space::Box(b) if b.dtype != DType::F32 => Some(b.shape.clone()),
        Space::Dict(entries) => {
            let leaves: Vec<&Space> =
                entries.iter().map(|(_, s)| s).filter(|s| s.u8_len() > 0).collect();
            match leaves.as_slice() {
                [one] => u8_shape(one),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Dataset-level metadata, stored as the schema's key-value metadata. Keys follow Minari's
/// dataset metadata (`dataset_id`, `total_episodes`, `total_steps`, `observation_space`,
/// `action_space`, `env_spec`, `algorithm_name`, `data_format`); `graft_version` and
/// `graft_format` are Graft's own.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetMeta {
    /// Name of the dataset, e.g. `"cartpole/heuristic-v0"`.
    pub dataset_id: String,
    /// Number of episodes.
    pub total_episodes: u64,
    /// Number of transitions (rows with an action), as Minari counts steps.
    pub total_steps: u64,
    /// The observation space, serialised as Minari serialises spaces.
    pub observation_space: Json,
    /// The action space, serialised likewise.
    pub action_space: Json,
    /// The environment spec as Gymnasium's `EnvSpec.to_json` lays it out, if known.
    pub env_spec: Option<Json>,
    /// The policy that collected the data (Minari's `algorithm_name`), e.g. `"heuristic"`.
    pub algorithm_name: String,
    /// The Graft version that wrote the file.
    pub graft_version: String,
}

impl DatasetMeta {
    /// The key-value pairs stored in the schema.
    pub fn to_map(&self) -> HashMap<String, String> {
        let mut m = HashMap::from([
            ("dataset_id".to_string(), self.dataset_id.clone()),
            ("total_episodes".to_string(), self.total_episodes.to_string()),
            ("total_steps".to_string(), self.total_steps.to_string()),
            ("observation_space".to_string(), self.observation_space.to_string()),
            ("action_space".to_string(), self.action_space.to_string()),
            ("algorithm_name".to_string(), self.algorithm_name.clone()),
            ("graft_version".to_string(), self.graft_version.clone()),
            ("graft_format".to_string(), FORMAT.to_string()),
            ("data_format".to_string(), "arrow".to_string()),
        ]);
        if let Some(spec) = &self.env_spec {
            m.insert("env_spec".to_string(), spec.to_string());
        }
        m
    }

    /// Read the metadata back; keys that are missing (files written by other tools) get
    /// empty defaults, and the counts are taken from the data by the reader.
    pub fn from_map(m: &HashMap<String, String>) -> Result<DatasetMeta, String> {
        let num = |key: &str| -> Result<u64, String> {
            m.get(key).map_or(Ok(0), |v| {
                v.parse().map_err(|_| format!("metadata '{key}' = '{v}' is not a count"))
            })
        };
        let json_of = |key: &str| -> Result<Option<Json>, String> {
            m.get(key)
                .map(|v| {
                    serde_json::from_str(v)
                        .map_err(|e| format!("metadata '{key}' is not JSON: {e}"))
                })
                .transpose()
        };
        Ok(DatasetMeta {
            dataset_id: m.get("dataset_id").cloned().unwrap_or_default(),
            total_episodes: num("total_episodes")?,
            total_steps: num("total_steps")?,
            observation_space: json_of("observation_space")?.unwrap_or(Json::Null),
            action_space: json_of("action_space")?.unwrap_or(Json::Null),
            env_spec: json_of("env_spec")?,
            algorithm_name: m.get("algorithm_name").cloned().unwrap_or_default(),
            graft_version: m.get("graft_version").cloned().unwrap_or_default(),
        })
    }

    /// Physics steps per stored transition: the `num_repeats` of a `RepeatAction` entry in the
    /// env spec's `additional_wrappers` (written by `graft collect --action-repeat`), else 1.
    pub fn action_repeat(&self) -> u64 {
        let wrappers = self.env_spec.as_ref().and_then(|s| s.get("additional_wrappers"));
        wrappers
            .and_then(|w| w.as_array())
            .into_iter()
            .flatten()
            .filter(|w| w.get("name").and_then(|n| n.as_str()) == Some(REPEAT_ACTION))
            .filter_map(|w| w.get("kwargs")?.get("num_repeats")?.as_u64())
            .product::<u64>()
            .max(1)
    }
}

/// The `additional_wrappers` name that records an action repeat in a dataset's env spec.
pub const REPEAT_ACTION: &str = "RepeatAction";

fn num_json(x: f64) -> Json {
    // JSON has no infinities; Minari's writer emits `Infinity`, which strict parsers refuse.
    if x.is_finite() {
        json!(x)
    } else if x > 0.0 {
        json!("inf")
    } else if x < 0.0 {
        json!("-inf")
    } else {
        json!("nan")
    }
}

/// Bounds as a list, or as one number when every element has the same bound (an image's
/// 0..255), which numpy broadcasts to the shape when the space is rebuilt.
fn bounds_json(xs: &[f64]) -> Json {
    match xs.first() {
        Some(&x0) if xs.len() > 1 && xs.iter().all(|&x| x == x0 || (x.is_nan() && x0.is_nan())) => {
            num_json(x0)
        }
        _ => Json::Array(xs.iter().map(|&x| num_json(x)).collect()),
    }
}

/// A space as Minari serialises it (`minari.serialization.serialize_space`), e.g.
/// `{"type": "Discrete", "dtype": "int64", "start": 0, "n": 2}`. Infinite bounds are written
/// as the strings `"inf"` / `"-inf"`; uniform bounds as one number.
pub fn space_to_json(space: &Space) -> Json {
    match space {
        Space::Discrete { n, start } => {
            json!({"type": "Discrete", "dtype": "int64", "start": start, "n": n})
        }
        Space::MultiDiscrete { nvec, start } => {
            json!({"type": "MultiDiscrete", "dtype": "int64", "nvec": nvec, "start": start})
        }
        Space::Box(b) => json!({
            "type": "Box",
            "dtype": b.dtype.name(),
            "shape": b.shape,
            "low": bounds_json(&b.low),
            "high": bounds_json(&b.high),
        }),
        Space::Dict(entries) => {
            let sub: serde_json::Map<String, Json> =
                entries.iter().map(|(k, s)| (k.clone(), space_to_json(s))).collect();
            json!({"type": "Dict", "subspaces": sub})
        }
    }
}

/// A keyword-argument value as JSON.
pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(x) => num_json(*x),
        Value::Str(s) => json!(s),
        Value::Floats(xs) => Json::Array(xs.iter().map(|&x| num_json(x)).collect()),
        Value::Map(m) => kwargs_to_json(m),
    }
}

/// Keyword arguments (or an `info` map) as a JSON object.
pub fn kwargs_to_json(kwargs: &Kwargs) -> Json {
    Json::Object(kwargs_to_map(kwargs))
}

/// Keyword arguments as the entries of a JSON object.
pub fn kwargs_to_map(kwargs: &Kwargs) -> serde_json::Map<String, Json> {
    kwargs.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect()
}

/// Keyword arguments back from [`kwargs_to_json`]'s object. Non-finite floats, which that
/// writes as strings, come back as strings; anything not a keyword-argument value is refused.
pub fn kwargs_from_json(j: &Json) -> std::result::Result<Kwargs, String> {
    fn value(v: &Json) -> std::result::Result<Value, String> {
        Ok(match v {
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().ok_or("a number out of range")?),
            },
            Json::String(s) => Value::Str(s.clone()),
            Json::Array(xs) => Value::Floats(
                xs.iter()
                    .map(|x| x.as_f64().ok_or_else(|| format!("a list holding {x}")))
                    .collect::<std::result::Result<_, _>>()?,
            ),
            Json::Object(_) => Value::Map(kwargs_from_json(v)?.into()),
            Json::Null => return Err("null".into()),
        })
    }
    let Json::Object(map) = j else { return Err(format!("{j} is not an object")) };
    map.iter().map(|(k, v)| Ok((k.clone(), value(v).map_err(|e| format!("{k}: {e}"))?))).collect()
}

/// An env spec laid out as Gymnasium's `EnvSpec.to_json`, with `additional_wrappers` as
/// given (e.g. the pixel wrapper).
pub fn env_spec_to_json(spec: &EnvSpec, kwargs: &Kwargs, additional_wrappers: Vec<Json>) -> Json {
    let mut all = spec.kwargs.clone();
    all.extend(kwargs.iter().map(|(k, v)| (k.clone(), v.clone())));
    json!({
        "id": spec.id,
        "reward_threshold": spec.reward_threshold,
        "nondeterministic": spec.nondeterministic,
        "max_episode_steps": spec.max_episode_steps,
        "kwargs": kwargs_to_json(&all),
        "additional_wrappers": additional_wrappers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kwargs_survive_json() {
        let mut inner = Kwargs::new();
        inner.insert("a".into(), Value::Int(-3));
        let mut kw = Kwargs::new();
        kw.insert("flag".into(), Value::Bool(true));
        kw.insert("n".into(), Value::Int(7));
        kw.insert("g".into(), Value::Float(9.81));
        kw.insert("mode".into(), Value::Str("rgb_array".into()));
        kw.insert("low".into(), Value::Floats(vec![-0.5, 0.25]));
        kw.insert("nested".into(), Value::Map(inner.into()));
        assert_eq!(kwargs_from_json(&kwargs_to_json(&kw)).unwrap(), kw);
        let e = kwargs_from_json(&json!({"x": null})).unwrap_err();
        assert!(e.contains('x') && e.contains("null"), "{e}");
        assert!(kwargs_from_json(&json!([1])).is_err());
    }
    use graft_envs::BoxSpace;

    #[test]
    fn layouts_round_trip_through_the_schema() {
        let pixels = Space::dict(vec![
            ("pixels".into(), Space::Box(BoxSpace::uniform(0.0, 255.0, vec![8, 6, 3], DType::U8))),
            ("state".into(), Space::box_f32(vec![-1.0; 4], vec![1.0; 4])),
        ]);
        for (obs, act) in [
            (Space::box_f32(vec![-1.0; 4], vec![1.0; 4]), Space::discrete(2)),
            (pixels, Space::box_f32(vec![-2.0], vec![2.0])),
        ] {
            let layout = Layout::for_spaces(&obs, &act, true).unwrap();
            let back = Layout::from_schema(&layout.schema(HashMap::new())).unwrap();
            assert_eq!(layout, back);
        }
    }

    #[test]
    fn pixel_layout_keeps_the_image_shape_and_the_state() {
        let obs = Space::dict(vec![
            ("pixels".into(), Space::Box(BoxSpace::uniform(0.0, 255.0, vec![8, 6, 3], DType::U8))),
            ("state".into(), Space::box_f32(vec![-1.0; 4], vec![1.0; 4])),
        ]);
        let l = Layout::for_spaces(&obs, &Space::discrete(2), false).unwrap();
        assert_eq!(l.obs, ObsColumn::U8 { len: 144, shape: vec![8, 6, 3] });
        assert_eq!(l.state, Some(4));
    }

    #[test]
    fn metadata_round_trips() {
        let meta = DatasetMeta {
            dataset_id: "x".into(),
            total_episodes: 3,
            total_steps: 10,
            observation_space: space_to_json(&Space::discrete(3)),
            action_space: space_to_json(&Space::discrete(2)),
            env_spec: None,
            algorithm_name: "random".into(),
            graft_version: "0.1.0".into(),
        };
        assert_eq!(DatasetMeta::from_map(&meta.to_map()).unwrap(), meta);
    }
}
