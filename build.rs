//! Adds an rpath to the provisioned libtorch so `graft`, tests and benches run without
//! `LD_LIBRARY_PATH`. torch-sys already links against `$LIBTORCH/lib`; it only leaves the
//! loader without a way to find it at run time.
//!
//! It also compiles Graft's C++ shim over PyTorch's c10d (`csrc/c10d_shim.cpp`, for
//! `graft::distributed`) against the same libtorch headers and flags tch uses for its own
//! wrapper, so both sides agree on `at::Tensor` and the C++ ABI.
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
    let lib_dir = match lib.canonicalize() {
        Ok(dir) => {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
            println!("cargo:rustc-env=GRAFT_BUILD_LIBTORCH={}", dir.display());
            dir
        }
        Err(_) => panic!(
            "libtorch not found at {} — run scripts/setup.sh (CPU) or scripts/setup.sh --cuda",
            lib.display()
        ),
    };
    build_c10d_shim(&libtorch, &lib_dir);
}

/// Compile `csrc/c10d_shim.cpp` into a static library linked into `graft`. The flags are
/// torch-sys's for its wrapper: the two include folders, C++17 and the C++11 ABI that the
/// PyTorch wheels (the only libtorch Graft provisions) are built with.
fn build_c10d_shim(libtorch: &std::path::Path, lib_dir: &std::path::Path) {
    for f in ["csrc/c10d_shim.cpp", "csrc/c10d_shim.h", "csrc/c10d_shim_internal.hpp"] {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-changed=csrc/gloo_decls");
    let include = libtorch.join("include");
    cc::Build::new()
        // The wheels ship ProcessGroupGloo.hpp but not the Gloo headers it includes;
        // csrc/gloo_decls declares the little of Gloo it mentions (see its README).
        .define("USE_C10D_GLOO", None)
        .include("csrc/gloo_decls")
        .cpp(true)
        .file("csrc/c10d_shim.cpp")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .flag("-DGLOG_USE_GLOG_EXPORT")
        // libtorch's headers are not warning-clean; the shim's own code is small and reviewed.
        .warnings(false)
        .compile("graft_c10d");
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=dylib=torch_cpu");
    println!("cargo:rustc-link-lib=dylib=c10");
}
