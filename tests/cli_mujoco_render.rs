//! `graft envs render` on a MuJoCo environment writes a PNG (issue #21's acceptance line),
//! and `graft envs list` lists the MuJoCo ids.

use std::process::Command;

fn graft(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_graft")).args(args).output().expect("graft runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn envs_render_half_cheetah_writes_a_png() {
    let dir = std::env::temp_dir().join(format!("graft-cli-mujoco-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let full = dir.join("cheetah.png");
    let (code, out, err) = graft(&[
        "envs",
        "render",
        "HalfCheetah-v5",
        "--steps",
        "3",
        "--out",
        full.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let img = image::open(&full).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (480, 480));
    // Not a blank frame: MuJoCo's checker floor and sky give many distinct colours.
    let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 50, "{} colours", colours.len());

    let small = dir.join("hopper.png");
    let (code, _, err) = graft(&[
        "envs",
        "render",
        "Hopper-v5",
        "--size",
        "84x84",
        "--kwarg",
        "camera_id=-1",
        "-o",
        small.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(image::image_dimensions(&small).unwrap(), (84, 84));

    let (code, _, err) = graft(&[
        "envs",
        "render",
        "Hopper-v5",
        "--kwarg",
        "camera_id=0",
        "--kwarg",
        "camera_name=track",
        "-o",
        small.to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("camera_id") && err.contains("camera_name"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rendering_without_egl_names_the_packages_to_install() {
    let out = std::env::temp_dir().join(format!("graft-cli-noegl-{}.png", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(["envs", "render", "Hopper-v5", "-o", out.to_str().unwrap()])
        .env("GRAFT_EGL_LIB", "libEGL-absent-for-this-test.so.1")
        .output()
        .expect("graft runs");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(err.contains("is not installed"), "{err}");
    assert!(err.contains("apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri"), "{err}");
    assert!(!out.exists());
}

#[test]
fn envs_list_shows_the_mujoco_ids() {
    let (code, out, err) = graft(&["envs", "list"]);
    assert_eq!(code, 0, "{err}");
    for id in ["HalfCheetah-v5", "Hopper-v5", "InvertedPendulum-v5"] {
        assert!(out.contains(id), "{out}");
    }
}

#[test]
fn envs_list_without_mujoco_reports_each_mujoco_id() {
    let run = Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(["envs", "list"])
        .env("GRAFT_MUJOCO_LIB", "/nonexistent/libmujoco.so.3.17.0")
        .output()
        .expect("graft runs");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    // The other families are listed as usual, each MuJoCo id with the reason it is missing.
    assert!(out.contains("CartPole-v1\n  observation:"), "{out}");
    let hopper = out.split("Hopper-v5\n").nth(1).expect("Hopper-v5 listed");
    assert!(hopper.starts_with("  unavailable: MuJoCo library unavailable"), "{hopper}");
    assert!(hopper.contains("max_episode_steps: 1000"), "{hopper}");
}
