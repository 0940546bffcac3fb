//! [`ToGymnasiumRs`]: a Graft env as a gymnasium-rs env; Graft errors become truncated
//! transitions with `info["error"]` (see the module docs of [`super`]).

use gymnasium_rs::core as gym;
use ndarray::{Array1, Array3};
use serde_json::Value as Json;

use super::action::GymAction;
use super::space::{action_space_to_gym, obs_space_to_gym};
use super::value::{info_to_gym, options_from_gym};
use crate::env::{Env, Obs};
use crate::error::{EnvError, Result};
use crate::space::Space;

/// A Graft env as a gymnasium-rs env with actions of type `A` (see the module docs).
#[derive(Debug)]
pub struct ToGymnasiumRs<E, A = i32> {
    env: E,
    obs: Obs,
    obs_space: gym::Space,
    action_space: gym::Space,
    /// The env's own action space, to map actions without borrowing `env`.
    graft_action_space: Space,
    last_error: Option<EnvError>,
    _action: std::marker::PhantomData<fn(A)>,
}

impl<E: Env, A: GymAction> ToGymnasiumRs<E, A> {
    /// Wrap `env`; fails when its spaces have no gymnasium-rs form or its action space does
    /// not suit `A` (`i32` for `Discrete`, `Array1<f32>` for `Box`).
    pub fn new(env: E) -> Result<Self> {
        let action_space = action_space_to_gym(env.action_space(), env.id())?;
        if !A::fits(env.action_space()) {
            return Err(EnvError::Space {
                space: env.action_space().to_string(),
                reason: format!(
                    "{}: gymnasium-rs action type {} does not suit this action space",
                    env.id(),
                    std::any::type_name::<A>()
                ),
            });
        }
        Ok(ToGymnasiumRs {
            obs_space: obs_space_to_gym(env.observation_space(), env.id())?,
            obs: Obs::zeros(env.observation_space()),
            action_space,
            graft_action_space: env.action_space().clone(),
            last_error: None,
            _action: std::marker::PhantomData,
            env,
        })
    }

    /// The last error `reset` or `step` turned into a transition, if not yet taken.
    pub fn last_error(&self) -> Option<&EnvError> {
        self.last_error.as_ref()
    }

    /// Take the last error (leaving none).
    pub fn take_error(&mut self) -> Option<EnvError> {
        self.last_error.take()
    }

    /// The wrapped Graft env.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped Graft env, mutably.
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// Unwrap.
    pub fn into_inner(self) -> E {
        self.env
    }

    fn error_info(&mut self, e: EnvError) -> gym::Info {
        let mut info = gym::Info::new();
        info.insert("error".into(), Json::String(e.to_string()));
        self.last_error = Some(e);
        info
    }
}

impl<E: Env, A: GymAction> gym::Env<Array1<f32>, A> for ToGymnasiumRs<E, A> {
    fn observation_space(&self) -> gym::Space {
        self.obs_space.clone()
    }

    fn action_space(&self) -> gym::Space {
        self.action_space.clone()
    }

    fn reset(&mut self, seed: Option<i32>, options: gym::Options) -> (Array1<f32>, gym::Info) {
        let seed = seed.map(|s| s as u32 as u64);
        let result = options_from_gym(&options, self.env.id())
            .and_then(|kw| self.env.reset_into(seed, &kw, self.obs.as_mut()));
        match result {
            Ok(info) => (Array1::from(self.obs.f32.clone()), info_to_gym(&info)),
            Err(e) => {
                self.obs.f32.fill(0.0);
                (Array1::from(self.obs.f32.clone()), self.error_info(e))
            }
        }
    }

    fn step(&mut self, action: A) -> (Array1<f32>, gym::Reward, bool, bool, gym::Info) {
        let (env, obs, space) = (&mut self.env, &mut self.obs, &self.graft_action_space);
        match action.with_graft(space, |a| env.step_into(a, obs.as_mut())) {
            Ok(out) => (
                Array1::from(self.obs.f32.clone()),
                out.reward as f32,
                out.terminated,
                out.truncated,
                info_to_gym(&out.info),
            ),
            Err(e) => (Array1::from(self.obs.f32.clone()), 0.0, false, true, self.error_info(e)),
        }
    }

    fn render(&self) -> Option<Array3<u8>> {
        let frame = self.env.render().ok()?;
        let (w, h) = frame.dimensions();
        Array3::from_shape_vec((h as usize, w as usize, 3), frame.into_raw()).ok()
    }

    fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Kwargs;
    use gymnasium_rs::core::Env as GymEnv;
    use gymnasium_rs::wrappers::timelimit::TimeLimitWrapper;

    fn cartpole() -> Box<dyn Env> {
        crate::registry::make("CartPole-v1", &Kwargs::new()).expect("CartPole-v1")
    }

    #[test]
    fn graft_env_runs_under_gymnasium_rs_wrappers() {
        let mut adapter = ToGymnasiumRs::<_, i32>::new(cartpole()).unwrap();
        assert_eq!(GymEnv::action_space(&adapter), gym::Space::Discrete(2));
        match GymEnv::observation_space(&adapter) {
            gym::Space::Box { low, .. } => assert_eq!(low.len(), 4),
            other => panic!("{other:?}"),
        }
        let mut env = TimeLimitWrapper::new(&mut adapter, 5);
        let (obs, _) = env.reset_seed(7);
        assert_eq!(obs.len(), 4);
        let mut steps = 0;
        loop {
            let (_, reward, terminated, truncated, info) = env.step(1);
            steps += 1;
            assert_eq!(reward, 1.0);
            assert!(!info.contains_key("error"));
            if terminated || truncated {
                break;
            }
        }
        assert!(steps <= 5);
        let frame = GymEnv::render(&adapter).expect("a frame");
        assert_eq!(frame.dim().2, 3);
    }

    #[test]
    fn graft_errors_become_truncations_with_the_error_kept() {
        let mut env = ToGymnasiumRs::<_, i32>::new(cartpole()).unwrap();
        let (_, _, terminated, truncated, info) = env.step(0); // before reset
        assert!(!terminated && truncated);
        assert!(info["error"].as_str().unwrap_or("").contains("before reset"));
        assert!(matches!(env.take_error(), Some(EnvError::StepBeforeReset { .. })));
        env.reset_seed(0);
        let (_, reward, _, truncated, _) = env.step(7); // not in Discrete(2)
        assert!(truncated && reward == 0.0);
        assert!(matches!(env.last_error(), Some(EnvError::InvalidAction { .. })));
        // Pixel observations and the wrong action type are refused at construction.
        let pixels = crate::wrappers::AddRenderObservation::new(cartpole(), Some((8, 8))).unwrap();
        assert!(ToGymnasiumRs::<_, i32>::new(pixels).is_err());
        assert!(ToGymnasiumRs::<_, Array1<f32>>::new(cartpole()).is_err());
    }
}
