//! Compiles graft-envs' MuJoCo shim (`src/mujoco/shim.c`) against the MuJoCo headers that
//! `scripts/setup.sh` provisions, and records where the MuJoCo library is.
//!
//! MuJoCo is found the way libtorch is: `scripts/setup.sh` extracts PyPI's `mujoco` wheel into
//! `$GRAFT_HOME/mujoco-<version>` and links it from `.mujoco/current` in the clone, so no
//! environment variable is needed. The library is not linked: the shim loads it with `dlopen`
//! when the first MuJoCo environment is made, from the absolute path recorded here
//! (`GRAFT_MUJOCO_LIB`, read with `env!`). Linking would need an rpath in every binary that
//! depends on graft-envs (the `graft` binary, every test of the workspace), and a build script
//! can only add link arguments to its own package's binaries.

use std::path::{Path, PathBuf};

/// The MuJoCo release the shim and the environments are written against (the `mujoco` wheel's
/// version; `scripts/setup.sh` pins the same).
const MUJOCO_VERSION: &str = "3.17.0";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/mujoco/shim.c");
    println!("cargo:rerun-if-changed=src/mujoco/gl.c");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest.parent().unwrap_or(&manifest);
    let current = workspace.join(".mujoco").join("current");
    // The link's target changes when setup.sh provisions another copy.
    println!("cargo:rerun-if-changed={}", current.display());
    let root = match current.canonicalize() {
        Ok(dir) => dir,
        Err(_) => missing(&current, "is missing"),
    };
    let header = root.join("include").join("mujoco").join("mujoco.h");
    let library = root.join("lib").join(format!("libmujoco.so.{MUJOCO_VERSION}"));
    for needed in [&header, &library] {
        if !needed.is_file() {
            missing(&current, &format!("has no {}", needed.display()));
        }
    }
    println!("cargo:rerun-if-changed={}", header.display());
    cc::Build::new()
        .file("src/mujoco/shim.c")
        // The offscreen OpenGL context for rendering (EGL, loaded at run time; needs no GL
        // header or library at build time).
        .file("src/mujoco/gl.c")
        .include(root.join("include"))
        .flag("-std=c11")
        .warnings(true)
        .compile("graft_mujoco_shim");
    // dlopen/dlsym live in libc from glibc 2.34 on, in libdl before.
    println!("cargo:rustc-link-lib=dylib=dl");
    println!("cargo:rustc-env=GRAFT_MUJOCO_LIB={}", library.display());
    println!("cargo:rustc-env=GRAFT_MUJOCO_VERSION={MUJOCO_VERSION}");
}

fn missing(current: &Path, what: &str) -> ! {
    panic!(
        "MuJoCo {MUJOCO_VERSION} not found: {} {what}. Run scripts/setup.sh, which provisions \
         it from PyPI's mujoco=={MUJOCO_VERSION} wheel into ~/.cache/graft (or $GRAFT_HOME) and \
         links it as .mujoco/current.",
        current.display()
    )
}
