//! The MuJoCo environments as Gymnasium 1.4.0 registers and builds them: ids, time limits,
//! thresholds, spaces, keyword arguments, custom model files, seeding and episode rules.
//! (Trajectory parity is `mujoco_parity.rs`; bad input is `mujoco_bad_input.rs`.)

use graft_envs::mujoco::{
    HalfCheetah, HalfCheetahConfig, Hopper, HopperConfig, InvertedPendulum, MujocoTask, BUNDLED,
};
use graft_envs::{make, make_with, spec, Action, Env, EnvError, Kwargs, MujocoEnv, Space, Value};

const IDS: [&str; 3] = ["HalfCheetah-v5", "Hopper-v5", "InvertedPendulum-v5"];

#[test]
fn registered_as_gymnasium_registers_them() {
    for (id, threshold) in
        [("HalfCheetah-v5", 4800.0), ("Hopper-v5", 3800.0), ("InvertedPendulum-v5", 950.0)]
    {
        let s = spec(id).unwrap();
        assert_eq!((s.max_episode_steps, s.reward_threshold), (Some(1000), Some(threshold)));
    }
    let ids: Vec<String> = graft_envs::registered().into_iter().map(|s| s.id).collect();
    assert!(IDS.iter().all(|id| ids.iter().any(|i| i == id)));
}

#[test]
fn spaces_match_gymnasium() {
    let inf = f64::INFINITY;
    for (id, obs_len, action_bound, nu) in [
        ("HalfCheetah-v5", 17, 1.0, 6),
        ("Hopper-v5", 11, 1.0, 3),
        ("InvertedPendulum-v5", 4, 3.0, 1),
    ] {
        let env = make(id, &Kwargs::new()).unwrap();
        assert_eq!(
            env.observation_space(),
            &Space::box_f32(vec![-inf; obs_len], vec![inf; obs_len])
        );
        assert_eq!(
            env.action_space(),
            &Space::box_f32(vec![-action_bound; nu], vec![action_bound; nu]),
            "{id}"
        );
    }
    // Keeping x in the observation adds one value.
    let env = make_with(
        "Hopper-v5",
        [("exclude_current_positions_from_observation", Value::Bool(false))],
    );
    assert_eq!(env.unwrap().observation_space().f32_len(), 12);
}

#[test]
fn render_fps_is_one_over_dt() {
    let env = HalfCheetah::env(HalfCheetahConfig::default()).unwrap();
    assert_eq!((env.dt(), env.render_fps()), (0.05, 20));
    let env = Hopper::env(HopperConfig::default()).unwrap();
    assert_eq!((env.dt(), env.render_fps()), (0.008, 125));
    let env = InvertedPendulum::from_kwargs(&Kwargs::new()).unwrap();
    assert_eq!((env.dt(), env.render_fps()), (0.04, 25));
}

#[test]
fn kwargs_reach_the_config_and_bad_ones_are_refused() {
    let kw: Kwargs = [
        ("frame_skip".to_string(), Value::Int(2)),
        ("healthy_z_range".to_string(), Value::Floats(vec![0.5, f64::INFINITY])),
        ("ctrl_cost_weight".to_string(), Value::Int(0)),
    ]
    .into();
    let env = Hopper::from_kwargs(&kw).unwrap();
    let c = env.task().config();
    assert_eq!(
        (c.frame_skip, c.healthy_z_range, c.ctrl_cost_weight),
        (2, (0.5, f64::INFINITY), 0.0)
    );
    assert_eq!(env.dt(), 0.004);
    assert_eq!(HopperConfig::from_kwargs(&c.to_kwargs()).unwrap(), *c);
    for (key, value) in [
        ("frame_skip", Value::Int(0)),
        ("frame_skip", Value::Float(5.0)),
        ("healthy_z_range", Value::Float(0.7)),
        ("ctrl_cost_weight", Value::Float(f64::NAN)),
        ("xml_file", Value::Int(3)),
        // Rendering arguments are taken (see mujoco_render.rs), and checked.
        ("width", Value::Int(0)),
        ("camera_id", Value::Str("top".into())),
    ] {
        let got = make_with("Hopper-v5", [(key, value.clone())]);
        assert!(matches!(got, Err(EnvError::BadKwarg { .. })), "{key}={value:?}");
    }
    // max_episode_steps is make's, as in gymnasium.make.
    let mut env = make_with("InvertedPendulum-v5", [("max_episode_steps", Value::Int(3))]).unwrap();
    env.reset(Some(0), &Kwargs::new()).unwrap();
    let flags: Vec<bool> =
        (0..3).map(|_| env.step(&Action::Continuous(vec![0.0])).unwrap().truncated).collect();
    assert_eq!(flags, [false, false, true]);
}

#[test]
fn a_custom_xml_file_is_loaded_from_its_path() {
    let dir = std::env::temp_dir().join(format!("graft-mujoco-envs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = BUNDLED.iter().find(|(n, _)| *n == "half_cheetah.xml").unwrap().1;
    let path = dir.join("slow_cheetah.xml");
    std::fs::write(&path, xml.replace("timestep=\"0.01\"", "timestep=\"0.002\"")).unwrap();
    let kw = [("xml_file", Value::Str(path.display().to_string()))];
    let env = make_with("HalfCheetah-v5", kw).unwrap();
    assert_eq!(env.render_fps(), 100);
    // A bare name picks one of Gymnasium's models, whatever the environment.
    let env = make_with(
        "InvertedPendulum-v5",
        [("xml_file", Value::Str("inverted_pendulum.xml".into()))],
    );
    assert_eq!(env.unwrap().observation_space().f32_len(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_seed_fixes_the_episode_and_noise_scales_with_reset_noise_scale() {
    for id in IDS {
        let mut a = make(id, &Kwargs::new()).unwrap();
        let mut b = make(id, &Kwargs::new()).unwrap();
        let (oa, ia) = a.reset(Some(7), &Kwargs::new()).unwrap();
        let (ob, ib) = b.reset(Some(7), &Kwargs::new()).unwrap();
        assert_eq!((&oa, &ia), (&ob, &ib), "{id}");
        assert_ne!(a.reset(Some(8), &Kwargs::new()).unwrap().0, ob, "{id}");
    }
    // Without noise the reset state is the model's initial one.
    let kw = [("reset_noise_scale", Value::Float(0.0))];
    let mut env = make_with("Hopper-v5", kw).unwrap();
    let (obs, info) = env.reset(Some(3), &Kwargs::new()).unwrap();
    assert_eq!(obs.f32, [1.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(info.get("x_position"), Some(&Value::Float(0.0)));
    assert_eq!(info.get("z_distance_from_origin"), Some(&Value::Float(0.0)));
}

#[test]
fn half_cheetah_runs_a_whole_time_limit() {
    let mut env = make("HalfCheetah-v5", &Kwargs::new()).unwrap();
    env.reset(Some(1), &Kwargs::new()).unwrap();
    let mut rng = graft_envs::EnvRng::seed_from(2);
    for t in 1..=1000 {
        let a = env.action_space().sample_action(&mut rng).unwrap();
        let s = env.step(&a).unwrap();
        assert!(!s.terminated && s.truncated == (t == 1000) && s.reward.is_finite());
        let keys: Vec<&String> = s.info.keys().collect();
        assert_eq!(keys, ["reward_ctrl", "reward_forward", "x_position", "x_velocity"]);
    }
    assert!(matches!(
        env.step(&Action::Continuous(vec![0.0; 6])),
        Err(EnvError::StepAfterDone { .. })
    ));
}

#[test]
fn hopper_terminates_when_unhealthy_unless_told_not_to() {
    // Torso angle 0.19 rad and falling forward: unhealthy within a few steps.
    let qpos = [0.0, 1.25, 0.19, 0.0, 0.0, 0.0];
    let qvel = [0.0, 0.0, 2.0, 0.0, 0.0, 0.0];
    for terminate in [true, false] {
        let config = HopperConfig { terminate_when_unhealthy: terminate, ..Default::default() };
        let mut env = Hopper::env(config).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        env.set_state(&qpos, &qvel).unwrap();
        let mut ended = None;
        for t in 0..20 {
            let s = env.step(&Action::Continuous(vec![0.0; 3])).unwrap();
            let healthy = env.task().is_healthy(env.sim());
            assert_eq!(s.info["reward_survive"], Value::Float(if healthy { 1.0 } else { 0.0 }));
            if !healthy {
                assert_eq!(s.terminated, terminate);
                ended = Some(t);
                break;
            }
        }
        assert!(ended.is_some(), "the hopper never became unhealthy");
    }
}

#[test]
fn inverted_pendulum_terminates_past_0_2_rad() {
    let mut env = InvertedPendulum::from_kwargs(&Kwargs::new()).unwrap();
    env.reset(Some(0), &Kwargs::new()).unwrap();
    let obs = env.set_state(&[0.0, 0.19], &[0.0, 1.0]).unwrap().to_vec();
    assert_eq!(obs, [0.0, 0.19, 0.0, 1.0]);
    let mut steps = 0;
    loop {
        let s = env.step(&Action::Continuous(vec![0.0])).unwrap();
        steps += 1;
        let angle = env.observation_f64()[1];
        assert_eq!(s.terminated, angle.abs() > 0.2);
        assert_eq!(s.reward, if s.terminated { 0.0 } else { 1.0 });
        assert_eq!(s.info["reward_survive"], Value::Int(s.reward as i64));
        if s.terminated {
            break;
        }
        assert!(steps < 50);
    }
}

#[test]
fn out_of_box_actions_reach_mujoco_which_clamps_them() {
    // Same state, action 1 and action 5: the same motion (MuJoCo clamps to ctrlrange [-1, 1]),
    // but the control cost charges the action as given.
    let mut states = Vec::new();
    for a in [1.0f32, 5.0] {
        let mut env: MujocoEnv<HalfCheetah> = HalfCheetah::from_kwargs(&Kwargs::new()).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        let s = env.step(&Action::Continuous(vec![a; 6])).unwrap();
        let cost = 0.1f32 * (6.0 * a * a);
        assert_eq!(s.info["reward_ctrl"], Value::Float(-cost as f64));
        states.push(env.observation_f64().to_vec());
        assert_eq!(env.task().id(), "HalfCheetah-v5");
    }
    assert_eq!(states[0], states[1]);
}
