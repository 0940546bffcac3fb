//! The MuJoCo binding: models load from files and text with typed errors, arrays read and
//! write through, a fatal MuJoCo error comes back as an `Err` (the process goes on), and
//! MuJoCo's warnings are counted instead of printed.

use std::sync::Arc;

use graft_envs::mujoco::{library, Model, MujocoError, Simulation, BUNDLED};
use graft_envs::EnvError;

fn hopper_xml() -> &'static str {
    BUNDLED.iter().find(|(n, _)| *n == "hopper.xml").map(|(_, x)| *x).unwrap()
}

fn hopper() -> Arc<Model> {
    Arc::new(Model::from_xml_str("hopper.xml", hopper_xml()).unwrap())
}

#[test]
fn library_is_the_pinned_version() {
    assert_eq!(library::MUJOCO_VERSION, "3.17.0");
    assert_eq!(library::header_version(), 3_017_000);
    assert_eq!(library::loaded_version(), Ok(3_017_000));
}

#[test]
fn every_bundled_model_compiles() {
    for (name, xml) in BUNDLED {
        let m = Model::from_xml_str(name, xml).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.nq() > 0 && m.nbody() > 1, "{name}");
    }
}

#[test]
fn model_sizes_and_arrays() {
    let m = hopper();
    assert_eq!((m.nq(), m.nv(), m.nu(), m.na(), m.nbody()), (6, 6, 3, 0, 5));
    assert_eq!(m.timestep(), 0.002);
    let (range, cols) = m.array("actuator_ctrlrange").unwrap();
    assert_eq!((range, cols), (&[-1.0, 1.0, -1.0, 1.0, -1.0, 1.0][..], 2));
    assert_eq!(m.array("qpos0").unwrap().0, &[0.0, 1.25, 0.0, 0.0, 0.0, 0.0]);
    assert!(m.array("no_such_array").is_none());
    // Not mjtNum: refused rather than misread.
    assert!(m.array("body_parentid").is_none());
    assert_eq!(m.body_id("torso"), Some(1));
    assert_eq!(m.body_id("no_such_body"), None);
    assert_eq!(m.size("ngeom"), 5);
}

#[test]
fn a_model_loads_from_a_file_too() {
    let dir = std::env::temp_dir().join(format!("graft-mujoco-binding-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hopper.xml");
    std::fs::write(&path, hopper_xml()).unwrap();
    let m = Model::from_file(&path).unwrap();
    assert_eq!((m.nq(), m.file()), (6, path.display().to_string().as_str()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_and_malformed_models_are_typed_errors() {
    let missing = std::path::Path::new("/nonexistent/graft/model.xml");
    assert_eq!(
        Model::from_file(missing).unwrap_err(),
        MujocoError::XmlNotFound { path: missing.display().to_string(), hint: String::new() }
    );
    // Not XML at all, XML that is not a valid model, and a model whose compilation overflows
    // MuJoCo's stack (a fatal error inside mj_loadXML): MuJoCo's message, with the name.
    let tiny = hopper_xml().replacen("<compiler", "<size memory=\"1K\"/>\n  <compiler", 1);
    for (text, needle) in [
        ("this is not xml", "XML parse error"),
        ("<mujoco><worldbody><body><geom type='nosuch'/></body></worldbody></mujoco>", "nosuch"),
        (tiny.as_str(), "stack overflow"),
    ] {
        match Model::from_xml_str("broken.xml", text) {
            Err(MujocoError::XmlInvalid { file, message }) => {
                assert_eq!(file, "broken.xml");
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("expected XmlInvalid, got {other:?}"),
        }
    }
}

#[test]
fn data_arrays_read_and_write_through() {
    let mut sim = Simulation::new("test", hopper(), 4).unwrap();
    assert_eq!(sim.dt(), 0.008);
    assert_eq!(sim.init_qpos(), &[0.0, 1.25, 0.0, 0.0, 0.0, 0.0]);
    let qpos = [0.1, 1.2, 0.05, -0.1, 0.2, 0.0];
    sim.set_state(&qpos, &[0.5; 6]).unwrap();
    assert_eq!(sim.qpos(), &qpos);
    assert_eq!(sim.qvel(), &[0.5; 6]);
    // mj_forward ran: the torso's frame sits at the state's x and z.
    let (xpos, cols) = sim.data().array("xpos").unwrap();
    assert_eq!((xpos.len(), cols), (15, 3));
    assert_eq!(sim.body_com("torso"), Some([xpos[3], xpos[4], xpos[5]]));
    assert!((xpos[3] - 0.1).abs() < 1e-12 && (xpos[5] - 1.2).abs() < 1e-12);
    assert_eq!(sim.body_com("no_such_body"), None);
    sim.do_simulation(&[0.3, -0.3, 1.0], 4).unwrap();
    assert_eq!(sim.data().ctrl(), &[0.3f32 as f64, -0.3f32 as f64, 1.0]);
    assert_ne!(sim.qpos(), &qpos);
    sim.reset_data().unwrap();
    assert_eq!(sim.qpos(), sim.init_qpos());
}

#[test]
fn a_fatal_mujoco_error_is_an_err_not_an_exit() {
    // 4 KiB of arena: enough to compile, but MuJoCo's stack overflows in the first step,
    // which its default handler answers by ending the process.
    let xml = hopper_xml().replacen("<compiler", "<size memory=\"4K\"/>\n  <compiler", 1);
    let model = Arc::new(Model::from_xml_str("tiny.xml", &xml).unwrap());
    let mut sim = Simulation::new("Tiny-v0", model, 4).unwrap();
    let err = sim.do_simulation(&[0.0; 3], 4).unwrap_err();
    match &err {
        EnvError::Mujoco(MujocoError::Simulation { env, call, message }) => {
            assert_eq!((env.as_str(), call.as_str()), ("Tiny-v0", "mj_step"));
            assert!(message.contains("stack overflow"), "{message}");
        }
        other => panic!("expected a Simulation error, got {other:?}"),
    }
    // The state is refused until reset, then usable (and fails the same way again).
    let again = sim.do_simulation(&[0.0; 3], 1).unwrap_err();
    assert!(again.to_string().contains("until reset"), "{again}");
    assert!(sim.set_state(&[0.0; 6], &[0.0; 6]).is_err());
    sim.reset_data().unwrap();
    assert!(matches!(sim.do_simulation(&[0.0; 3], 1), Err(EnvError::Mujoco(_))));
    // Other simulations are unaffected.
    let mut fine = Simulation::new("test", hopper(), 4).unwrap();
    fine.do_simulation(&[0.0; 3], 4).unwrap();
}

#[test]
fn warnings_are_counted_not_printed() {
    let mut sim = Simulation::new("test", hopper(), 4).unwrap();
    // Finite but beyond MuJoCo's 1e10 limit: mj_step warns (mjWARN_BADQVEL) and resets.
    sim.set_state(sim.init_qpos().to_vec().as_slice(), &[1e11; 6]).unwrap();
    assert!(sim.take_warnings().is_empty());
    sim.do_simulation(&[0.0; 3], 4).unwrap();
    let warnings = sim.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!((warnings[0].name, warnings[0].count), ("mjWARN_BADQVEL", 1));
    assert!(warnings[0].text.contains("QVEL at DOF 0"), "{}", warnings[0].text);
    assert!(sim.qvel().iter().all(|v| v.abs() < 10.0));
    // Counted once: the next step has none.
    sim.do_simulation(&[0.0; 3], 4).unwrap();
    assert!(sim.take_warnings().is_empty());
}
