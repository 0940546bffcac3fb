//! Atari: the SB3 wrappers against hand-checked behaviour, `make`'s wrapper kwargs, and bad
//! input (typed errors, never an abort from ALE's C++).
#![cfg(feature = "atari")]

use graft_envs::atari::{self, AleEnv, AtariEnv};
use graft_envs::atari::{AtariError, ClipReward, EpisodicLife, FireReset};
use graft_envs::{make, Action, ActionRef, Env, EnvError, Kwargs, Space, Value};

fn kw(pairs: &[(&str, Value)]) -> Kwargs {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn plain(id: &str, pairs: &[(&str, Value)]) -> AtariEnv {
    AtariEnv::new(id, atari::find(id).unwrap(), &kw(pairs)).unwrap()
}

fn int(info: &graft_envs::Info, key: &str) -> i64 {
    match info.get(key) {
        Some(Value::Int(i)) => *i,
        other => panic!("{key}: {other:?}"),
    }
}

#[test]
fn v5_spaces_and_info_are_ale_pys() {
    let mut env = make("ALE/Breakout-v5", &Kwargs::new()).unwrap();
    assert_eq!(env.action_space(), &Space::discrete(4));
    let (obs, info) = env.reset(Some(0), &Kwargs::new()).unwrap();
    assert_eq!(obs.u8.len(), 210 * 160 * 3);
    assert_eq!(int(&info, "lives"), 5);
    assert_eq!(int(&info, "episode_frame_number"), 0);
    let step = env.step(&Action::Discrete(1)).unwrap();
    // frameskip 4: four emulator frames per step.
    assert_eq!(int(&step.info, "episode_frame_number"), 4);
    let full = plain("ALE/Breakout-v5", &[("full_action_space", Value::Bool(true))]);
    assert_eq!(full.action_space(), &Space::discrete(18));
    assert_eq!(
        plain("ALE/Pong-v5", &[]).action_meanings(),
        ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
    );
    let ram = make("ALE/Pong-v5", &kw(&[("obs_type", Value::Str("ram".into()))])).unwrap();
    assert_eq!(ram.observation_space().to_string(), "Box(0, 255, (128,), uint8)");
    // The rendered frame is the RGB observation.
    let mut env = plain("ALE/Seaquest-v5", &[]);
    let (obs, _) = env.reset(Some(3), &Kwargs::new()).unwrap();
    assert_eq!(env.render().unwrap().into_raw(), obs.u8);
}

/// Breakout with the ball launched (FIRE) and the paddle left alone loses a life at a time.
fn lose_a_life<E: AleEnv>(
    env: &mut E,
    obs: &mut graft_envs::Obs,
) -> (usize, graft_envs::StepOutcome) {
    for t in 0..2000 {
        let action = if t % 20 == 0 { 1 } else { 0 };
        let out = env.step_into(ActionRef::Discrete(action), obs.as_mut()).unwrap();
        if out.terminated || out.truncated {
            return (t, out);
        }
    }
    panic!("no life lost in 2000 steps");
}

#[test]
fn episodic_life_ends_on_a_lost_life_and_resumes_the_game() {
    let mut env = EpisodicLife::new(plain(
        "ALE/Breakout-v5",
        &[("repeat_action_probability", Value::Float(0.0))],
    ));
    let (mut obs, _) = env.reset(Some(1), &Kwargs::new()).unwrap();
    let (_, out) = lose_a_life(&mut env, &mut obs);
    assert!(out.terminated && !env.was_real_done());
    assert_eq!(int(&out.info, "lives"), 4);
    let frames = int(&out.info, "episode_frame_number");
    // Not a game over: reset is one NOOP step of the same game (4 more frames, same lives).
    let info = env.reset_into(None, &Kwargs::new(), obs.as_mut()).unwrap();
    assert_eq!(int(&info, "episode_frame_number"), frames + 4);
    assert_eq!(int(&info, "lives"), 4);
    assert!(env.step(&Action::Discrete(0)).is_ok());
    // Down to the last life, then a real game over resets the game.
    let mut lost = 1;
    loop {
        let (_, out) = lose_a_life(&mut env, &mut obs);
        lost += 1;
        if env.was_real_done() {
            assert_eq!(lost, 5, "Breakout has five lives");
            break;
        }
        env.reset_into(None, &Kwargs::new(), obs.as_mut()).unwrap();
        assert_eq!(int(&out.info, "lives"), 5 - lost);
    }
    let info = env.reset_into(None, &Kwargs::new(), obs.as_mut()).unwrap();
    assert_eq!((int(&info, "lives"), int(&info, "episode_frame_number")), (5, 0));
}

#[test]
fn fire_reset_presses_fire_then_action_2_and_needs_fire() {
    let args = [("repeat_action_probability", Value::Float(0.0))];
    let mut fired = FireReset::new(plain("ALE/Breakout-v5", &args)).unwrap();
    let mut reference = plain("ALE/Breakout-v5", &args);
    let (obs, info) = fired.reset(Some(5), &Kwargs::new()).unwrap();
    assert!(info.is_empty(), "SB3's FireReset returns an empty info");
    reference.reset(Some(5), &Kwargs::new()).unwrap();
    reference.step(&Action::Discrete(1)).unwrap();
    let by_hand = reference.step(&Action::Discrete(2)).unwrap();
    assert_eq!(obs, by_hand.obs);
    assert_eq!(fired.atari().ram(), reference.ram());
    // Freeway's actions are NOOP, UP, DOWN: no FIRE to press.
    let err = FireReset::new(plain("ALE/Freeway-v5", &[])).expect_err("no FIRE");
    assert!(err.to_string().contains("FIRE"), "{err}");
}

#[test]
fn clip_reward_is_the_sign_of_ale_pys_rewards() {
    // Asterix scores 50 a pick-up: the fixture's deterministic run, replayed clipped.
    let fixtures: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/atari/atari.json")).unwrap();
    let run = fixtures["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["id"] == "ALE/Asterix-v5" && r["kwargs"].get("repeat_action_probability").is_some()
        })
        .unwrap();
    let mut env = ClipReward::new(plain(
        "ALE/Asterix-v5",
        &[("repeat_action_probability", Value::Float(0.0))],
    ));
    env.reset(Some(run["seed"].as_u64().unwrap()), &Kwargs::new()).unwrap();
    let rewards = run["rewards"].as_array().unwrap();
    let mut big = 0;
    for (t, a) in run["actions"].as_str().unwrap().chars().enumerate() {
        let out = env.step(&Action::Discrete(a.to_digit(36).unwrap() as i64)).unwrap();
        let raw = rewards[t].as_f64().unwrap();
        big += usize::from(raw > 1.0);
        assert_eq!(out.reward, raw.signum() * f64::from(u8::from(raw != 0.0)), "step {t}");
        if out.terminated || out.truncated {
            break;
        }
    }
    assert!(big > 0, "the run scores more than 1 at least once");
}

#[test]
fn make_builds_the_cleanrl_chain_from_kwargs() {
    let chain = kw(&[
        ("preprocessing", Value::Bool(true)),
        ("grayscale_newaxis", Value::Bool(true)),
        ("episodic_life", Value::Bool(true)),
        ("fire_reset", Value::Bool(true)),
        ("clip_reward", Value::Bool(true)),
        ("frame_stack", Value::Int(4)),
    ]);
    let mut env = make("ALE/Breakout-v5", &chain).unwrap();
    assert_eq!(env.observation_space().to_string(), "Box(0, 255, (4, 84, 84, 1), uint8)");
    let (obs, _) = env.reset(Some(0), &Kwargs::new()).unwrap();
    assert_eq!(obs.u8.len(), 4 * 84 * 84);
    let mut ends = 0;
    for _ in 0..200 {
        let out = env.step(&Action::Discrete(3)).unwrap();
        assert!([-1.0, 0.0, 1.0].contains(&out.reward));
        if out.terminated || out.truncated {
            // A lost life (episodic life); the next reset goes on with the same game.
            ends += 1;
            env.reset(None, &Kwargs::new()).unwrap();
        }
    }
    assert!(ends > 0, "moving right only, Breakout loses lives");
    // The preprocessing's frame skip needs an unskipped env: an explicit frameskip=4 is refused.
    let mut skipping = kw(&[("preprocessing", Value::Bool(true))]);
    skipping.insert("frameskip".into(), Value::Int(4));
    assert!(
        matches!(make("ALE/Pong-v5", &skipping), Err(EnvError::BadKwarg { key, .. }) if key == "frame_skip")
    );
    // A preprocessing setting without preprocessing is a mistake, not ignored.
    let err = make("ALE/Pong-v5", &kw(&[("noop_max", Value::Int(5))])).err().expect("an error");
    assert!(err.to_string().contains("preprocessing=true"), "{err}");
    let err =
        make("ALE/Freeway-v5", &kw(&[("fire_reset", Value::Bool(true))])).err().expect("an error");
    assert!(err.to_string().contains("FIRE"), "{err}");
}

#[test]
fn bad_ids_kwargs_modes_and_actions_are_typed_errors() {
    let err = make("ALE/Breakou-v5", &Kwargs::new()).err().expect("an error");
    assert!(matches!(err, EnvError::Atari(AtariError::UnknownGame { .. })), "{err}");
    assert!(err.to_string().contains("Breakout, "), "{err}");
    let err = make("ALE/Breakout-v5", &kw(&[("mode", Value::Int(99))])).err().expect("an error");
    match &err {
        EnvError::Atari(AtariError::BadMode { mode: 99, available, .. }) => {
            assert!(available.contains(&0))
        }
        other => panic!("{other}"),
    }
    let err =
        make("ALE/Breakout-v5", &kw(&[("difficulty", Value::Int(7))])).err().expect("an error");
    assert!(
        matches!(err, EnvError::Atari(AtariError::BadDifficulty { difficulty: 7, .. })),
        "{err}"
    );
    for (key, value) in [
        ("obs_type", Value::Str("hsv".into())),
        ("frameskip", Value::Int(0)),
        ("frameskip", Value::Floats(vec![5.0, 2.0])),
        ("frameskip", Value::Floats(vec![2.5, 4.0])),
        ("repeat_action_probability", Value::Float(1.5)),
        ("max_num_frames_per_episode", Value::Int(0)),
        ("full_action_space", Value::Int(1)),
        ("continuous", Value::Bool(true)),
        ("colour", Value::Bool(true)),
        ("mode", Value::Int(-1)),
    ] {
        let err = make("ALE/Breakout-v5", &kw(&[(key, value.clone())])).err().expect("an error");
        assert!(
            matches!(&err, EnvError::BadKwarg { key: k, .. } if k == key),
            "{key}={value:?}: {err}"
        );
    }
    let mut env = make("ALE/Breakout-v5", &Kwargs::new()).unwrap();
    assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepBeforeReset { .. })));
    env.reset(Some(0), &Kwargs::new()).unwrap();
    assert!(matches!(env.step(&Action::Discrete(4)), Err(EnvError::InvalidAction { .. })));
    assert!(matches!(env.step(&Action::Discrete(-1)), Err(EnvError::InvalidAction { .. })));
    assert!(matches!(
        env.step(&Action::Continuous(vec![0.5])),
        Err(EnvError::WrongActionShape { .. })
    ));
    // The env is unharmed by the refused actions.
    assert!(env.step(&Action::Discrete(1)).is_ok());
}

#[test]
fn an_episode_ends_at_the_frame_limit() {
    let mut env =
        make("ALE/Pong-v5", &kw(&[("max_num_frames_per_episode", Value::Int(100))])).unwrap();
    env.reset(Some(0), &Kwargs::new()).unwrap();
    let mut steps = 0;
    loop {
        let out = env.step(&Action::Discrete(0)).unwrap();
        steps += 1;
        if out.truncated {
            assert!(!out.terminated);
            break;
        }
    }
    assert_eq!(steps, 25, "100 frames of 4");
    assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepAfterDone { .. })));
}
