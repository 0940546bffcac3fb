//! Properties of the MinAtar port (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>):
//! determinism under a seed, well-formed observation channels, and typed errors on bad input.

use graft_envs::minatar;
use graft_envs::{Action, ActionRef, Env, EnvError, Kwargs, Obs, Value};
use proptest::prelude::*;

const IDS: [&str; 5] = [
    "MinAtar/Breakout-v1",
    "MinAtar/Asterix-v1",
    "MinAtar/Freeway-v1",
    "MinAtar/Seaquest-v1",
    "MinAtar/SpaceInvaders-v1",
];

fn make(id: &str) -> Box<dyn Env> {
    minatar::make(id, &Kwargs::new()).unwrap()
}

/// Run `actions` (taken modulo the action count) from `reset(seed)`, resetting after each
/// terminal; returns every observation, reward and terminal flag.
fn rollout(env: &mut dyn Env, seed: u64, actions: &[u8]) -> Vec<(Vec<u8>, f64, bool)> {
    let n = match env.action_space() {
        graft_envs::Space::Discrete { n, .. } => *n as i64,
        s => panic!("{s}"),
    };
    let (obs, _) = env.reset(Some(seed), &Kwargs::new()).unwrap();
    let mut out = vec![(obs.u8, 0.0, false)];
    for &a in actions {
        let step = env.step(&Action::Discrete(a as i64 % n)).unwrap();
        out.push((step.obs.u8, step.reward, step.terminated));
        if step.terminated {
            let (obs, _) = env.reset(None, &Kwargs::new()).unwrap();
            out.push((obs.u8, 0.0, false));
        }
    }
    out
}

fn count(obs: &[u8], c: usize, ch: usize) -> usize {
    (0..100).filter(|cell| obs[cell * c + ch] != 0).count()
}

fn cells(obs: &[u8], c: usize, ch: usize) -> Vec<usize> {
    (0..100).filter(|cell| obs[cell * c + ch] != 0).collect()
}

/// Layout rules each game guarantees, on an HWC observation.
fn check_layout(id: &str, obs: &[u8]) {
    assert!(obs.iter().all(|&v| v <= 1), "{id}: non-boolean value");
    match id {
        "MinAtar/Breakout-v1" => {
            assert_eq!(count(obs, 4, 1), 1, "one ball");
            let paddle = cells(obs, 4, 0);
            assert!(paddle.len() == 1 && paddle[0] >= 90, "one paddle on the bottom row");
            assert_eq!(count(obs, 4, 2), 1, "one trail cell");
        }
        "MinAtar/Asterix-v1" => {
            let p = cells(obs, 4, 0);
            assert!(p.len() == 1 && (10..90).contains(&p[0]), "one player in rows 1..=8");
            for row in 0..10 {
                let entities = (0..10)
                    .filter(|x| obs[(row * 10 + x) * 4 + 1] + obs[(row * 10 + x) * 4 + 3] > 0)
                    .count();
                assert!(entities <= 1, "at most one entity per row");
            }
        }
        "MinAtar/Freeway-v1" => {
            let p = cells(obs, 7, 0);
            assert!(p.len() == 1 && p[0] % 10 == 4, "one chicken in column 4");
            assert_eq!(count(obs, 7, 1), 8, "eight cars");
            let trails: usize = (2..7).map(|ch| count(obs, 7, ch)).sum();
            assert_eq!(trails, 8, "one speed trail per car");
        }
        "MinAtar/Seaquest-v1" => {
            let front = cells(obs, 10, 0);
            let back = cells(obs, 10, 1);
            assert!(front.len() == 1 && back.len() == 1, "a two-cell submarine");
            assert_eq!(front[0] / 10, back[0] / 10, "front and back share a row");
            assert!(front[0] < 90, "the submarine stays above the gauges");
            assert!(cells(obs, 10, 7).iter().all(|&c| c >= 90), "oxygen gauge on row 9");
            assert!(count(obs, 10, 8) <= 6, "at most six divers on board");
        }
        "MinAtar/SpaceInvaders-v1" => {
            let cannon = cells(obs, 6, 0);
            assert!(cannon.len() == 1 && cannon[0] >= 90, "one cannon on the bottom row");
            let aliens = cells(obs, 6, 1);
            let (l, r) = (cells(obs, 6, 2), cells(obs, 6, 3));
            assert!(
                (l == aliens && r.is_empty()) || (r == aliens && l.is_empty()),
                "exactly one direction channel mirrors the aliens"
            );
        }
        other => panic!("{other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn same_seed_same_trajectory(
        game in 0usize..5,
        seed in 0u64..1 << 40,
        actions in proptest::collection::vec(0u8..6, 1..400),
    ) {
        let id = IDS[game];
        let a = rollout(&mut *make(id), seed, &actions);
        let b = rollout(&mut *make(id), seed, &actions);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn observations_are_well_formed(
        game in 0usize..5,
        seed in 0u64..1 << 32,
        actions in proptest::collection::vec(0u8..6, 1..600),
    ) {
        let id = IDS[game];
        let mut env = make(id);
        for (obs, reward, _) in rollout(&mut *env, seed, &actions) {
            prop_assert!(env.observation_space().contains_obs(&[], &obs));
            prop_assert!(reward >= 0.0);
            check_layout(id, &obs);
        }
    }
}

#[test]
fn different_seeds_give_different_episodes() {
    for id in ["MinAtar/Asterix-v1", "MinAtar/Seaquest-v1", "MinAtar/Freeway-v1"] {
        let actions = vec![0u8; 300];
        let a = rollout(&mut *make(id), 1, &actions);
        let b = rollout(&mut *make(id), 2, &actions);
        assert_ne!(a, b, "{id}");
    }
}

#[test]
fn bad_input_gives_typed_errors() {
    for id in IDS {
        let mut env = make(id);
        let mut obs = Obs::zeros(env.observation_space());
        let err = env.step_into(ActionRef::Discrete(0), obs.as_mut()).unwrap_err();
        assert!(matches!(err, EnvError::StepBeforeReset { .. }), "{err}");
        env.reset_into(Some(0), &Kwargs::new(), obs.as_mut()).unwrap();
        let n = env.action_space().shape().len() as i64; // 0 for Discrete
        assert_eq!(n, 0);
        for bad in [-1i64, 6, i64::MAX, i64::MIN] {
            let err = env.step_into(ActionRef::Discrete(bad), obs.as_mut()).unwrap_err();
            assert!(matches!(err, EnvError::InvalidAction { .. }), "{id} {bad}: {err}");
        }
        let err = env.step_into(ActionRef::Continuous(&[0.0]), obs.as_mut()).unwrap_err();
        assert!(matches!(err, EnvError::WrongActionShape { .. }), "{err}");
        let mut short = vec![0u8; 5];
        let err = env
            .step_into(ActionRef::Discrete(0), graft_envs::ObsMut { f32: &mut [], u8: &mut short })
            .unwrap_err();
        assert!(matches!(err, EnvError::LengthMismatch { .. }), "{err}");
        // Still usable after refused steps.
        env.step_into(ActionRef::Discrete(0), obs.as_mut()).unwrap();
    }
    // The minimal set of Breakout has 3 actions: 3 is outside it, and fine under -v0.
    let mut env = make("MinAtar/Breakout-v1");
    env.reset(Some(0), &Kwargs::new()).unwrap();
    assert!(env.step(&Action::Discrete(3)).is_err());
    let mut env = make("MinAtar/Breakout-v0");
    env.reset(Some(0), &Kwargs::new()).unwrap();
    assert!(env.step(&Action::Discrete(5)).is_ok());
}

#[test]
fn step_after_terminal_is_refused() {
    let mut env = make("MinAtar/Breakout-v1");
    env.reset(Some(3), &Kwargs::new()).unwrap();
    let mut done = false;
    for _ in 0..1000 {
        if env.step(&Action::Discrete(0)).unwrap().terminated {
            done = true;
            break;
        }
    }
    assert!(done, "a still paddle loses the ball");
    let err = env.step(&Action::Discrete(0)).unwrap_err();
    assert!(matches!(err, EnvError::StepAfterDone { .. }), "{err}");
    env.reset(None, &Kwargs::new()).unwrap();
    env.step(&Action::Discrete(0)).unwrap();
}

#[test]
fn kwargs_are_checked() {
    let mut k = Kwargs::new();
    k.insert("sticky_action_prob".into(), Value::Float(1.5));
    assert!(matches!(
        minatar::make("MinAtar/Breakout-v1", &k).err(),
        Some(EnvError::BadKwarg { .. })
    ));
    let mut k = Kwargs::new();
    k.insert("no_such_option".into(), Value::Bool(true));
    assert!(matches!(
        minatar::make("MinAtar/Seaquest-v1", &k).err(),
        Some(EnvError::BadKwarg { .. })
    ));
    let mut k = Kwargs::new();
    k.insert("channels_first".into(), Value::Int(1));
    assert!(minatar::make("MinAtar/Seaquest-v1", &k).is_err());
    for id in ["MinAtar/Pong-v1", "MinAtar/Breakout-v2", "Breakout-v1", "MinAtar/"] {
        assert!(matches!(
            minatar::make(id, &Kwargs::new()).err(),
            Some(EnvError::UnknownEnv { .. })
        ));
    }
    let mut k = Kwargs::new();
    k.insert("channels_first".into(), Value::Bool(true));
    let env = minatar::make("MinAtar/Seaquest-v1", &k).unwrap();
    assert_eq!(env.observation_space().shape(), vec![10, 10, 10]);
    let env = minatar::make("MinAtar/Freeway-v1", &k).unwrap();
    assert_eq!(env.observation_space().shape(), vec![7, 10, 10]);
}

#[test]
fn specs_mirror_the_gymnasium_registration() {
    let specs = minatar::specs();
    assert_eq!(specs.len(), 10);
    for spec in &specs {
        assert_eq!(spec.max_episode_steps, None, "{}", spec.id);
        let minimal = spec.kwargs["use_minimal_action_set"].as_bool().unwrap();
        assert_eq!(minimal, spec.id.ends_with("-v1"));
        let env = minatar::make(&spec.id, &spec.kwargs).unwrap();
        assert_eq!(env.id(), spec.id);
    }
    let n = |id: &str| match minatar::make(id, &Kwargs::new()).unwrap().action_space() {
        graft_envs::Space::Discrete { n, .. } => *n,
        _ => 0,
    };
    assert_eq!(
        IDS.map(n),
        [3, 5, 3, 6, 4],
        "minimal action sets: Breakout, Asterix, Freeway, Seaquest, SpaceInvaders"
    );
    assert_eq!(n("MinAtar/Asterix-v0"), 6);
    let regs = minatar::registrations();
    let ids: Vec<&str> = regs.iter().map(|r| r.id).collect();
    let spec_ids: Vec<&str> = specs.iter().map(|s| s.id.as_str()).collect();
    let mut sorted = spec_ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    for r in &regs {
        assert_eq!(r.max_episode_steps, None);
        assert_eq!((r.make)(r.id, &Kwargs::new()).unwrap().id(), r.id);
    }
}

#[test]
fn render_draws_the_palette() {
    let mut env = make("MinAtar/Breakout-v1");
    env.reset(Some(0), &Kwargs::new()).unwrap();
    let img = env.render().unwrap();
    assert_eq!(img.dimensions(), (160, 160));
    // Row 1 holds bricks (channel 3), the top row is empty.
    assert_eq!(img.get_pixel(8, 8).0, [0, 0, 0]);
    assert_eq!(img.get_pixel(8, 16 + 8).0, minatar::palette(4)[3]);
    // The paddle (channel 0) at column 4 of the bottom row.
    assert_eq!(img.get_pixel(4 * 16 + 8, 9 * 16 + 8).0, minatar::palette(4)[0]);
    let mut small = vec![0u8; 10 * 10 * 3];
    env.render_into(10, 10, &mut small).unwrap();
    assert_eq!(&small[(9 * 10 + 4) * 3..(9 * 10 + 5) * 3], &minatar::palette(4)[0]);
    assert!(env.render_into(10, 10, &mut [0u8; 7]).is_err());
    assert!(env.render_into(0, 0, &mut []).is_err());
    let mut k = Kwargs::new();
    k.insert("render_cell_px".into(), Value::Int(1));
    let env = minatar::make("MinAtar/Seaquest-v1", &k).unwrap();
    assert_eq!(env.render().unwrap().dimensions(), (10, 10));
}

#[test]
fn a_buffer_with_a_float_part_is_refused() {
    for id in IDS {
        let mut env = make(id);
        let mut obs = Obs::zeros(env.observation_space());
        let mut floats = [0.0f32; 1];
        let err = env
            .reset_into(
                Some(0),
                &Kwargs::new(),
                graft_envs::ObsMut { f32: &mut floats, u8: &mut obs.u8 },
            )
            .unwrap_err();
        assert!(matches!(err, EnvError::LengthMismatch { .. }), "{id}: {err}");
        env.reset_into(Some(0), &Kwargs::new(), obs.as_mut()).unwrap();
        let err = env
            .step_into(
                ActionRef::Discrete(0),
                graft_envs::ObsMut { f32: &mut floats, u8: &mut obs.u8 },
            )
            .unwrap_err();
        assert!(matches!(err, EnvError::LengthMismatch { .. }), "{id}: {err}");
    }
}

/// With `sticky_action_prob` 1 every step repeats the remembered action, which starts as
/// NOOP, so any actions give the all-NOOP trajectory; with 0 the chosen actions always run.
#[test]
fn sticky_probability_edges() {
    let actions: Vec<u8> = (0..300u32).map(|i| (i * 7 % 5) as u8).collect();
    for id in IDS {
        let with = |p: f64| {
            let mut kw = Kwargs::new();
            kw.insert("sticky_action_prob".into(), Value::Float(p));
            minatar::make(id, &kw).unwrap()
        };
        let always = rollout(with(1.0).as_mut(), 4, &actions);
        let noop = rollout(with(1.0).as_mut(), 4, &vec![0; actions.len()]);
        assert_eq!(always, noop, "{id}: p = 1 must ignore the chosen actions");
        let never = rollout(with(0.0).as_mut(), 4, &actions);
        let never_noop = rollout(with(0.0).as_mut(), 4, &vec![0; actions.len()]);
        assert_ne!(never, never_noop, "{id}: p = 0 must run the chosen actions");
    }
}
