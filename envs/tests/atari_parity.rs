//! Atari parity with ale-py 0.12.1 and Gymnasium 1.4.0 (`fixtures/atari/gen_atari.py`): ten
//! games, deterministic and sticky actions, the standard preprocessing and its variants, other
//! observation types, modes and legacy ids. Each step's observation, RAM, reward, flags, lives
//! and frame counters must match bit for bit (a CRC-32 over all of them, as the generator
//! computes it).
#![cfg(feature = "atari")]

use graft_envs::atari::{self, AleEnv, AtariEnv, AtariPreprocessing, AtariPreprocessingConfig};
use graft_envs::{ActionRef, Env, Info, Kwargs, Obs, Value};
use serde_json::Value as Json;

const DIGITS: &str = "0123456789abcdefghijklmnopqrstuvwxyz";

fn fixtures() -> Json {
    let text = include_str!("fixtures/atari/atari.json");
    serde_json::from_str(text).expect("atari.json parses")
}

fn kwargs(json: &Json) -> Kwargs {
    let mut out = Kwargs::new();
    for (k, v) in json.as_object().expect("kwargs object") {
        let value = match v {
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap()),
            Json::Number(n) => Value::Float(n.as_f64().unwrap()),
            Json::String(s) => Value::Str(s.clone()),
            Json::Array(xs) => Value::Floats(xs.iter().map(|x| x.as_f64().unwrap()).collect()),
            other => panic!("unexpected kwarg {other}"),
        };
        out.insert(k.clone(), value);
    }
    out
}

fn preprocessing(json: &Json) -> AtariPreprocessingConfig {
    let mut config = AtariPreprocessingConfig::default();
    for (k, v) in json.as_object().expect("preprocessing object") {
        match k.as_str() {
            "noop_max" => config.noop_max = v.as_u64().unwrap() as u32,
            "frame_skip" => config.frame_skip = v.as_u64().unwrap() as u32,
            "terminal_on_life_loss" => config.terminal_on_life_loss = v.as_bool().unwrap(),
            "grayscale_obs" => config.grayscale_obs = v.as_bool().unwrap(),
            "grayscale_newaxis" => config.grayscale_newaxis = v.as_bool().unwrap(),
            "scale_obs" => config.scale_obs = v.as_bool().unwrap(),
            "screen_size" => {
                let s = v.as_array().unwrap();
                config.screen_size =
                    (s[0].as_u64().unwrap() as usize, s[1].as_u64().unwrap() as usize);
            }
            other => panic!("unexpected preprocessing argument {other}"),
        }
    }
    config
}

fn int(info: &Info, key: &str) -> i32 {
    match info.get(key) {
        Some(Value::Int(i)) => *i as i32,
        other => panic!("info[{key}] = {other:?}"),
    }
}

/// The generator's CRC: observation bytes, RAM, then seven little-endian int32s.
fn crc(
    obs: &Obs,
    env: &dyn AleEnv,
    reward: f64,
    terminated: bool,
    truncated: bool,
    info: &Info,
) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&obs.u8);
    h.update(&env.atari().ram());
    let ints = [
        reward as i32,
        terminated as i32,
        truncated as i32,
        int(info, "lives"),
        int(info, "episode_frame_number"),
        int(info, "frame_number"),
        0,
    ];
    for i in ints {
        h.update(&i.to_le_bytes());
    }
    h.finalize()
}

fn build(run: &Json) -> Box<dyn AleEnv> {
    let id = run["id"].as_str().unwrap();
    let env = AtariEnv::new(id, atari::find(id).unwrap(), &kwargs(&run["kwargs"]))
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    match run.get("preprocessing") {
        Some(pre) => Box::new(AtariPreprocessing::new(env, preprocessing(pre)).unwrap()),
        None => Box::new(env),
    }
}

fn replay(run: &Json) {
    let id = run["id"].as_str().unwrap();
    let what =
        format!("{id} {} {}", run["kwargs"], run.get("preprocessing").unwrap_or(&Json::Null));
    let mut env = build(run);
    let seed = run["seed"].as_u64().unwrap();
    let (mut obs, info) = env.reset(Some(seed), &Kwargs::new()).unwrap();
    assert_eq!(
        format!("{:08x}", crc(&obs, &*env, 0.0, false, false, &info)),
        run["reset_crc"].as_str().unwrap(),
        "{what}: first observation"
    );
    let crcs = run["crcs"].as_str().unwrap();
    let rewards = run["rewards"].as_array().unwrap();
    let lives = run["lives"].as_array().unwrap();
    let mut at = 0;
    for (t, a) in run["actions"].as_str().unwrap().chars().enumerate() {
        let action = DIGITS.find(a).unwrap() as i64;
        let out = env.step_into(ActionRef::Discrete(action), obs.as_mut()).unwrap();
        let what = format!("{what} step {t}");
        assert_eq!(out.reward, rewards[t].as_f64().unwrap(), "{what}: reward");
        assert_eq!(i64::from(int(&out.info, "lives")), lives[t].as_i64().unwrap(), "{what}: lives");
        let got = crc(&obs, &*env, out.reward, out.terminated, out.truncated, &out.info);
        assert_eq!(format!("{got:08x}"), crcs[at..at + 8], "{what}: observation, RAM or flags");
        at += 8;
        if out.terminated || out.truncated {
            let info = env.reset_into(None, &Kwargs::new(), obs.as_mut()).unwrap();
            let got = crc(&obs, &*env, 0.0, false, false, &info);
            assert_eq!(format!("{got:08x}"), crcs[at..at + 8], "{what}: observation after reset");
            at += 8;
        }
    }
    assert_eq!(at, crcs.len(), "{what}: episode ends");
}

fn runs_where(pred: impl Fn(&Json) -> bool) -> Vec<Json> {
    let all = fixtures();
    all["runs"].as_array().unwrap().iter().filter(|r| pred(r)).cloned().collect()
}

#[test]
fn deterministic_emulation_matches_ale_py() {
    let runs = runs_where(|r| {
        r.get("preprocessing").is_none() && r["kwargs"].get("repeat_action_probability").is_some()
    });
    assert_eq!(runs.len(), 10);
    for run in &runs {
        replay(run);
    }
}

#[test]
fn sticky_actions_match_ale_py_from_the_same_seed() {
    let runs = runs_where(|r| {
        r.get("preprocessing").is_none()
            && r["kwargs"].as_object().unwrap().is_empty()
            && r["id"].as_str().unwrap().starts_with("ALE/")
    });
    assert_eq!(runs.len(), 10);
    for run in &runs {
        replay(run);
    }
}

#[test]
fn atari_preprocessing_matches_gymnasium() {
    let runs = runs_where(|r| r.get("preprocessing").is_some());
    assert_eq!(runs.len(), 15);
    for run in &runs {
        replay(run);
    }
}

#[test]
fn observation_types_modes_and_legacy_ids_match() {
    let runs = runs_where(|r| {
        r.get("preprocessing").is_none()
            && r["kwargs"].get("repeat_action_probability").is_none()
            && !(r["kwargs"].as_object().unwrap().is_empty()
                && r["id"].as_str().unwrap().starts_with("ALE/"))
    });
    assert_eq!(runs.len(), 5);
    for run in &runs {
        replay(run);
    }
}
