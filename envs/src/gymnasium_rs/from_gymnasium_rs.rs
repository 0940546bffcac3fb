//! [`FromGymnasiumRs`]: a gymnasium-rs env as a Graft [`Env`], with the action checks,
//! episode-state checks and panic catching Graft's contract requires.

use std::panic::{catch_unwind, AssertUnwindSafe};

use gymnasium_rs::core as gym;
use image::RgbImage;
use ndarray::Array1;

use super::action::GymAction;
use super::space::space_from_gym;
use super::value::{info_from_gym, value_to_json};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::Space;

/// A gymnasium-rs env (observations `Array1<f32>`, actions `A`) as a Graft env.
pub struct FromGymnasiumRs<G, A = i32> {
    env: G,
    id: String,
    obs_space: Space,
    action_space: Space,
    state: EpisodeState,
    _action: std::marker::PhantomData<fn(A)>,
}

impl<G, A> std::fmt::Debug for FromGymnasiumRs<G, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FromGymnasiumRs")
            .field("id", &self.id)
            .field("obs_space", &self.obs_space)
            .field("action_space", &self.action_space)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

impl<G, A> FromGymnasiumRs<G, A>
where
    G: gym::Env<Array1<f32>, A> + Send,
    A: GymAction,
{
    /// Wrap `env`, naming it `id` in errors; fails when its spaces are malformed.
    pub fn new(id: &str, env: G) -> Result<Self> {
        let obs_space = space_from_gym(&env.observation_space(), id)?;
        let action_space = space_from_gym(&env.action_space(), id)?;
        if !A::fits(&action_space) {
            return Err(EnvError::Space {
                space: action_space.to_string(),
                reason: format!(
                    "{id}: action type {} does not suit this action space",
                    std::any::type_name::<A>()
                ),
            });
        }
        Ok(FromGymnasiumRs {
            env,
            id: id.to_string(),
            obs_space,
            action_space,
            state: EpisodeState::NeedsReset,
            _action: std::marker::PhantomData,
        })
    }

    /// The wrapped gymnasium-rs env.
    pub fn inner(&self) -> &G {
        &self.env
    }

    /// Call the gymnasium-rs env's `close`.
    pub fn close(&mut self) -> Result<()> {
        let env = &mut self.env;
        catch_unwind(AssertUnwindSafe(|| env.close())).map_err(|p| self.panicked("close", &*p))
    }

    /// Unwrap.
    pub fn into_inner(self) -> G {
        self.env
    }

    fn panicked(&self, what: &str, payload: &(dyn std::any::Any + Send)) -> EnvError {
        EnvError::Other(format!(
            "{}: the gymnasium-rs env panicked in {what}: {}",
            self.id,
            panic_message(payload)
        ))
    }

    fn write_obs(&self, x: &Array1<f32>, obs: ObsMut<'_>) -> Result<()> {
        if x.len() != obs.f32.len() {
            return Err(EnvError::LengthMismatch {
                what: format!("{}: gymnasium-rs observation", self.id),
                expected: obs.f32.len(),
                got: x.len(),
            });
        }
        for (o, &v) in obs.f32.iter_mut().zip(x.iter()) {
            *o = v;
        }
        Ok(())
    }
}

impl<G, A> Env for FromGymnasiumRs<G, A>
where
    G: gym::Env<Array1<f32>, A> + Send,
    A: GymAction,
{
    fn id(&self) -> &str {
        &self.id
    }

    fn observation_space(&self) -> &Space {
        &self.obs_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.obs_space, &self.id)?;
        let seed = match seed {
            None => None,
            Some(s) => Some(u32::try_from(s).map_err(|_| EnvError::BadKwarg {
                env: self.id.clone(),
                key: "seed".into(),
                reason: format!("gymnasium-rs seeds are 32-bit; {s} does not fit"),
            })? as i32),
        };
        let options: gym::Options =
            options.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect();
        let env = &mut self.env;
        self.state = EpisodeState::NeedsReset;
        let (x, info) = catch_unwind(AssertUnwindSafe(|| env.reset(seed, options)))
            .map_err(|p| self.panicked("reset", &*p))?;
        self.write_obs(&x, obs)?;
        self.state = EpisodeState::Running;
        Ok(info_from_gym(&info))
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.state.check_step(&self.id)?;
        obs.check(&self.obs_space, &self.id)?;
        self.action_space.check_action(&self.id, action)?;
        let a = A::from_graft(action).ok_or_else(|| EnvError::WrongActionShape {
            env: self.id.clone(),
            expected: std::any::type_name::<A>().into(),
            got: action.describe(),
        })?;
        let env = &mut self.env;
        let stepped = catch_unwind(AssertUnwindSafe(|| env.step(a)));
        let (x, reward, terminated, truncated, info) = match stepped {
            Ok(t) => t,
            Err(p) => {
                self.state = EpisodeState::NeedsReset;
                return Err(self.panicked("step", &*p));
            }
        };
        self.write_obs(&x, obs)?;
        self.state = EpisodeState::after_step(terminated, truncated);
        Ok(StepOutcome { reward: reward as f64, terminated, truncated, info: info_from_gym(&info) })
    }

    fn render(&self) -> Result<RgbImage> {
        let env = &self.env;
        let frame = catch_unwind(AssertUnwindSafe(|| env.render()))
            .map_err(|p| self.panicked("render", &*p))?;
        let render_err = |reason: String| EnvError::Render { env: self.id.clone(), reason };
        let frame =
            frame.ok_or_else(|| render_err("the gymnasium-rs env returned no frame".into()))?;
        let (h, w, c) = frame.dim();
        if c != 3 {
            return Err(render_err(format!("expected an [H, W, 3] frame, got [{h}, {w}, {c}]")));
        }
        let raw: Vec<u8> = frame.iter().copied().collect();
        RgbImage::from_raw(w as u32, h as u32, raw)
            .ok_or_else(|| render_err("frame size does not match its data".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Value};
    use crate::gymnasium_rs::ToGymnasiumRs;
    use gymnasium_rs::envs::cartpole::CartPole as GymCartPole;

    fn cartpole() -> Box<dyn Env> {
        crate::registry::make("CartPole-v1", &Kwargs::new()).expect("CartPole-v1")
    }

    #[test]
    fn gymnasium_rs_env_runs_as_a_graft_env() {
        let mut env =
            FromGymnasiumRs::<_, i32>::new("gymnasium-rs/CartPole", GymCartPole::new()).unwrap();
        assert_eq!(env.action_space(), &Space::discrete(2));
        assert_eq!(env.observation_space().f32_len(), 4);
        assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepBeforeReset { .. })));
        let (obs, _) = env.reset(Some(3), &Kwargs::new()).unwrap();
        assert!(obs.f32.iter().all(|x| x.abs() <= 0.05));
        // Same seed, same start.
        let (again, _) = env.reset(Some(3), &Kwargs::new()).unwrap();
        assert_eq!(obs, again);
        assert!(matches!(env.step(&Action::Discrete(2)), Err(EnvError::InvalidAction { .. })));
        let mut n = 0;
        loop {
            let s = env.step(&Action::Discrete(1)).unwrap();
            n += 1;
            if s.terminated || s.truncated {
                break;
            }
            assert!(n < 500, "CartPole pushed one way must fall");
        }
        assert!(matches!(env.step(&Action::Discrete(1)), Err(EnvError::StepAfterDone { .. })));
        // Its render is `unimplemented!()`: a panic there becomes an error.
        assert!(env.render().is_err());
        // Seeds beyond 32 bits have no gymnasium-rs form.
        assert!(env.reset(Some(1 << 40), &Kwargs::new()).is_err());
        // Reset options cross as JSON.
        let mut opts = Kwargs::new();
        opts.insert("low".into(), Value::Float(0.2));
        opts.insert("high".into(), Value::Float(0.3));
        let (obs, _) = env.reset(Some(1), &opts).unwrap();
        assert!(obs.f32.iter().all(|x| (0.2..0.3).contains(x)), "{obs:?}");
    }

    #[test]
    fn round_trip_through_both_adapters_keeps_the_trajectory() {
        let there = ToGymnasiumRs::<_, i32>::new(cartpole()).unwrap();
        let mut back = FromGymnasiumRs::<_, i32>::new("round-trip", there).unwrap();
        let mut direct = cartpole();
        let a = back.reset(Some(11), &Kwargs::new()).unwrap().0;
        let b = direct.reset(Some(11), &Kwargs::new()).unwrap().0;
        assert_eq!(a, b);
        for t in 0..30 {
            let act = Action::Discrete(t % 2);
            let (x, y) = (back.step(&act).unwrap(), direct.step(&act).unwrap());
            assert_eq!((x.obs, x.reward, x.terminated), (y.obs, y.reward, y.terminated));
            if y.terminated || y.truncated {
                break;
            }
        }
        // Graft wrappers compose over the adapter.
        let mut stacked = crate::wrappers::FrameStackObservation::new(back, 2).unwrap();
        assert_eq!(stacked.reset(Some(0), &Kwargs::new()).unwrap().0.f32.len(), 8);
    }
}
