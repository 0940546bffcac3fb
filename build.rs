//! Adds an rpath to the provisioned libtorch so `graft`, tests and benches run without
//! `LD_LIBRARY_PATH`. torch-sys already links against `$LIBTORCH/lib`; it only leaves the
//! loader without a way to find it at run time.
//!
//! The rpath is a RUNPATH (the linker's default on Debian), so an `LD_LIBRARY_PATH` that
//! points at another build of libtorch 2.11.0 (e.g. a CUDA one) still takes precedence.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    let Some(libtorch) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        println!(
            "cargo:warning=LIBTORCH is not set; run scripts/setup.sh (it provisions libtorch 2.11.0)"
        );
        return;
    };
    let lib = libtorch.join("lib");
    match lib.canonicalize() {
        Ok(dir) => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
            println!("cargo:rustc-env=GRAFT_BUILD_LIBTORCH={}", dir.display());
        }
        Err(_) => panic!(
            "libtorch not found at {} — run scripts/setup.sh (CPU) or scripts/setup.sh --cuda",
            lib.display()
        ),
    }
}
