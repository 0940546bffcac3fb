//! MuJoCo vector envs (issue #21, item 5): `make_vec("HalfCheetah-v5" | "Hopper-v5", N)` runs
//! its sub-envs on a thread pool, and its batches are bit for bit those of N single envs from
//! `make` stepped alone with the same seeds (`seed + i`) and actions, in each of Gymnasium's
//! autoreset modes (next-step, same-step, disabled). Bad batches are refused before any
//! sub-env moves. Hopper falls within tens of random steps and HalfCheetah is given a short
//! `TimeLimit`, so every run crosses many episode ends (terminations and truncations).

use graft_envs::mujoco::{HalfCheetah, Hopper};
use graft_envs::registry::{make_vec, VecEnv};
use graft_envs::vector::{AutoresetMode, Execution, VectorConfig, VectorEnv};
use graft_envs::{make, Action, Env, EnvError, EnvRng, Info, Kwargs, Space, Value};

const SEED: u64 = 1234;

fn kwargs(pairs: &[(&str, Value)]) -> Kwargs {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// `make_vec` with the mode, threaded as `make_vec` chooses for MuJoCo; the generic env.
fn vector(id: &str, n: usize, kw: &Kwargs, autoreset: AutoresetMode) -> VectorEnv {
    let config = VectorConfig {
        autoreset,
        execution: Execution::Threaded { threads: 3 },
        ..Default::default()
    };
    match make_vec(id, n, kw, config).unwrap() {
        VecEnv::Sync(v) => v,
        other => panic!("{id} should get the generic vector env, got {other:?}"),
    }
}

/// Random actions in ±1.5 (beyond the box on purpose: MuJoCo clamps, the cost does not).
fn random_actions(rng: &mut EnvRng, n: usize, dim: usize) -> Vec<f32> {
    (0..n * dim).map(|_| rng.uniform(-1.5, 1.5) as f32).collect()
}

fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// One sub-env stepped alone with Gymnasium's vector semantics for `mode`; what it should
/// put in the batch after each step.
struct Single {
    env: Box<dyn Env>,
    done: bool,
}

struct Expected {
    obs: Vec<f32>,
    reward: f64,
    terminated: bool,
    truncated: bool,
    info: Info,
    /// Same-step mode: the final observation and info of an episode that ended here.
    final_obs: Option<(Vec<f32>, Info)>,
}

impl Single {
    fn step(&mut self, action: &[f32], mode: AutoresetMode) -> Expected {
        if mode == AutoresetMode::NextStep && self.done {
            let (obs, info) = self.env.reset(None, &Kwargs::new()).unwrap();
            self.done = false;
            return Expected {
                obs: obs.f32,
                reward: 0.0,
                terminated: false,
                truncated: false,
                info,
                final_obs: None,
            };
        }
        let step = self.env.step(&Action::Continuous(action.to_vec())).unwrap();
        let done = step.terminated || step.truncated;
        if mode == AutoresetMode::SameStep && done {
            let (obs, info) = self.env.reset(None, &Kwargs::new()).unwrap();
            return Expected {
                obs: obs.f32,
                reward: step.reward,
                terminated: step.terminated,
                truncated: step.truncated,
                info,
                final_obs: Some((step.obs.f32, step.info)),
            };
        }
        self.done = done;
        Expected {
            obs: step.obs.f32,
            reward: step.reward,
            terminated: step.terminated,
            truncated: step.truncated,
            info: step.info,
            final_obs: None,
        }
    }
}

/// Step the vector env and N single envs `steps` times; return how many episodes ended.
fn compare(id: &str, n: usize, kw: &Kwargs, mode: AutoresetMode, steps: usize) -> usize {
    let mut venv = vector(id, n, kw, mode);
    assert!(matches!(venv.config().execution, Execution::Threaded { .. }));
    let mut singles: Vec<Single> =
        (0..n).map(|_| Single { env: make(id, kw).unwrap(), done: false }).collect();
    let Space::Box(action_box) = venv.single_action_space() else { panic!("{id}: Box actions") };
    let dim = action_box.len();
    let f = venv.f32_len();

    let batch = venv.reset(Some(SEED), &Kwargs::new()).unwrap();
    for (i, single) in singles.iter_mut().enumerate() {
        let (obs, info) = single.env.reset(Some(SEED + i as u64), &Kwargs::new()).unwrap();
        assert_eq!(bits(&batch.obs_f32[i * f..(i + 1) * f]), bits(&obs.f32), "reset, sub-env {i}");
        assert_eq!(batch.infos[i], info, "reset info, sub-env {i}");
    }

    let mut rng = EnvRng::seed_from(7);
    let mut ended = 0;
    for t in 0..steps {
        let actions = random_actions(&mut rng, n, dim);
        let expected: Vec<Expected> = singles
            .iter_mut()
            .enumerate()
            .map(|(i, s)| s.step(&actions[i * dim..(i + 1) * dim], mode))
            .collect();
        venv.step_continuous(&actions).unwrap();
        for (i, e) in expected.iter().enumerate() {
            let at = format!("{id} {mode:?}, step {t}, sub-env {i}");
            assert_eq!(bits(&venv.obs_f32()[i * f..(i + 1) * f]), bits(&e.obs), "obs, {at}");
            assert_eq!(venv.rewards()[i].to_bits(), e.reward.to_bits(), "reward, {at}");
            assert_eq!(venv.terminated()[i], e.terminated, "terminated, {at}");
            assert_eq!(venv.truncated()[i], e.truncated, "truncated, {at}");
            assert_eq!(venv.infos()[i], e.info, "info, {at}");
            match &e.final_obs {
                Some((obs, info)) => {
                    let (final_f32, _) = venv.final_obs(i).expect("final obs of an ended episode");
                    assert_eq!(bits(final_f32), bits(obs), "final obs, {at}");
                    assert_eq!(&venv.final_infos()[i], info, "final info, {at}");
                }
                None => assert!(venv.final_obs(i).is_none(), "no final obs, {at}"),
            }
        }
        let done: Vec<bool> = (0..n).map(|i| venv.terminated()[i] || venv.truncated()[i]).collect();
        ended += done.iter().filter(|&&d| d).count();
        if mode == AutoresetMode::Disabled && done.iter().any(|&d| d) {
            // The caller restarts finished sub-envs; `seed + i` for each, as Gymnasium's
            // `reset(seed, options={"reset_mask": mask})`.
            let seed = SEED + 1000 * (t as u64 + 1);
            venv.reset_mask(&done, Some(seed), &Kwargs::new()).unwrap();
            for (i, single) in singles.iter_mut().enumerate().filter(|(i, _)| done[*i]) {
                let (obs, info) = single.env.reset(Some(seed + i as u64), &Kwargs::new()).unwrap();
                let at = format!("{id} reset_mask after step {t}, sub-env {i}");
                assert_eq!(bits(&venv.obs_f32()[i * f..(i + 1) * f]), bits(&obs.f32), "{at}");
                assert_eq!(venv.infos()[i], info, "{at}");
            }
        }
    }
    ended
}

const MODES: [AutoresetMode; 3] =
    [AutoresetMode::NextStep, AutoresetMode::SameStep, AutoresetMode::Disabled];

#[test]
fn hopper_batches_equal_single_envs_in_every_autoreset_mode() {
    for mode in MODES {
        let ended = compare("Hopper-v5", 5, &Kwargs::new(), mode, 300);
        assert!(ended >= 20, "{mode:?}: only {ended} Hopper episodes ended");
    }
}

#[test]
fn half_cheetah_batches_equal_single_envs_in_every_autoreset_mode() {
    let kw = kwargs(&[("max_episode_steps", Value::Int(37))]);
    for mode in MODES {
        let ended = compare("HalfCheetah-v5", 4, &kw, mode, 120);
        assert_eq!(
            ended,
            4 * 3,
            "{mode:?}: every sub-env truncates at steps 37, 74 (75), 111 (113)"
        );
    }
}

#[test]
fn make_vec_threads_mujoco_and_keeps_cheap_envs_sequential() {
    let v = make_vec("HalfCheetah-v5", 3, &Kwargs::new(), VectorConfig::default()).unwrap();
    let VecEnv::Sync(v) = v else { panic!("HalfCheetah-v5 gets the generic vector env") };
    assert_eq!(v.config().execution, Execution::Threaded { threads: 0 });
    let v = make_vec("MountainCar-v0", 3, &Kwargs::new(), VectorConfig::default()).unwrap();
    let VecEnv::Sync(v) = v else { panic!("MountainCar-v0 gets the generic vector env") };
    assert_eq!(v.config().execution, Execution::Sequential);
    let v = make_vec("CartPole-v1", 3, &Kwargs::new(), VectorConfig::default()).unwrap();
    assert!(matches!(v, VecEnv::CartPole(_)));
    // An explicit choice is kept.
    let v = make_vec("Hopper-v5", 2, &Kwargs::new(), VectorConfig::sequential()).unwrap();
    let VecEnv::Sync(v) = v else { panic!("Hopper-v5 gets the generic vector env") };
    assert_eq!(v.config().execution, Execution::Sequential);
}

#[test]
fn copies_of_a_bundled_model_share_one_compiled_model() {
    let a = HalfCheetah::from_kwargs(&Kwargs::new()).unwrap();
    let b = HalfCheetah::from_kwargs(&Kwargs::new()).unwrap();
    let c = Hopper::from_kwargs(&Kwargs::new()).unwrap();
    assert!(std::sync::Arc::ptr_eq(a.sim().model_arc(), b.sim().model_arc()));
    assert!(!std::sync::Arc::ptr_eq(a.sim().model_arc(), c.sim().model_arc()));
    // Sharing the model shares nothing else: each env has its own state.
    let (mut a, mut b) = (a, b);
    a.reset(Some(0), &Kwargs::new()).unwrap();
    b.reset(Some(1), &Kwargs::new()).unwrap();
    assert_ne!(a.sim().qpos(), b.sim().qpos());
}

#[test]
fn bad_batches_are_refused_before_any_sub_env_moves() {
    let mut venv = vector("Hopper-v5", 4, &Kwargs::new(), AutoresetMode::NextStep);
    match venv.step_continuous(&[0.0; 12]) {
        Err(EnvError::SubEnv { index: 0, source }) => {
            assert!(matches!(*source, EnvError::StepBeforeReset { .. }), "{source}")
        }
        other => panic!("stepping before reset: {other:?}"),
    }
    venv.reset(Some(SEED), &Kwargs::new()).unwrap();
    // The reference: the same vector env, never given a bad batch.
    let mut reference = vector("Hopper-v5", 4, &Kwargs::new(), AutoresetMode::NextStep);
    reference.reset(Some(SEED), &Kwargs::new()).unwrap();
    let mut rng = EnvRng::seed_from(3);
    for t in 0..40 {
        let good = random_actions(&mut rng, 4, 3);
        let mut nan = good.clone();
        nan[2 * 3 + 1] = f32::NAN;
        let mut inf = good.clone();
        inf[3 * 3] = f32::INFINITY;
        let before = bits(venv.obs_f32());
        match venv.step_continuous(&nan) {
            Err(EnvError::SubEnv { index: 2, source }) => {
                assert!(matches!(*source, EnvError::NonFiniteAction { .. }), "{source}")
            }
            other => panic!("NaN action for sub-env 2: {other:?}"),
        }
        match venv.step_continuous(&inf) {
            Err(EnvError::SubEnv { index: 3, source }) => {
                assert!(matches!(*source, EnvError::NonFiniteAction { .. }), "{source}")
            }
            other => panic!("infinite action for sub-env 3: {other:?}"),
        }
        assert!(matches!(venv.step_continuous(&good[..11]), Err(EnvError::LengthMismatch { .. })));
        assert!(matches!(
            venv.step(graft_envs::BatchAction::Discrete(&[0; 4])),
            Err(EnvError::WrongActionShape { .. })
        ));
        assert_eq!(bits(venv.obs_f32()), before, "a refused batch moved a sub-env at step {t}");
        venv.step_continuous(&good).unwrap();
        reference.step_continuous(&good).unwrap();
        assert_eq!(bits(venv.obs_f32()), bits(reference.obs_f32()), "step {t}");
        assert_eq!(venv.rewards(), reference.rewards(), "step {t}");
        assert_eq!(venv.terminated(), reference.terminated(), "step {t}");
    }
}
