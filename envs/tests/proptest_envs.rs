//! Property tests over every registered environment: observations stay in the observation
//! space, a seed fixes the trajectory bit for bit, a vector env equals N independent envs
//! (seeded `seed + i`, next-step autoreset done by hand), and a stack of wrappers equals the
//! same transformations applied by hand.

use graft_envs::classic::CartPole;
use graft_envs::registry;
use graft_envs::vector::{BatchAction, Execution, VectorConfig, VectorEnv};
use graft_envs::wrappers::{
    FrameStackObservation, NormalizeObservation, RunningMeanStd, TimeLimit,
};
use graft_envs::{Action, Env, EnvRng, Kwargs, Obs, Space};
use proptest::prelude::*;

/// Every registered id, except that the few hundred Atari ids (feature `atari`), which share
/// one implementation and have their own parity tests, are represented by two: a v5 id with
/// sticky actions and a legacy NoFrameskip id.
fn ids() -> Vec<String> {
    #[cfg(feature = "atari")]
    let atari = graft_envs::atari::is_atari_id;
    #[cfg(not(feature = "atari"))]
    let atari = |_: &str| false;
    let keep = ["ALE/Pong-v5", "BreakoutNoFrameskip-v4"];
    registry::registered()
        .into_iter()
        .map(|s| s.id)
        .filter(|id| !atari(id) || keep.contains(&id.as_str()))
        .collect()
}

fn make(id: &str) -> Box<dyn Env> {
    registry::make(id, &Kwargs::new()).unwrap()
}

/// One step's observable result, with floats as bits so equality is bit-exact.
#[derive(Debug, PartialEq)]
struct Record {
    obs_f32: Vec<u32>,
    obs_u8: Vec<u8>,
    reward: u64,
    terminated: bool,
    truncated: bool,
}

fn record(obs: &Obs, reward: f64, terminated: bool, truncated: bool) -> Record {
    Record {
        obs_f32: obs.f32.iter().map(|x| x.to_bits()).collect(),
        obs_u8: obs.u8.clone(),
        reward: reward.to_bits(),
        terminated,
        truncated,
    }
}

/// `steps` steps of random actions from `action_seed`, resetting when an episode ends.
fn rollout(env: &mut dyn Env, seed: u64, action_seed: u64, steps: usize) -> Vec<Record> {
    let mut rng = EnvRng::seed_from(action_seed);
    let (obs, _) = env.reset(Some(seed), &Kwargs::new()).unwrap();
    let mut out = vec![record(&obs, 0.0, false, false)];
    for _ in 0..steps {
        let a = env.action_space().sample_action(&mut rng).unwrap();
        let s = env.step(&a).unwrap();
        out.push(record(&s.obs, s.reward, s.terminated, s.truncated));
        if s.terminated || s.truncated {
            let (obs, _) = env.reset(None, &Kwargs::new()).unwrap();
            out.push(record(&obs, 0.0, false, false));
        }
    }
    out
}

fn batch(actions: &[Action]) -> (Vec<i64>, Vec<f32>) {
    let (mut ints, mut floats) = (Vec::new(), Vec::new());
    for a in actions {
        match a {
            Action::Discrete(x) => ints.push(*x),
            Action::MultiDiscrete(xs) => ints.extend(xs),
            Action::Continuous(xs) => floats.extend(xs),
        }
    }
    (ints, floats)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn observations_stay_in_the_observation_space(seed in any::<u64>(), action_seed in any::<u64>()) {
        for id in ids() {
            let mut env = make(&id);
            let space = env.observation_space().clone();
            let mut rng = EnvRng::seed_from(action_seed);
            let (obs, _) = env.reset(Some(seed), &Kwargs::new()).unwrap();
            prop_assert!(space.contains_obs(&obs.f32, &obs.u8), "{id} reset: {obs:?}");
            for t in 0..300 {
                let a = env.action_space().sample_action(&mut rng).unwrap();
                let s = env.step(&a).unwrap();
                prop_assert!(space.contains_obs(&s.obs.f32, &s.obs.u8), "{id} t={t}: {:?}", s.obs);
                prop_assert!(s.reward.is_finite());
                if s.terminated || s.truncated {
                    let (obs, _) = env.reset(None, &Kwargs::new()).unwrap();
                    prop_assert!(space.contains_obs(&obs.f32, &obs.u8), "{id} reset: {obs:?}");
                }
            }
        }
    }

    #[test]
    fn same_seed_gives_bit_identical_trajectories(seed in any::<u64>(), action_seed in any::<u64>()) {
        for id in ids() {
            let a = rollout(make(&id).as_mut(), seed, action_seed, 200);
            let b = rollout(make(&id).as_mut(), seed, action_seed, 200);
            prop_assert_eq!(a, b, "{}", id);
        }
    }

    #[test]
    fn vector_env_equals_independent_envs(
        seed in any::<u64>(),
        action_seed in any::<u64>(),
        n in 1usize..6,
        threads in 0usize..4,
        which in 0usize..64,
    ) {
        let all = ids();
        let id = &all[which % all.len()];
        let execution =
            if threads == 0 { Execution::Sequential } else { Execution::Threaded { threads } };
        let config = VectorConfig { execution, ..Default::default() };
        let mut venv = VectorEnv::make(id, n, &Kwargs::new(), config).unwrap();
        let mut envs: Vec<Box<dyn Env>> = (0..n).map(|_| make(id)).collect();
        venv.reset(Some(seed), &Kwargs::new()).unwrap();
        let (f, u) = (venv.f32_len(), venv.u8_len());
        for (i, e) in envs.iter_mut().enumerate() {
            let (obs, _) = e.reset(Some(seed.wrapping_add(i as u64)), &Kwargs::new()).unwrap();
            prop_assert_eq!(venv.obs_at(i).unwrap(), (&obs.f32[..], &obs.u8[..]));
        }
        let mut done = vec![false; n];
        let mut rng = EnvRng::seed_from(action_seed);
        for t in 0..150 {
            let actions: Vec<Action> =
                envs.iter().map(|e| e.action_space().sample_action(&mut rng).unwrap()).collect();
            let (ints, floats) = batch(&actions);
            let b = match venv.single_action_space() {
                Space::Discrete { .. } => BatchAction::Discrete(&ints),
                Space::MultiDiscrete { .. } => BatchAction::MultiDiscrete(&ints),
                _ => BatchAction::Continuous(&floats),
            };
            let view = venv.step(b).unwrap();
            for i in 0..n {
                // Gymnasium's next-step autoreset, by hand.
                let expected = if done[i] {
                    let (obs, _) = envs[i].reset(None, &Kwargs::new()).unwrap();
                    record(&obs, 0.0, false, false)
                } else {
                    let s = envs[i].step(&actions[i]).unwrap();
                    record(&s.obs, s.reward, s.terminated, s.truncated)
                };
                done[i] = expected.terminated || expected.truncated;
                let got = Record {
                    obs_f32: view.obs_f32[i * f..(i + 1) * f].iter().map(|x| x.to_bits()).collect(),
                    obs_u8: view.obs_u8[i * u..(i + 1) * u].to_vec(),
                    reward: view.rewards[i].to_bits(),
                    terminated: view.terminated[i],
                    truncated: view.truncated[i],
                };
                prop_assert_eq!(got, expected, "{} t={} i={}", id, t, i);
            }
        }
    }

    #[test]
    fn wrapper_stack_equals_wrappers_by_hand(
        seed in any::<u64>(),
        action_seed in any::<u64>(),
        limit in 1u64..40,
        stack in 1usize..5,
    ) {
        let wrapped = TimeLimit::new(CartPole::default(), limit).unwrap();
        let wrapped = NormalizeObservation::new(wrapped).unwrap();
        let mut env = FrameStackObservation::new(wrapped, stack).unwrap();
        let space = env.observation_space().clone();
        prop_assert_eq!(space.f32_len(), 4 * stack);

        let mut raw = CartPole::default();
        let mut rms = RunningMeanStd::new(4);
        let normalize = |rms: &mut RunningMeanStd, x: &[f32]| -> Vec<f32> {
            rms.update(x);
            x.iter()
                .zip(&rms.mean)
                .zip(&rms.var)
                .map(|((&x, &m), &v)| (x - m) / (v + 1e-8f32).sqrt())
                .collect()
        };
        let mut rng = EnvRng::seed_from(action_seed);
        let (obs, _) = env.reset(Some(seed), &Kwargs::new()).unwrap();
        let (first, _) = raw.reset(Some(seed), &Kwargs::new()).unwrap();
        let first = normalize(&mut rms, &first.f32);
        // Padding "reset": the stack starts as copies of the first observation.
        let mut frames: Vec<Vec<f32>> = vec![first; stack];
        prop_assert_eq!(&obs.f32, &frames.concat());
        prop_assert!(space.contains_obs(&obs.f32, &obs.u8));
        let mut elapsed = 0;
        for _ in 0..60 {
            let a = env.action_space().sample_action(&mut rng).unwrap();
            let s = env.step(&a).unwrap();
            let r = raw.step(&a).unwrap();
            elapsed += 1;
            frames.remove(0);
            frames.push(normalize(&mut rms, &r.obs.f32));
            let truncated = elapsed >= limit;
            prop_assert_eq!(&s.obs.f32, &frames.concat());
            prop_assert!(space.contains_obs(&s.obs.f32, &s.obs.u8));
            prop_assert_eq!((s.reward, s.terminated, s.truncated), (r.reward, r.terminated, truncated));
            if s.terminated || s.truncated {
                let (obs, _) = env.reset(None, &Kwargs::new()).unwrap();
                let (o, _) = raw.reset(None, &Kwargs::new()).unwrap();
                let o = normalize(&mut rms, &o.f32);
                frames = vec![o; stack];
                elapsed = 0;
                prop_assert_eq!(&obs.f32, &frames.concat());
            }
        }
    }
}
