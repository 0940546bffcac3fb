//! Unit tests of the vector env against a small deterministic env whose episodes end after a
//! seeded random number of steps, so autoreset paths are hit often.

use image::RgbImage;

use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, Obs, ObsMut, StepOutcome, Value};
use crate::error::{EnvError, Result};
use crate::rng::EnvRng;
use crate::space::{BoxSpace, DType, Space};
use crate::vector::{AutoresetMode, BatchAction, Execution, VectorConfig, VectorEnv};

/// Observation: f32 `[t, episode_len, last action]`, u8 `[t % 256, 7]`. Episodes last 1..=4
/// steps (drawn at reset); the last step terminates on even lengths and truncates on odd ones.
/// Reward is the action times 0.5. The terminal step reports `{"len": len}`.
struct Counter {
    rng: EnvRng,
    obs_space: Space,
    action_space: Space,
    t: u32,
    len: u32,
    state: EpisodeState,
}

impl Counter {
    fn new(action_space: Space) -> Self {
        let obs_space = Space::dict(vec![
            ("a".into(), Space::box_f32(vec![0.0, 1.0, -10.0], vec![4.0, 4.0, 10.0])),
            ("b".into(), Space::Box(BoxSpace::uniform(0.0, 255.0, vec![2], DType::U8))),
        ]);
        Counter {
            rng: EnvRng::seed_from(0),
            obs_space,
            action_space,
            t: 0,
            len: 0,
            state: EpisodeState::NeedsReset,
        }
    }

    fn discrete() -> Self {
        Counter::new(Space::discrete(3))
    }

    fn write(&self, last: f32, obs: ObsMut<'_>) {
        obs.f32.copy_from_slice(&[self.t as f32, self.len as f32, last]);
        obs.u8.copy_from_slice(&[self.t as u8, 7]);
    }
}

impl Env for Counter {
    fn id(&self) -> &str {
        "Counter-v0"
    }
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.action_space
    }
    fn reset_into(&mut self, seed: Option<u64>, _: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.obs_space, "Counter observation")?;
        if let Some(s) = seed {
            self.rng = EnvRng::seed_from(s);
        }
        self.t = 0;
        self.len = 1 + self.rng.below(4) as u32;
        self.state = EpisodeState::Running;
        self.write(0.0, obs);
        Ok(Info::new())
    }
    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.state.check_step(self.id())?;
        self.action_space.check_action(self.id(), action)?;
        let a = match action {
            ActionRef::Discrete(a) => a as f32,
            ActionRef::Continuous(xs) => xs.iter().sum(),
            ActionRef::MultiDiscrete(xs) => xs.iter().sum::<i64>() as f32,
        };
        self.t += 1;
        self.write(a, obs);
        let end = self.t == self.len;
        let (terminated, truncated) = (end && self.len % 2 == 0, end && self.len % 2 == 1);
        self.state = EpisodeState::after_step(terminated, truncated);
        let mut info = Info::new();
        if end {
            info.insert("len".into(), Value::Int(self.len as i64));
        }
        Ok(StepOutcome { reward: a as f64 * 0.5, terminated, truncated, info })
    }
    fn render(&self) -> Result<RgbImage> {
        Ok(RgbImage::new(1, 1))
    }
}

fn venv(n: usize, config: VectorConfig) -> VectorEnv<Counter> {
    VectorEnv::from_fn(n, |_| Ok(Counter::discrete()), config).unwrap()
}

fn actions(n: usize, t: usize) -> Vec<i64> {
    (0..n).map(|i| ((i * 7 + t * 3) % 3) as i64).collect()
}

#[test]
fn reset_seeds_sub_env_i_with_seed_plus_i() {
    let mut v = venv(5, VectorConfig::default());
    v.reset(Some(100), &Kwargs::new()).unwrap();
    for i in 0..5 {
        let mut e = Counter::discrete();
        let (obs, _) = e.reset(Some(100 + i as u64), &Kwargs::new()).unwrap();
        assert_eq!(v.obs_at(i).unwrap(), (&obs.f32[..], &obs.u8[..]));
    }
    assert_eq!(v.obs_f32().len(), 5 * 3);
    assert_eq!(v.obs_u8().len(), 5 * 2);
}

#[test]
fn next_step_autoreset_matches_manual_loop() {
    let n = 6;
    let mut v = venv(n, VectorConfig::default());
    v.reset(Some(3), &Kwargs::new()).unwrap();
    let mut envs: Vec<Counter> = (0..n).map(|_| Counter::discrete()).collect();
    let mut done = vec![false; n];
    for (i, e) in envs.iter_mut().enumerate() {
        e.reset(Some(3 + i as u64), &Kwargs::new()).unwrap();
    }
    let mut saw_autoreset = false;
    for t in 0..40 {
        let acts = actions(n, t);
        let view = v.step_discrete(&acts).unwrap();
        for i in 0..n {
            let (obs, r, te, tr) = if done[i] {
                saw_autoreset = true;
                let (o, _) = envs[i].reset(None, &Kwargs::new()).unwrap();
                (o, 0.0, false, false)
            } else {
                let s = envs[i].step(&crate::env::Action::Discrete(acts[i])).unwrap();
                (s.obs, s.reward, s.terminated, s.truncated)
            };
            done[i] = te || tr;
            assert_eq!(&view.obs_f32[i * 3..i * 3 + 3], &obs.f32[..], "t={t} i={i}");
            assert_eq!(&view.obs_u8[i * 2..i * 2 + 2], &obs.u8[..]);
            assert_eq!((view.rewards[i], view.terminated[i], view.truncated[i]), (r, te, tr));
        }
    }
    assert!(saw_autoreset);
}

#[test]
fn same_step_reports_final_obs_and_info() {
    let n = 4;
    let mut v = venv(n, VectorConfig::with_autoreset(AutoresetMode::SameStep));
    v.reset(Some(9), &Kwargs::new()).unwrap();
    let mut ended = 0;
    for t in 0..30 {
        v.step_discrete(&actions(n, t)).unwrap();
        for i in 0..n {
            let done = v.terminated()[i] || v.truncated()[i];
            assert_eq!(v.final_mask()[i], done);
            let (f, u) = v.obs_at(i).unwrap();
            // Same-step autoreset: the batch always holds a fresh or running episode.
            assert!(f[0] < f[1] || f[0] == 0.0);
            assert_eq!(u[1], 7);
            if done {
                ended += 1;
                assert_eq!(f[0], 0.0, "reset obs in the batch");
                let (ff, fu) = v.final_obs(i).unwrap();
                assert_eq!(ff[0], ff[1], "final obs is the terminal one");
                assert_eq!(fu[0] as f32, ff[0]);
                assert_eq!(v.final_infos()[i].get("len"), Some(&Value::Int(ff[1] as i64)));
                assert!(v.infos()[i].is_empty());
            } else {
                assert!(v.final_obs(i).is_none());
                assert!(v.final_infos()[i].is_empty());
            }
        }
    }
    assert!(ended > 5);
}

#[test]
fn disabled_mode_needs_reset_mask() {
    let n = 3;
    let mut v = venv(n, VectorConfig::with_autoreset(AutoresetMode::Disabled));
    v.reset(Some(1), &Kwargs::new()).unwrap();
    let acts = vec![1i64; n];
    let mut err = None;
    for _ in 0..5 {
        match v.step_discrete(&acts) {
            Ok(_) => {}
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let Some(EnvError::SubEnv { index, source }) = err else { panic!("expected SubEnv error") };
    assert!(matches!(*source, EnvError::StepAfterDone { .. }));
    let before = v.obs_f32().to_vec();
    // Nothing moved on the refused step.
    assert!(v.step_discrete(&acts).is_err());
    assert_eq!(v.obs_f32(), &before[..]);
    let mut mask = vec![false; n];
    mask[index] = true;
    v.reset_mask(&mask, Some(50), &Kwargs::new()).unwrap();
    let mut e = Counter::discrete();
    let (obs, _) = e.reset(Some(50 + index as u64), &Kwargs::new()).unwrap();
    assert_eq!(v.obs_at(index).unwrap().0, &obs.f32[..]);
    assert!(!v.terminated()[index] && !v.truncated()[index]);
    assert!(v.reset_mask(&[false; 3], None, &Kwargs::new()).is_err());
    assert!(v.reset_mask(&[true; 2], None, &Kwargs::new()).is_err());
}

#[test]
fn threaded_equals_sequential() {
    for mode in [AutoresetMode::NextStep, AutoresetMode::SameStep] {
        for threads in [1, 2, 3, 8] {
            let n = 37;
            let mut a = venv(n, VectorConfig::with_autoreset(mode));
            let mut b = venv(
                n,
                VectorConfig {
                    autoreset: mode,
                    execution: Execution::Threaded { threads },
                    min_envs_per_thread: threads % 3,
                },
            );
            a.reset(Some(77), &Kwargs::new()).unwrap();
            b.reset(Some(77), &Kwargs::new()).unwrap();
            for t in 0..50 {
                let acts = actions(n, t);
                a.step_discrete(&acts).unwrap();
                b.step_discrete(&acts).unwrap();
                assert_eq!(a.obs_f32(), b.obs_f32());
                assert_eq!(a.obs_u8(), b.obs_u8());
                assert_eq!(a.rewards(), b.rewards());
                assert_eq!(a.terminated(), b.terminated());
                assert_eq!(a.truncated(), b.truncated());
                assert_eq!(a.infos(), b.infos());
                assert_eq!(a.final_mask(), b.final_mask());
                assert_eq!(a.final_infos(), b.final_infos());
                for i in 0..n {
                    assert_eq!(a.final_obs(i), b.final_obs(i));
                }
            }
        }
    }
}

#[test]
fn bad_batches_are_errors_not_panics() {
    let mut v = venv(4, VectorConfig::threaded(2));
    assert!(matches!(
        v.step_discrete(&[0; 4]),
        Err(EnvError::SubEnv { index: 0, ref source }) if matches!(**source, EnvError::StepBeforeReset { .. })
    ));
    v.reset(Some(0), &Kwargs::new()).unwrap();
    let before: Obs = Obs { f32: v.obs_f32().to_vec(), u8: v.obs_u8().to_vec() };
    assert!(matches!(v.step_discrete(&[0; 3]), Err(EnvError::LengthMismatch { .. })));
    assert!(matches!(v.step_continuous(&[0.0; 4]), Err(EnvError::WrongActionShape { .. })));
    match v.step_discrete(&[0, 1, 3, 0]) {
        Err(EnvError::SubEnv { index: 2, source }) => {
            assert!(matches!(*source, EnvError::InvalidAction { .. }), "{source}")
        }
        other => panic!("{other:?}"),
    }
    // A refused batch moves no sub-env.
    assert_eq!(v.obs_f32(), &before.f32[..]);
    assert_eq!(v.obs_u8(), &before.u8[..]);
    assert!(v.step_discrete(&[0, 1, 2, 0]).is_ok());
}

#[test]
fn construction_errors() {
    let empty: Result<VectorEnv<Counter>> = VectorEnv::new(vec![], VectorConfig::default());
    assert!(empty.is_err());
    let mixed = VectorEnv::new(
        vec![Counter::discrete(), Counter::new(Space::discrete(4))],
        VectorConfig::default(),
    );
    assert!(matches!(mixed, Err(EnvError::SubEnv { index: 1, .. })));
    let failing: Result<VectorEnv<Counter>> = VectorEnv::from_fn(
        3,
        |i| if i == 2 { Err(EnvError::Other("no".into())) } else { Ok(Counter::discrete()) },
        VectorConfig::default(),
    );
    assert!(failing.is_err());
}

#[test]
fn continuous_batches_are_row_major() {
    let space = Space::box_f32(vec![-1.0; 2], vec![1.0; 2]);
    let mut v = VectorEnv::from_fn(3, |_| Ok(Counter::new(space.clone())), VectorConfig::default())
        .unwrap();
    v.reset(Some(4), &Kwargs::new()).unwrap();
    let acts = [0.5, 0.25, -1.0, 0.0, 1.0, 1.0];
    let view = v.step(BatchAction::Continuous(&acts)).unwrap();
    for i in 0..3 {
        assert_eq!(view.obs_f32[i * 3 + 2], acts[2 * i] + acts[2 * i + 1]);
    }
    assert!(matches!(v.step_continuous(&[0.0; 5]), Err(EnvError::LengthMismatch { .. })));
    let mut bad = acts;
    bad[3] = f32::NAN;
    assert!(matches!(
        v.step_continuous(&bad),
        Err(EnvError::SubEnv { index: 1, ref source }) if matches!(**source, EnvError::NonFiniteAction { .. })
    ));
}
