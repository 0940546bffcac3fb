//! What the Control Suite refuses (issue #22, item 6), and its episode boundaries through the
//! registry.

use graft_envs::dmc::{DmcEnv, TASKS};
use graft_envs::registry::make_vec;
use graft_envs::vector::VectorConfig;
use graft_envs::{make, Action, Env, EnvError, Kwargs, MujocoError, Value};

fn kwargs(pairs: &[(&str, Value)]) -> Kwargs {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn message(e: EnvError) -> String {
    e.to_string()
}

#[test]
fn unknown_domain_lists_the_domains() {
    let e = message(make("dmc/dog-run", &Kwargs::new()).err().expect("refused"));
    assert!(e.contains("dmc/dog-run") && e.contains("cheetah") && e.contains("ball_in_cup"), "{e}");
}

#[test]
fn unknown_task_lists_the_domains_tasks() {
    let e = message(make("dmc/walker-fly", &Kwargs::new()).err().expect("refused"));
    assert!(e.contains("walker has the tasks run, stand, walk"), "{e}");
    let e = message(DmcEnv::new("dmc/cartpole-swing", &Kwargs::new()).unwrap_err());
    assert!(e.contains("balance") && e.contains("swingup_sparse"), "{e}");
}

#[test]
fn a_camera_the_model_lacks_is_refused_with_its_cameras() {
    let e = message(
        DmcEnv::new("dmc/cheetah-run", &kwargs(&[("camera_id", Value::Int(7))])).unwrap_err(),
    );
    assert!(e.contains("camera_id") && e.contains("0 (side)") && e.contains("1 (back)"), "{e}");
    let e = message(
        DmcEnv::new("dmc/walker-walk", &kwargs(&[("camera_name", Value::Str("top".into()))]))
            .unwrap_err(),
    );
    assert!(e.contains("\"top\"") && e.contains("it has 0"), "{e}");
}

#[test]
fn sizes_of_zero_and_unknown_arguments_are_refused() {
    for (key, v) in
        [("width", Value::Int(0)), ("height", Value::Int(0)), ("multisamples", Value::Int(-1))]
    {
        let e = DmcEnv::new("dmc/cheetah-run", &kwargs(&[(key, v)])).unwrap_err();
        assert!(matches!(&e, EnvError::BadKwarg { key: k, .. } if k == key), "{key}: {e}");
    }
    let e = message(
        DmcEnv::new("dmc/cheetah-run", &kwargs(&[("frame_skip", Value::Int(2))])).unwrap_err(),
    );
    assert!(e.contains("frame_skip") && e.contains("fast_frames"), "{e}");
}

#[test]
fn bad_actions_are_refused_before_mujoco_sees_them() {
    let mut env = DmcEnv::new("dmc/cheetah-run", &Kwargs::new()).unwrap();
    let e = env.step(&Action::Continuous(vec![0.0; 6])).unwrap_err();
    assert!(matches!(e, EnvError::StepBeforeReset { .. }), "{e}");
    env.reset(Some(0), &Kwargs::new()).unwrap();
    let e = env.step(&Action::Continuous(vec![0.0; 5])).unwrap_err();
    assert!(matches!(e, EnvError::WrongActionShape { .. }), "{e}");
    let e = env.step(&Action::Continuous(vec![f32::NAN; 6])).unwrap_err();
    assert!(matches!(e, EnvError::NonFiniteAction { .. }), "{e}");
    let e = env.step(&Action::Discrete(1)).unwrap_err();
    assert!(matches!(e, EnvError::WrongActionShape { .. }), "{e}");
    // Outside the box: MuJoCo clamps it to ctrlrange, as dm_control lets it.
    env.step(&Action::Continuous(vec![5.0; 6])).unwrap();
}

#[test]
fn an_unstable_state_is_an_error_until_reset() {
    let mut env = DmcEnv::new("dmc/cartpole-swingup", &Kwargs::new()).unwrap();
    env.reset(Some(0), &Kwargs::new()).unwrap();
    env.set_state(&[0.0, 0.0], &[1e300, 1e300]).unwrap();
    let e = env.step(&Action::Continuous(vec![0.0])).unwrap_err();
    assert!(matches!(e, EnvError::Mujoco(MujocoError::PhysicsState { .. })), "{e}");
    let e = env.step(&Action::Continuous(vec![0.0])).unwrap_err();
    assert!(matches!(e, EnvError::StepBeforeReset { .. }), "{e}");
    env.reset(Some(0), &Kwargs::new()).unwrap();
    env.step(&Action::Continuous(vec![0.0])).unwrap();
    let e = env.set_state(&[0.0], &[0.0, 0.0]).unwrap_err();
    assert!(matches!(e, EnvError::LengthMismatch { .. }), "{e}");
}

#[test]
fn make_ends_every_task_after_1000_control_steps() {
    for spec in &TASKS {
        // dm_control ends at step_count >= time_limit / (timestep * n_sub_steps).
        let env = DmcEnv::new(spec.id, &Kwargs::new()).unwrap();
        let limit = spec.time_limit / env.control_timestep();
        assert_eq!(limit.ceil() as u64, spec.episode_steps, "{}", spec.id);
    }
    let mut env = make("dmc/cartpole-balance", &Kwargs::new()).unwrap();
    env.reset(Some(3), &Kwargs::new()).unwrap();
    let mut steps = 0;
    loop {
        let step = env.step(&Action::Continuous(vec![0.0])).unwrap();
        steps += 1;
        assert!(!step.terminated);
        assert!((0.0..=1.0).contains(&step.reward));
        if step.truncated {
            break;
        }
    }
    assert_eq!(steps, 1000);
}

#[test]
fn vector_envs_step_the_suite() {
    let mut envs = make_vec("dmc/walker-walk", 3, &Kwargs::new(), VectorConfig::default()).unwrap();
    let first: Vec<f32> = envs.reset(Some(0), &Kwargs::new()).unwrap().obs_f32.to_vec();
    let mut single = DmcEnv::new("dmc/walker-walk", &Kwargs::new()).unwrap();
    let (obs, _) = single.reset(Some(0), &Kwargs::new()).unwrap();
    assert_eq!(&first[..obs.f32.len()], &obs.f32[..]);
    // Sub-env i is seeded seed + i, as Gymnasium's vector envs do: different starts.
    assert_ne!(&first[..obs.f32.len()], &first[obs.f32.len()..2 * obs.f32.len()]);
}

#[test]
fn model_lookups_of_an_unknown_kind_are_none_not_a_panic() {
    let env = DmcEnv::new("dmc/cheetah-run", &Kwargs::new()).unwrap();
    let model = env.physics().model();
    assert_eq!(model.id("mjOBJ_NOPE", "torso"), None);
    assert_eq!(model.name("mjOBJ_NOPE", 0), None);
    assert!(model.id("mjOBJ_BODY", "torso").is_some());
}
