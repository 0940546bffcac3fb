//! The replay harness of the MuJoCo parity tests (`tests/mujoco_parity.rs`): reads the
//! fixtures `fixtures/gymnasium/gen_mujoco.py` recorded from Gymnasium 1.4.0 and checks Graft's
//! environments against them bit for bit (see that file's header).

use std::collections::BTreeMap;
use std::path::PathBuf;

use graft_envs::mujoco::MujocoTask;
use graft_envs::wrappers::TimeLimit;
use graft_envs::{spec, Action, Env, EnvError, Kwargs, MujocoEnv, NumpyRng, Result, Step, Value};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    gymnasium: String,
    mujoco: String,
    env: String,
    /// The registered `TimeLimit` (absent in the first fixtures: 1000).
    #[serde(default = "thousand")]
    max_episode_steps: u64,
    cases: Vec<Case>,
    resets: Vec<SeededReset>,
    episodes: Vec<Episode>,
}

fn thousand() -> u64 {
    1000
}

fn hundred() -> usize {
    100
}

/// An info term's bits: one float, or an array (Humanoid's `tendon_length`).
#[derive(Deserialize)]
#[serde(untagged)]
enum InfoBits {
    One(u64),
    Many(Vec<u64>),
}

#[derive(Deserialize)]
struct SeededReset {
    seed: u64,
    /// Empty where only the digest was recorded (long observations).
    obs_bits: Vec<u64>,
    #[serde(default)]
    obs_hash: Option<u64>,
    /// `qpos` then `qvel` (absent in the first fixtures).
    #[serde(default)]
    state_bits: Vec<u64>,
    info_bits: BTreeMap<String, InfoBits>,
}

#[derive(Deserialize)]
struct Episode {
    seed: u64,
    action_seed: u64,
    bound: f64,
    #[serde(default = "hundred")]
    checkpoint_every: usize,
    length: usize,
    terminated: bool,
    truncated: bool,
    return_bits: u64,
    checkpoints: Vec<Checkpoint>,
    next_reset_obs_bits: Vec<u64>,
    #[serde(default)]
    next_reset_obs_hash: Option<u64>,
}

#[derive(Deserialize)]
struct Checkpoint {
    step: usize,
    obs_bits: Vec<u64>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    kwargs: serde_json::Map<String, serde_json::Value>,
    time_limit: Option<u64>,
    qpos_bits: Vec<u64>,
    qvel_bits: Vec<u64>,
    /// Empty where only the digest was recorded.
    obs0_bits: Vec<u64>,
    #[serde(default)]
    obs0_hash: Option<u64>,
    actions_bits: Vec<Vec<u32>>,
    /// Empty on steps where only the digest was recorded (`obs_hash`).
    obs_bits: Vec<Vec<u64>>,
    /// Every step's observation digest, where some observations were left out.
    #[serde(default)]
    obs_hash: Vec<u64>,
    reward_bits: Vec<u64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    info_bits: Vec<BTreeMap<String, InfoBits>>,
    info_types: BTreeMap<String, String>,
    warnings: Vec<BTreeMap<String, i64>>,
}

fn load(file: &str) -> Fixture {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", "gymnasium", file].iter().collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let fx: Fixture = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    assert_eq!((fx.gymnasium.as_str(), fx.mujoco.as_str()), ("1.4.0", "3.17.0"));
    assert!(!fx.cases.is_empty());
    fx
}

fn floats(bits: &[u64]) -> Vec<f64> {
    bits.iter().map(|&b| f64::from_bits(b)).collect()
}

fn kwargs_of(case: &Case) -> Kwargs {
    case.kwargs
        .iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::Bool(b) => Value::Bool(*b),
                serde_json::Value::String(s) => Value::Str(s.clone()),
                serde_json::Value::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap()),
                serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap()),
                serde_json::Value::Array(xs) => {
                    Value::Floats(xs.iter().map(|x| x.as_f64().unwrap()).collect())
                }
                other => panic!("{}: unsupported kwarg {k}={other}", case.name),
            };
            (k.clone(), v)
        })
        .collect()
}

/// FNV-1a (64-bit) of the values' little-endian bytes: the digest `gen_mujoco.py` keeps of
/// observations it leaves out of a fixture.
fn fnv1a64(xs: &[f64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for x in xs {
        for byte in x.to_bits().to_le_bytes() {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// `got` against Gymnasium's observation: its bits where recorded, else its digest.
fn assert_obs(what: &str, got: &[f64], bits: &[u64], hash: Option<u64>) {
    if !bits.is_empty() {
        assert_bits(what, got, &floats(bits));
    } else {
        let hash = hash.unwrap_or_else(|| panic!("{what}: neither bits nor digest recorded"));
        assert_eq!(fnv1a64(got), hash, "{what}: digest differs; Graft's is {got:?}");
    }
}

/// Bit-equal floats, with both values in the message when not.
fn assert_bits(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (j, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits(),
            "{what}[{j}]: Graft {g:e} vs Gymnasium {w:e} (diff {:e})\n  Graft {got:?}\n  Gym   {want:?}",
            g - w
        );
    }
}

/// The warnings of a step's info as name → count.
fn warnings_of(step: &Step) -> BTreeMap<String, i64> {
    let Some(Value::Map(map)) = step.info.get("mujoco_warnings") else {
        return BTreeMap::new();
    };
    map.iter()
        .map(|(name, entry)| {
            let Value::Map(entry) = entry else { panic!("warning entry {entry:?}") };
            let Some(Value::Int(count)) = entry.get("count") else { panic!("{entry:?}") };
            (name.clone(), *count)
        })
        .collect()
}

/// One info term against Gymnasium's: its kind (`"int"`, `"float"`, `"floats"`) and bits.
fn check_info_value(what: &str, kind: &str, got: &Value, want: &InfoBits) {
    match (kind, got, want) {
        ("float", Value::Float(got), InfoBits::One(bits)) => {
            assert_bits(what, &[*got], &[f64::from_bits(*bits)])
        }
        ("int", Value::Int(got), InfoBits::One(bits)) => {
            assert_eq!(*got as f64, f64::from_bits(*bits), "{what}")
        }
        ("floats", Value::Floats(got), InfoBits::Many(bits)) => {
            assert_bits(what, got, &floats(bits))
        }
        (kind, got, _) => panic!("{what} is {got:?}, Gymnasium's is a {kind}"),
    }
}

fn check_info(what: &str, step: &Step, case: &Case, i: usize) {
    let want = &case.info_bits[i];
    let keys: Vec<&String> = step.info.keys().filter(|k| *k != "mujoco_warnings").collect();
    assert_eq!(keys, want.keys().collect::<Vec<_>>(), "{what}: info keys");
    for (key, bits) in want {
        let kind = case.info_types[key].as_str();
        check_info_value(&format!("{what}: info[{key}]"), kind, &step.info[key], bits);
    }
    assert_eq!(warnings_of(step), case.warnings[i], "{what}: MuJoCo warnings");
}

/// The float64 observation of a MujocoEnv.
fn obs_of<T: MujocoTask>(env: &MujocoEnv<T>) -> Vec<f64> {
    env.observation_f64().to_vec()
}

/// Step through `case` on `env`; `obs64` reads the float64 observation of the MujocoEnv inside.
fn run_steps<E: Env>(env: &mut E, case: &Case, obs64: impl Fn(&E) -> Vec<f64>) -> usize {
    let n = case.actions_bits.len();
    assert!(n > 0 && case.obs_bits.len() == n && case.reward_bits.len() == n);
    for i in 0..n {
        let what = format!("{}: step {i}", case.name);
        let action: Vec<f32> = case.actions_bits[i].iter().map(|&b| f32::from_bits(b)).collect();
        let step = env.step(&Action::Continuous(action)).unwrap_or_else(|e| panic!("{what}: {e}"));
        let full = obs64(env);
        let hash = case.obs_hash.get(i).copied();
        assert_obs(&format!("{what}: obs"), &full, &case.obs_bits[i], hash);
        let rounded: Vec<f32> = full.iter().map(|&x| x as f32).collect();
        assert_eq!(step.obs.f32, rounded, "{what}: float32 observation");
        assert_bits(&format!("{what}: reward"), &[step.reward], &floats(&case.reward_bits[i..=i]));
        assert_eq!(
            (step.terminated, step.truncated),
            (case.terminated[i], case.truncated[i]),
            "{what}"
        );
        check_info(&what, &step, case, i);
    }
    if case.terminated[n - 1] || case.truncated[n - 1] {
        let again = env.step(&Action::Continuous(vec![0.0; case.actions_bits[0].len()]));
        assert!(matches!(again, Err(EnvError::StepAfterDone { .. })), "{}", case.name);
    }
    n
}

/// Replay the injected-state trajectories of `file` on environments from `build`.
pub fn replay<T: MujocoTask>(file: &str, build: fn(&Kwargs) -> Result<MujocoEnv<T>>) {
    let fx = load(file);
    let mut steps = 0;
    for case in &fx.cases {
        let (qpos, qvel) = (floats(&case.qpos_bits), floats(&case.qvel_bits));
        let mut env = build(&kwargs_of(case)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(env.id(), fx.env);
        let after_set_state = format!("{}: obs after set_state", case.name);
        match case.time_limit {
            Some(limit) => {
                assert_eq!(spec(&fx.env).unwrap().max_episode_steps, Some(fx.max_episode_steps));
                let mut env = TimeLimit::new(env, limit).unwrap();
                env.reset(Some(0), &Kwargs::new()).unwrap();
                let got = env.inner_mut().set_state(&qpos, &qvel).unwrap().to_vec();
                assert_obs(&after_set_state, &got, &case.obs0_bits, case.obs0_hash);
                steps += run_steps(&mut env, case, |e| obs_of(e.inner()));
                assert!(case.truncated.last() == Some(&true) && env.elapsed_steps() == limit);
            }
            None => {
                env.reset(Some(0), &Kwargs::new()).unwrap();
                let got = env.set_state(&qpos, &qvel).unwrap().to_vec();
                assert_obs(&after_set_state, &got, &case.obs0_bits, case.obs0_hash);
                steps += run_steps(&mut env, case, obs_of);
            }
        }
    }
    eprintln!("{}: {} cases, {steps} steps, bit-identical to Gymnasium", fx.env, fx.cases.len());
}

/// `reset(seed)` for each recorded seed on one environment, then the recorded episodes.
pub fn replay_seeding<T: MujocoTask>(file: &str, build: fn(&Kwargs) -> Result<MujocoEnv<T>>) {
    let fx = load(file);
    assert_eq!(fx.resets.len(), 20);
    let mut env = build(&Kwargs::new()).unwrap();
    for r in &fx.resets {
        let what = format!("{}: reset(seed={})", fx.env, r.seed);
        let (obs, info) = env.reset(Some(r.seed), &Kwargs::new()).unwrap();
        assert_obs(&what, env.observation_f64(), &r.obs_bits, r.obs_hash);
        if !r.state_bits.is_empty() {
            let state: Vec<f64> = env.sim().state_vector().collect();
            assert_bits(&format!("{what}: qpos, qvel"), &state, &floats(&r.state_bits));
        }
        let rounded: Vec<f32> = env.observation_f64().iter().map(|&x| x as f32).collect();
        assert_eq!(obs.f32, rounded, "{what}");
        assert_eq!(info.keys().collect::<Vec<_>>(), r.info_bits.keys().collect::<Vec<_>>());
        for (key, bits) in &r.info_bits {
            let kind = if matches!(bits, InfoBits::Many(_)) { "floats" } else { "float" };
            check_info_value(&format!("{what}: info[{key}]"), kind, &info[key], bits);
        }
    }
    for e in &fx.episodes {
        let what = format!("{}: episode from reset(seed={})", fx.env, e.seed);
        let mut env = TimeLimit::new(build(&Kwargs::new()).unwrap(), fx.max_episode_steps).unwrap();
        let nu = env.action_space().shape()[0];
        // default_rng(action_seed).uniform(-bound, bound, (1000, nu)).astype(float32)
        assert!(fx.max_episode_steps <= 1000);
        let mut draws = vec![0.0; 1000 * nu];
        NumpyRng::from_seed(e.action_seed).uniform_fill(-e.bound, e.bound, &mut draws);
        let actions: Vec<f32> = draws.iter().map(|&x| x as f32).collect();
        env.reset(Some(e.seed), &Kwargs::new()).unwrap();
        let (mut total, mut t, mut checkpoints) = (0.0f64, 0, e.checkpoints.iter());
        let last = loop {
            let step = env.step(&Action::Continuous(actions[t * nu..(t + 1) * nu].to_vec()));
            let step = step.unwrap_or_else(|err| panic!("{what}: step {t}: {err}"));
            total += step.reward;
            t += 1;
            if t % e.checkpoint_every == 0 || step.terminated || step.truncated {
                let c =
                    checkpoints.next().unwrap_or_else(|| panic!("{what}: longer than Gymnasium's"));
                assert_eq!(c.step, t, "{what}");
                let got = env.inner().observation_f64();
                assert_bits(&format!("{what}: obs at step {t}"), got, &floats(&c.obs_bits));
            }
            if step.terminated || step.truncated {
                break step;
            }
        };
        assert_eq!(
            (t, last.terminated, last.truncated),
            (e.length, e.terminated, e.truncated),
            "{what}"
        );
        assert_bits(&format!("{what}: return"), &[total], &[f64::from_bits(e.return_bits)]);
        env.reset(None, &Kwargs::new()).unwrap();
        let got = env.inner().observation_f64();
        let (bits, hash) = (&e.next_reset_obs_bits, e.next_reset_obs_hash);
        assert_obs(&format!("{what}: the next reset()"), got, bits, hash);
    }
    eprintln!(
        "{}: {} seeded resets and {} episodes ({:?} steps) bit-identical to Gymnasium",
        fx.env,
        fx.resets.len(),
        fx.episodes.len(),
        fx.episodes.iter().map(|e| e.length).collect::<Vec<_>>()
    );
}
