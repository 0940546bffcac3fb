//! Bad input to the MuJoCo environments (issue #21, item 7): each gives a typed error that
//! names the problem, never a panic or an exit from the C library; MuJoCo's own warnings reach
//! `info`.

use std::path::PathBuf;

use graft_envs::mujoco::{Hopper, HopperConfig, MujocoError, BUNDLED};
use graft_envs::{make, make_with, Action, Env, EnvError, Kwargs, Value};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-mujoco-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn xml_file(path: &std::path::Path) -> [(&'static str, Value); 1] {
    [("xml_file", Value::Str(path.display().to_string()))]
}

#[test]
fn a_missing_model_file_is_named() {
    let err = make_with("Hopper-v5", [("xml_file", Value::Str("/no/such/hopper.xml".into()))]);
    match err.map(|_| ()) {
        Err(EnvError::Mujoco(MujocoError::XmlNotFound { path, .. })) => {
            assert_eq!(path, "/no/such/hopper.xml")
        }
        other => panic!("expected XmlNotFound, got {other:?}"),
    }
    // A bare name that is not one of Gymnasium's models: the message lists them.
    let err = make_with("Hopper-v5", [("xml_file", Value::Str("hoper.xml".into()))]).err().unwrap();
    let text = err.to_string();
    assert!(text.contains("hoper.xml") && text.contains("hopper.xml"), "{text}");
}

#[test]
fn a_malformed_model_file_gives_mujoco_s_message_and_the_file() {
    let dir = temp_dir("malformed");
    let cases = [
        ("truncated.xml", "<mujoco><worldbody><body>"),
        (
            "unknown_attr.xml",
            "<mujoco><worldbody><geom type='sphere' size='1' colour='red'/></worldbody></mujoco>",
        ),
    ];
    for (name, text) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        match make_with("HalfCheetah-v5", xml_file(&path)).map(|_| ()) {
            Err(EnvError::Mujoco(MujocoError::XmlInvalid { file, message })) => {
                assert_eq!(file, path.display().to_string());
                assert!(!message.is_empty());
                if name == "unknown_attr.xml" {
                    assert!(message.contains("colour"), "{message}");
                }
            }
            other => panic!("{name}: expected XmlInvalid, got {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_model_without_the_coordinates_the_env_reads_is_refused() {
    // Hopper reads qpos[0..3]; the inverted pendulum has two coordinates.
    let err = make_with("Hopper-v5", [("xml_file", Value::Str("inverted_pendulum.xml".into()))]);
    match err.map(|_| ()) {
        Err(EnvError::Mujoco(MujocoError::ModelMismatch { env, file, reason })) => {
            assert_eq!((env.as_str(), file.as_str()), ("Hopper-v5", "inverted_pendulum.xml"));
            assert!(reason.contains("has 2"), "{reason}");
        }
        other => panic!("expected ModelMismatch, got {other:?}"),
    }
}

#[test]
fn nan_infinite_and_wrong_length_actions_are_refused() {
    let mut env = make("Hopper-v5", &Kwargs::new()).unwrap();
    env.reset(Some(0), &Kwargs::new()).unwrap();
    for bad in [vec![f32::NAN, 0.0, 0.0], vec![0.0, f32::INFINITY, 0.0]] {
        let err = env.step(&Action::Continuous(bad)).unwrap_err();
        assert!(
            matches!(err, EnvError::NonFiniteAction { ref env, .. } if env == "Hopper-v5"),
            "{err}"
        );
    }
    for bad in
        [Action::Continuous(vec![0.0; 2]), Action::Continuous(vec![0.0; 6]), Action::Discrete(1)]
    {
        match env.step(&bad).unwrap_err() {
            EnvError::WrongActionShape { env, expected, .. } => {
                assert_eq!((env.as_str(), expected.as_str()), ("Hopper-v5", "3 float32 values"))
            }
            other => panic!("expected WrongActionShape, got {other}"),
        }
    }
    // The refused actions left the episode as it was.
    assert!(env.step(&Action::Continuous(vec![0.0; 3])).is_ok());
}

#[test]
fn non_finite_or_misshapen_states_are_refused() {
    let mut env = Hopper::env(HopperConfig::default()).unwrap();
    env.reset(Some(0), &Kwargs::new()).unwrap();
    let before = env.observation_f64().to_vec();
    let good = [0.0, 1.25, 0.0, 0.0, 0.0, 0.0];
    for (qpos, qvel, what, index) in [
        ([0.0, 1.25, 0.0, 0.0, f64::NAN, 0.0], good, "qpos", 4),
        (good, [0.0, 0.0, f64::NEG_INFINITY, 0.0, 0.0, 0.0], "qvel", 2),
    ] {
        match env.set_state(&qpos, &qvel).unwrap_err() {
            EnvError::Mujoco(e @ MujocoError::NonFiniteState { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&format!("{what}[{index}]")), "{text}");
                assert!(text.starts_with("Hopper-v5: set_state"), "{text}");
            }
            other => panic!("expected NonFiniteState, got {other}"),
        }
    }
    assert_eq!(
        env.set_state(&good[..5], &good).unwrap_err(),
        EnvError::Mujoco(MujocoError::StateLength {
            env: "Hopper-v5".into(),
            what: "qpos".into(),
            expected: 6,
            got: 5,
        })
    );
    assert!(matches!(
        env.set_state(&good, &[0.0; 7]),
        Err(EnvError::Mujoco(MujocoError::StateLength { expected: 6, got: 7, .. }))
    ));
    // Nothing reached MuJoCo.
    assert_eq!(env.observation_f64(), &before[..]);
}

#[test]
fn mujoco_warnings_surface_in_info() {
    let mut env = Hopper::env(HopperConfig::default()).unwrap();
    env.reset(Some(0), &Kwargs::new()).unwrap();
    // Finite, but past MuJoCo's 1e10 limit: mj_step warns (mjWARN_BADQVEL) and resets the
    // state, which Gymnasium's MuJoCo prints to the console and appends to MUJOCO_LOG.TXT.
    env.set_state(&[0.0, 1.25, 0.0, 0.0, 0.0, 0.0], &[1e11; 6]).unwrap();
    let step = env.step(&Action::Continuous(vec![0.0; 3])).unwrap();
    let Some(Value::Map(warnings)) = step.info.get("mujoco_warnings") else {
        panic!("no mujoco_warnings in {:?}", step.info)
    };
    let Some(Value::Map(badqvel)) = warnings.get("mjWARN_BADQVEL") else {
        panic!("no mjWARN_BADQVEL in {warnings:?}")
    };
    assert_eq!(badqvel.get("count"), Some(&Value::Int(1)));
    let text = badqvel.get("text").and_then(Value::as_str).unwrap();
    assert!(text.contains("QVEL"), "{text}");
    // Gymnasium's keys are all still there, and the next step has no warning.
    assert!(step.info.contains_key("reward_survive"));
    let next = env.step(&Action::Continuous(vec![0.0; 3])).unwrap();
    assert!(!next.info.contains_key("mujoco_warnings"));
    assert!(!std::path::Path::new("MUJOCO_LOG.TXT").exists());
}

#[test]
fn a_fatal_mujoco_error_is_an_error_and_the_env_stays_usable() {
    let dir = temp_dir("fatal");
    let hopper = BUNDLED.iter().find(|(n, _)| *n == "hopper.xml").unwrap().1;
    let path = dir.join("tiny_hopper.xml");
    // 4 KiB of arena: compiles, but MuJoCo's stack overflows in the reset's mj_forward, where
    // MuJoCo's default handler would end the process.
    std::fs::write(&path, hopper.replacen("<compiler", "<size memory=\"4K\"/>\n  <compiler", 1))
        .unwrap();
    let mut env = make_with("Hopper-v5", xml_file(&path)).unwrap();
    for seed in [0, 1] {
        match env.reset(Some(seed), &Kwargs::new()).unwrap_err() {
            EnvError::Mujoco(MujocoError::Simulation { env, call, message }) => {
                assert_eq!((env.as_str(), call.as_str()), ("Hopper-v5", "mj_forward"));
                assert!(message.contains("stack overflow"), "{message}");
            }
            other => panic!("expected a Simulation error, got {other}"),
        }
        // No episode runs.
        assert!(matches!(
            env.step(&Action::Continuous(vec![0.0; 3])),
            Err(EnvError::StepBeforeReset { .. })
        ));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
