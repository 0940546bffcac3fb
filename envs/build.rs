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
    if std::env::var_os("CARGO_FEATURE_ATARI").is_some() {
        build_ale(workspace);
    }
}

/// The Arcade Learning Environment release whose source `scripts/setup.sh --atari` provisions
/// (ale-py's source distribution) and whose behaviour the `atari` module reproduces.
const ALE_VERSION: &str = "0.12.1";

/// Compiles ALE's C++ source (emulator, environment, game logic; not its Python, WebAssembly,
/// vector-env or SDL parts) and graft-envs' C shim over it into static libraries, and records
/// where the ROMs are (`GRAFT_ALE_ROMS`).
///
/// ALE is always compiled with optimisation (even in debug builds): the emulator at -O0 is
/// several times slower, which the parity tests would feel. Its ~170 files take about two
/// minutes on two cores, so the library is kept in OUT_DIR and rebuilt only when the
/// provisioned source changes; the shim is recompiled on its own.
fn build_ale(workspace: &Path) {
    println!("cargo:rerun-if-changed=src/atari/shim.cpp");
    let current = workspace.join(".ale").join("current");
    println!("cargo:rerun-if-changed={}", current.display());
    let root = match current.canonicalize() {
        Ok(dir) => dir,
        Err(_) => ale_missing(&current, "is missing"),
    };
    let src = root.join("src");
    let include = root.join("include");
    let roms = root.join("roms");
    for needed in
        [src.join("ale/ale_interface.hpp"), include.join("version.hpp"), roms.join("md5.json")]
    {
        if !needed.is_file() {
            ale_missing(&current, &format!("has no {}", needed.display()));
        }
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let stamp = out.join("ale-source.txt");
    let library = out.join("libgraft_ale.a");
    // Bump the suffix when the flags below change, so a cached library is rebuilt.
    let wanted = format!("{ALE_VERSION} {} o3-lto-nodebug", root.display());
    let fresh =
        library.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted);
    if !fresh {
        let ale = src.join("ale");
        let mut files = Vec::new();
        // ALE's CMake lists, less SDL (display and sound windows): common/, emucore/,
        // environment/, games/ and games/supported/, and the interface itself.
        let common = [
            "ColourPalette.cpp",
            "Constants.cpp",
            "Log.cpp",
            "ScreenExporter.cpp",
            "SoundExporter.cpp",
            "DynamicLoad.cpp",
            "SoundNull.cxx",
            "SoundRaw.cxx",
        ];
        files.extend(common.iter().map(|f| ale.join("common").join(f)));
        for (dir, ext) in [
            ("emucore", "cxx"),
            ("environment", "cpp"),
            ("games", "cpp"),
            ("games/supported", "cpp"),
        ] {
            files.extend(sources(&ale.join(dir), ext));
        }
        files.push(ale.join("ale_interface.cpp"));
        let mut build = cc::Build::new();
        build
            .cpp(true)
            .std("c++17")
            .files(&files)
            .include(&src)
            .include(&include)
            // CMake's Release build, which ale-py's wheels are: -O3, assertions off (one
            // asserts `seed >= 0` on the seed that ale-py passes as a possibly negative int32),
            // and link-time optimisation (the emulator's CPU, bus and TIA live in separate
            // files and call each other every cycle).
            .opt_level(3)
            // No debug info: it would be ~30 MB in every test binary that links ALE.
            .debug(false)
            .define("NDEBUG", None)
            .flag_if_supported("-flto")
            .flag_if_supported("-ffat-lto-objects")
            // Third-party code: its warnings are not Graft's to fix.
            .warnings(false)
            .flag_if_supported("-w")
            .cargo_metadata(false);
        let objects = build.compile_intermediates();
        archive_ale(&build, &objects, &out, &library);
        std::fs::write(&stamp, &wanted).expect("OUT_DIR is writable");
    }
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .file("src/atari/shim.cpp")
        // As system headers: ALE's own warnings are not the shim's.
        .flag("-isystem")
        .flag(src.to_str().expect("a UTF-8 path"))
        .flag("-isystem")
        .flag(include.to_str().expect("a UTF-8 path"))
        .opt_level(2)
        .warnings(true)
        .compile("graft_ale_shim");
    // The shim's library first, then ALE's, then what ALE needs (zlib for compressed ROMs,
    // threads, the C++ runtime).
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=graft_ale");
    println!("cargo:rustc-link-lib=dylib=z");
    println!("cargo:rustc-link-lib=dylib=pthread");
    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:rustc-env=GRAFT_ALE_ROMS={}", roms.display());
    println!("cargo:rustc-env=GRAFT_ALE_VERSION={ALE_VERSION}");
}

/// Archive ALE's objects into `library`. With GCC, the objects (which carry GCC's IR besides
/// machine code) are first linked into one relocatable object with link-time optimisation, as
/// a Release build of ALE is linked: rustc links the archive like any C library and needs no
/// LTO of its own. Where that is not available (another compiler, an old GCC), the objects'
/// own machine code is archived as it is.
fn archive_ale(build: &cc::Build, objects: &[PathBuf], out: &Path, library: &Path) {
    let compiler = build.get_compiler();
    let merged = out.join("graft_ale_lto.o");
    let jobs = std::env::var("NUM_JOBS").unwrap_or_else(|_| "2".into());
    let lto = compiler.is_like_gnu()
        && std::process::Command::new(compiler.path())
            .args(["-O3", "-r", "-nostdlib", "-flinker-output=nolto-rel"])
            .arg(format!("-flto={jobs}"))
            .arg("-o")
            .arg(&merged)
            .args(objects)
            .status()
            .is_ok_and(|s| s.success());
    let _ = std::fs::remove_file(library);
    let mut archive = build.get_archiver();
    archive.arg("crs").arg(library);
    if lto {
        archive.arg(&merged);
    } else {
        println!("cargo:warning=ALE archived without link-time optimisation");
        archive.args(objects);
    }
    let status = archive.status().expect("the archiver runs");
    assert!(status.success(), "archiving ALE into {} failed", library.display());
}

/// The files with extension `ext` directly in `dir`, sorted (a stable build order).
fn sources(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read ALE source folder {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

fn ale_missing(current: &Path, what: &str) -> ! {
    panic!(
        "the `atari` feature needs ALE {ALE_VERSION}'s source and ROMs: {} {what}. Run \
         scripts/setup.sh --atari, which provisions them from PyPI's ale-py=={ALE_VERSION} \
         source distribution into ~/.cache/graft (or $GRAFT_HOME) and links it as .ale/current.",
        current.display()
    )
}

fn missing(current: &Path, what: &str) -> ! {
    panic!(
        "MuJoCo {MUJOCO_VERSION} not found: {} {what}. Run scripts/setup.sh, which provisions \
         it from PyPI's mujoco=={MUJOCO_VERSION} wheel into ~/.cache/graft (or $GRAFT_HOME) and \
         links it as .mujoco/current.",
        current.display()
    )
}
