//! MinAtar parity with the reference Python package (minatar 1.0.15; Young & Tian 2019,
//! <https://arxiv.org/abs/1903.03176>): numpy `RandomState` streams, then whole recorded
//! trajectories (observations, rewards, terminals) step for step, then the render palette.
//! Fixtures come from `tests/fixtures/minatar/gen_minatar.py`.

use std::path::PathBuf;

use graft_envs::minatar::{self, RandomState};
use graft_envs::{Action, Env, EnvError, Kwargs, Value};
use serde_json::Value as Json;

/// Fixtures are read from `tests/fixtures/minatar`, or from `$MINATAR_FIXTURE_DIR` when set
/// (to replay a larger set made with the same generator, e.g. `gen_minatar.py --big DIR`).
fn fixture(name: &str) -> Json {
    let dir = std::env::var("MINATAR_FIXTURE_DIR")
        .unwrap_or_else(|_| format!("{}/tests/fixtures/minatar", env!("CARGO_MANIFEST_DIR")));
    let path: PathBuf = [dir.as_str(), name].iter().collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 {c}"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c) << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// A packed HWC observation from the fixture, unpacked to one byte per cell (np.unpackbits).
fn unpack(s: &str, n: usize) -> Vec<u8> {
    let bytes = b64_decode(s);
    (0..n).map(|i| (bytes[i / 8] >> (7 - i % 8)) & 1).collect()
}

fn hwc_to_chw(hwc: &[u8], c: usize) -> Vec<u8> {
    let mut out = vec![0; hwc.len()];
    for cell in 0..100 {
        for ch in 0..c {
            out[ch * 100 + cell] = hwc[cell * c + ch];
        }
    }
    out
}

fn describe(obs: &[u8], c: usize) -> String {
    let mut s = String::new();
    for ch in 0..c {
        let cells: Vec<usize> = (0..100).filter(|&cell| obs[cell * c + ch] != 0).collect();
        s += &format!("  ch{ch}: {cells:?}\n");
    }
    s
}

#[test]
fn random_state_matches_numpy() {
    let cases = fixture("rng.json");
    let mut checked = 0;
    for case in cases.as_array().unwrap() {
        let mut r = match &case["seed"] {
            Json::Number(n) => RandomState::new(n.as_u64().unwrap() as u32),
            Json::Array(words) => RandomState::from_words(
                &words.iter().map(|w| w.as_u64().unwrap() as u32).collect::<Vec<_>>(),
            ),
            other => panic!("seed {other}"),
        };
        for call in case["calls"].as_array().unwrap() {
            let call = call.as_array().unwrap();
            let kind = call[0].as_str().unwrap();
            let num = |v: &Json| v.as_str().unwrap().parse::<f64>().unwrap();
            match kind {
                "rand" => assert_eq!(r.rand(), num(&call[1]), "{case:.80}"),
                "rand_n" => {
                    for v in call[1].as_array().unwrap() {
                        assert_eq!(r.rand(), num(v));
                    }
                }
                "randint" => {
                    let n = call[1].as_u64().unwrap() as u32;
                    assert_eq!(r.randint(n) as u64, call[2].as_u64().unwrap(), "randint({n})");
                }
                "randint_range" => {
                    let (lo, hi) = (call[1].as_i64().unwrap(), call[2].as_i64().unwrap());
                    assert_eq!(
                        r.randint_range(lo as i32, hi as i32) as i64,
                        call[3].as_i64().unwrap()
                    );
                }
                "randint_range_n" => {
                    let (lo, hi) = (call[1].as_i64().unwrap(), call[2].as_i64().unwrap());
                    for v in call[3].as_array().unwrap() {
                        assert_eq!(
                            r.randint_range(lo as i32, hi as i32) as i64,
                            v.as_i64().unwrap()
                        );
                    }
                }
                "u32" => assert_eq!(r.next_u32() as u64, call[1].as_u64().unwrap()),
                other => panic!("unknown call {other}"),
            }
            checked += 1;
        }
    }
    assert!(checked > 2000);
}

fn env_id(game: &str) -> String {
    let name = match game {
        "breakout" => "Breakout",
        "asterix" => "Asterix",
        "freeway" => "Freeway",
        "seaquest" => "Seaquest",
        "space_invaders" => "SpaceInvaders",
        other => panic!("{other}"),
    };
    format!("MinAtar/{name}-v1")
}

/// Replay every recorded run of `game`; returns the number of steps checked.
fn replay(game: &str, channels_first: bool) -> usize {
    let data = fixture(&format!("{game}.json"));
    assert_eq!(data["minatar"], "1.0.15");
    let mut steps = 0;
    for run in data["runs"].as_array().unwrap() {
        let mut kwargs = Kwargs::new();
        kwargs.insert(
            "sticky_action_prob".into(),
            Value::Float(run["sticky_action_prob"].as_f64().unwrap()),
        );
        kwargs.insert(
            "difficulty_ramping".into(),
            Value::Bool(run["difficulty_ramping"].as_bool().unwrap()),
        );
        kwargs.insert(
            "use_minimal_action_set".into(),
            Value::Bool(run["use_minimal_action_set"].as_bool().unwrap()),
        );
        kwargs.insert("channels_first".into(), Value::Bool(channels_first));
        let mut env = minatar::make(&env_id(game), &kwargs).unwrap();
        let n_actions = run["action_set"].as_array().unwrap().len() as u64;
        assert_eq!(env.action_space(), &graft_envs::Space::discrete(n_actions));
        let c = env.observation_space().u8_len() / 100;
        let seed = run["seed"].as_u64().unwrap();
        for (ep_i, ep) in run["episodes"].as_array().unwrap().iter().enumerate() {
            let obs = ep["obs"].as_array().unwrap();
            let expect = |t: usize| {
                let hwc = unpack(obs[t].as_str().unwrap(), 100 * c);
                if channels_first {
                    hwc_to_chw(&hwc, c)
                } else {
                    hwc
                }
            };
            let reset_seed = ep["reset_seed"].as_u64();
            let (o, _) = env.reset(reset_seed, &Kwargs::new()).unwrap();
            assert_eq!(o.u8, expect(0), "{game} seed {seed} episode {ep_i}: reset observation");
            let actions = ep["actions"].as_array().unwrap();
            let rewards = ep["rewards"].as_array().unwrap();
            let terminal_at_end = ep["terminal_at_end"].as_bool().unwrap();
            for (t, a) in actions.iter().enumerate() {
                let step = env.step(&Action::Discrete(a.as_i64().unwrap())).unwrap();
                let want = expect(t + 1);
                if step.obs.u8 != want {
                    let (got, want) = if channels_first {
                        (String::new(), String::new())
                    } else {
                        (describe(&step.obs.u8, c), describe(&want, c))
                    };
                    panic!(
                        "{game} seed {seed} episode {ep_i} step {t}: observation differs\n\
                         got:\n{got}want:\n{want}"
                    );
                }
                assert_eq!(
                    step.reward,
                    rewards[t].as_f64().unwrap(),
                    "{game} seed {seed} episode {ep_i} step {t}: reward"
                );
                let last = t + 1 == actions.len();
                assert_eq!(
                    step.terminated,
                    last && terminal_at_end,
                    "{game} seed {seed} episode {ep_i} step {t}: terminal"
                );
                assert!(!step.truncated);
                steps += 1;
            }
            if terminal_at_end {
                let err = env.step(&Action::Discrete(0)).unwrap_err();
                assert!(matches!(err, EnvError::StepAfterDone { .. }), "{err}");
            }
        }
    }
    steps
}

#[test]
fn breakout_matches_minatar() {
    assert!(replay("breakout", false) > 4000);
}

#[test]
fn asterix_matches_minatar() {
    assert!(replay("asterix", false) > 3000);
}

#[test]
fn freeway_matches_minatar() {
    assert!(replay("freeway", false) >= 5002);
}

#[test]
fn seaquest_matches_minatar() {
    assert!(replay("seaquest", false) > 3000);
}

#[test]
fn space_invaders_matches_minatar() {
    assert!(replay("space_invaders", false) > 1500);
}

#[test]
fn channels_first_is_the_transpose() {
    for game in ["breakout", "asterix", "freeway", "seaquest", "space_invaders"] {
        replay(game, true);
    }
}

#[test]
fn palette_matches_seaborn_cubehelix() {
    let data = fixture("palette.json");
    for (n, colours) in data.as_object().unwrap() {
        let n: usize = n.parse().unwrap();
        let ours = minatar::palette(n);
        let theirs = colours.as_array().unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(theirs) {
            for (oc, tc) in o.iter().zip(t.as_array().unwrap()) {
                assert_eq!(*oc as f64, (tc.as_f64().unwrap() * 255.0).round(), "{n} colours");
            }
        }
    }
}
