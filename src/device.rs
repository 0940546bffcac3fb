//! Device choice, CUDA loading, seeding and threads: everything about "where and how
//! reproducibly" a run computes, in one place.
//!
//! **Why CUDA needs loading.** tch links libtorch with `--as-needed`, so `libtorch_cuda.so` is
//! never loaded unless something asks for it, and CUDA then looks unavailable even on a GPU
//! machine. [`init`] finds the libtorch actually in use (the folder `libtorch_cpu.so` was
//! loaded from) and, when a `libtorch_cuda.so` sits beside it, loads it with `RTLD_GLOBAL`
//! before the first tch call. Its static initialisers register PyTorch's CUDA hooks, after
//! which `tch::Cuda::is_available()` tells the truth. A binary built against the CPU libtorch
//! thus gets CUDA when `LD_LIBRARY_PATH` points at the `torch/lib` folder of a PyTorch 2.11.0
//! CUDA install.

use std::ffi::{CStr, CString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The libtorch version this build of tch expects.
pub const EXPECTED_LIBTORCH: &str = "2.11.0";

/// What happened when Graft looked for CUDA at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CudaLoad {
    /// `libtorch_cuda.so` was found beside the libtorch in use and loaded.
    Loaded(PathBuf),
    /// The libtorch in use has no `libtorch_cuda.so` beside it (a CPU build).
    NotPresent,
    /// It was there but could not be loaded (the message says why, e.g. a missing driver).
    Failed(String),
}

static CUDA_LOAD: OnceLock<CudaLoad> = OnceLock::new();

/// Load CUDA support if the libtorch in use has it. Call before any other tch call; later
/// calls return the first result.
pub fn init() -> &'static CudaLoad {
    CUDA_LOAD.get_or_init(|| {
        let load = load_cuda();
        match &load {
            CudaLoad::Loaded(path) => tracing::debug!(path = %path.display(), "CUDA support loaded from {}", path.display()),
            CudaLoad::NotPresent => tracing::debug!("the libtorch in use is a CPU build (no libtorch_cuda.so beside it)"),
            CudaLoad::Failed(why) => tracing::debug!(why = %why, "libtorch_cuda.so is present but failed to load: {why}"),
        }
        load
    })
}

fn load_cuda() -> CudaLoad {
    match libtorch_lib_dir() {
        None => CudaLoad::NotPresent,
        Some(dir) => {
            let cuda = dir.join("libtorch_cuda.so");
            if !cuda.exists() {
                return CudaLoad::NotPresent;
            }
            match dlopen_global(&cuda) {
                Ok(()) => CudaLoad::Loaded(cuda),
                Err(msg) => CudaLoad::Failed(msg),
            }
        }
    }
}

fn dlopen_global(path: &Path) -> std::result::Result<(), String> {
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: dlopen with a valid NUL-terminated path; the handle is deliberately kept open
    // for the life of the process (the library registers global hooks).
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if handle.is_null() {
        // SAFETY: dlerror returns a thread-local C string or null.
        let err = unsafe { libc::dlerror() };
        let msg = if err.is_null() {
            "dlopen failed".to_string()
        } else {
            // SAFETY: non-null pointer from dlerror is a valid C string.
            unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned()
        };
        return Err(msg);
    }
    Ok(())
}

/// The folder the process loaded `libtorch_cpu.so` from, if it is loaded.
pub fn libtorch_lib_dir() -> Option<PathBuf> {
    loaded_library_path("libtorch_cpu.so").and_then(|p| p.parent().map(Path::to_path_buf))
}

fn loaded_library_path(name: &str) -> Option<PathBuf> {
    struct Search<'a> {
        name: &'a str,
        found: Option<PathBuf>,
    }
    unsafe extern "C" fn visit(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes a valid info pointer and our `data` back to us.
        let search = unsafe { &mut *(data as *mut Search<'_>) };
        let name_ptr = unsafe { (*info).dlpi_name };
        if name_ptr.is_null() {
            return 0;
        }
        // SAFETY: dlpi_name is a NUL-terminated string owned by the loader.
        let path = unsafe { CStr::from_ptr(name_ptr) }.to_string_lossy();
        if Path::new(path.as_ref()).file_name().is_some_and(|f| f == search.name) {
            search.found = Some(PathBuf::from(path.as_ref()));
            return 1;
        }
        0
    }
    let mut search = Search { name, found: None };
    // SAFETY: the callback only reads loader-provided data and writes into `search`.
    unsafe {
        libc::dl_iterate_phdr(Some(visit), &mut search as *mut Search<'_> as *mut libc::c_void)
    };
    search.found.and_then(|p| p.canonicalize().ok().or(Some(p)))
}

/// The version of the libtorch whose libraries live in `lib_dir`, read from the files its
/// distributions carry: `build-version` (libtorch archives, Graft's CPU copy) or `version.py`
/// (a PyTorch Python install, where `lib_dir` is `torch/lib`).
pub fn libtorch_version(lib_dir: &Path) -> Option<String> {
    let root = lib_dir.parent()?;
    if let Ok(v) = std::fs::read_to_string(root.join("build-version")) {
        return Some(v.trim().to_string());
    }
    let py = std::fs::read_to_string(root.join("version.py")).ok()?;
    py.lines()
        .find_map(|l| l.strip_prefix("__version__ = "))
        .map(|v| v.trim().trim_matches(['\'', '"']).to_string())
}

/// Fail with a message that says which command to run when the libtorch in use is not the
/// version tch was built for.
pub fn check_libtorch() -> Result<()> {
    let dir = libtorch_lib_dir()
        .ok_or_else(|| Error::Libtorch { problem: "libtorch_cpu.so is not loaded".into() })?;
    match libtorch_version(&dir) {
        Some(v) if v.split('+').next() == Some(EXPECTED_LIBTORCH) => Ok(()),
        Some(v) => Err(Error::Libtorch {
            problem: format!(
                "libtorch {v} found at {}, but Graft is built for libtorch {EXPECTED_LIBTORCH}",
                dir.display()
            ),
        }),
        // A libtorch without version files: trust the link-time check torch-sys made.
        None => Ok(()),
    }
}

/// Where a run computes: `auto` (CUDA if available, else CPU), `cpu`, `cuda` or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda(Option<usize>),
}

impl FromStr for DeviceChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" | "gpu" => Ok(DeviceChoice::Cuda(None)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse::<usize>().ok())
                .map(|n| DeviceChoice::Cuda(Some(n)))
                .ok_or_else(|| Error::BadDevice(s.to_string())),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "auto"),
            DeviceChoice::Cpu => write!(f, "cpu"),
            DeviceChoice::Cuda(None) => write!(f, "cuda"),
            DeviceChoice::Cuda(Some(n)) => write!(f, "cuda:{n}"),
        }
    }
}

impl DeviceChoice {
    /// The spellings `--device` accepts, as help texts list them (`cuda:N` stands for
    /// `cuda:0`, `cuda:1`, …; `gpu` is also read as `cuda`).
    pub const SPELLINGS: [&'static str; 4] = ["auto", "cpu", "cuda", "cuda:N"];

    /// The tch device, or a clear error when CUDA is asked for and missing.
    pub fn resolve(self) -> Result<tch::Device> {
        let device = self.resolve_unlogged()?;
        tracing::debug!(requested = %self, device = %name(device), "device {self} resolved to {}", name(device));
        Ok(device)
    }

    fn resolve_unlogged(self) -> Result<tch::Device> {
        init();
        let available = tch::Cuda::is_available();
        match self {
            DeviceChoice::Cpu => Ok(tch::Device::Cpu),
            DeviceChoice::Auto if available => Ok(tch::Device::Cuda(0)),
            DeviceChoice::Auto => Ok(tch::Device::Cpu),
            DeviceChoice::Cuda(index) => {
                if !available {
                    return Err(Error::CudaUnavailable {
                        requested: self.to_string(),
                        why: cuda_unavailable_reason(),
                    });
                }
                let index = index.unwrap_or(0);
                let count = tch::Cuda::device_count() as usize;
                if index >= count {
                    return Err(Error::CudaUnavailable {
                        requested: self.to_string(),
                        why: format!("only {count} CUDA device(s) visible"),
                    });
                }
                Ok(tch::Device::Cuda(index))
            }
        }
    }
}

/// A device as `--device` spells it: `cpu`, `cuda:0`, … (never tch's Debug form `Cuda(0)`).
pub fn name(device: tch::Device) -> String {
    match device {
        tch::Device::Cpu => "cpu".into(),
        tch::Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_ascii_lowercase(),
    }
}

/// Why CUDA is not available, in words a user can act on.
pub fn cuda_unavailable_reason() -> String {
    match init() {
        CudaLoad::NotPresent => "the libtorch in use is a CPU build; point LD_LIBRARY_PATH at the torch/lib \
             folder of a PyTorch 2.11.0 CUDA install, or run scripts/setup.sh --cuda and rebuild"
            .into(),
        CudaLoad::Failed(msg) => format!("libtorch_cuda.so failed to load: {msg}"),
        CudaLoad::Loaded(_) => "libtorch_cuda.so is loaded but no CUDA device is visible (driver or CUDA_VISIBLE_DEVICES)".into(),
    }
}

/// Memory the system can give this process now, in bytes (Linux's `MemAvailable`); `None`
/// where it cannot be read.
pub fn available_memory() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Refuse an allocation of `bytes` for `what` that would not fit in the memory available
/// now, before it is attempted: libtorch's allocator panics (or the kernel's OOM killer ends
/// the process) on one that does not. Where available memory cannot be read, only sizes past
/// 2^63 bytes are refused.
pub fn check_memory(what: &str, bytes: u128) -> Result<()> {
    let available = available_memory().unwrap_or(1 << 63);
    if bytes > available {
        return Err(Error::TooLarge { what: what.to_string(), needed: bytes, available });
    }
    Ok(())
}

/// The most intra-op threads Graft starts, even when forced past the core count.
pub const MAX_THREADS: usize = 1024;

/// The logical cores this process may run on.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The intra-op thread count for a request on a machine with `cores` logical cores: `None`
/// means all of them; 0 is refused, and so is more than `cores` unless `force` (threads
/// beyond the cores only wait on each other at OpenMP's barriers: `--threads 100000` once
/// spawned over a thousand threads and buried a 2-core machine), and more than
/// [`MAX_THREADS`] always.
pub fn thread_count(requested: Option<usize>, cores: usize, force: bool) -> Result<usize> {
    let Some(n) = requested else { return Ok(cores.max(1)) };
    let limit = if force { MAX_THREADS } else { cores.clamp(1, MAX_THREADS) };
    if n == 0 || n > limit {
        let hint = if force || cores >= MAX_THREADS {
            String::new()
        } else {
            format!(" (this machine has {cores} logical cores; --force-threads allows up to {MAX_THREADS})")
        };
        return Err(Error::Invalid(format!(
            "threads must be between 1 and {limit}, got {n}{hint}"
        )));
    }
    Ok(n)
}

/// Set libtorch's intra-op thread count (see [`thread_count`] for what is accepted) and
/// return it.
pub fn set_threads(requested: Option<usize>, force: bool) -> Result<usize> {
    let n = thread_count(requested, available_cores(), force)?;
    tch::set_num_threads(n as i32);
    tracing::debug!(threads = n, "libtorch intra-op threads: {n}");
    Ok(n)
}

/// A note for the user when `threads` intra-op threads will share the cores with other work
/// (Linux; `None` elsewhere or when the cores are free).
///
/// libtorch's OpenMP threads meet at a barrier after every parallel operation and spin while
/// they wait: when another process takes a core away from one of them, every operation waits
/// for its time slice. Measured on the 2-core VM: pretraining steps 5-10x slower with 2
/// threads under a load of 2-3 than with 1 (8 steps/s against 90 alone).
///
/// Other work is counted as the runnable tasks `/proc/loadavg` reports right now, less this
/// process, at the least of five samples 10 ms apart (a job that holds a core shows in every
/// sample, a passing one not). The load *average* lags by a minute, so right after another
/// job ended it reported a busy machine that was idle (two threads then ran PPO 11% faster
/// than one).
pub fn contention_note(threads: usize) -> Option<String> {
    if threads <= 1 {
        return None;
    }
    let mut others = usize::MAX;
    for i in 0..5 {
        if i > 0 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let text = std::fs::read_to_string("/proc/loadavg").ok()?;
        let running: usize = text.split_whitespace().nth(3)?.split('/').next()?.parse().ok()?;
        others = others.min(running.saturating_sub(1));
    }
    contention_note_for(others, available_cores(), threads)
}

/// [`contention_note`] for `others` runnable tasks besides this process on `cores` cores: a
/// note when there is other work and `threads` would not fit beside it.
pub fn contention_note_for(others: usize, cores: usize, threads: usize) -> Option<String> {
    let busy = threads > 1 && others >= 1 && others + threads > cores;
    busy.then(|| {
        format!(
            "{others} other task(s) are running on this machine's {cores} cores and \
             libtorch will use {threads} threads; its threads wait for each other when one \
             loses its core, which can make training several times slower. --threads 1 (or \
             set_threads(1) in a script) avoids that."
        )
    })
}

/// Keep freed memory in the process instead of handing it back to the kernel after every
/// training step (glibc only; a no-op elsewhere).
///
/// libtorch frees and reallocates the same activation and gradient buffers every step. With
/// glibc's defaults, freeing the chunk at the top of the heap shrinks the heap (`brk`) once
/// more than 128 KiB is free there, and the next step's allocation grows it again and
/// page-faults the pages back in, zeroed by the kernel: measured on DQN with the RL
/// Baselines3 Zoo's CartPole settings, 3.2 s of 23 s of CPU time went to that (10,856 `brk`
/// calls in 3,000 gradient steps on MinAtar). This raises the trim threshold to 512 MiB (top
/// pad 64 MiB) and serves every allocation from the heap. glibc's largest mmap threshold is
/// 32 MiB, and above it each allocation is a fresh `mmap` whose pages the kernel faults in and
/// zeroes, then an `munmap` on free: a DrQ-v2 update (batch 256 of 9x84x84 frames, activations
/// of 55 MB and more) spent 57 s of system time against 71 s of user time in 20 updates that
/// way, and took 1.8x the wall time (130 s against 73 s; `benchmarks/RESULTS.md`, RL agents),
/// so mmap is switched off (`M_MMAP_MAX` 0). Setting any of these switches glibc's dynamic
/// threshold off. A user who tunes malloc through the environment (`MALLOC_*_` variables)
/// keeps their settings.
pub fn keep_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::vars_os()
            .any(|(k, _)| k.to_str().is_some_and(|k| k.starts_with("MALLOC_") && k.ends_with('_')))
        {
            return;
        }
        // SAFETY: `mallopt` only changes allocator parameters; called before other threads
        // allocate (from `main`), and glibc serialises it against allocations anyway.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_MMAP_MAX, 0);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
            libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        }
    }
}

/// One master seed and the seeds derived from it for each part of a run (torch, envs, data
/// order, …). Seeding happens here and only here, so a run is reproducible from one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeds {
    /// The seed the user gave.
    pub master: u64,
}

impl Seeds {
    /// Seed libtorch (CPU and every CUDA device) from `master` and return the seed source.
    pub fn seed_all(master: u64) -> Seeds {
        let seeds = Seeds { master };
        let torch_seed = seeds.derive("torch");
        tch::manual_seed(torch_seed as i64);
        if tch::Cuda::is_available() {
            tch::Cuda::manual_seed_all(torch_seed);
        }
        seeds
    }

    /// A seed for the named component, stable across runs and Graft versions: FNV-1a of the
    /// name mixed with the master seed through SplitMix64's finaliser.
    pub fn derive(&self, name: &str) -> u64 {
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for b in name.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01B3);
        }
        let mut z = h ^ self.master.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) & (i64::MAX as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_are_bounded_by_the_cores_unless_forced() {
        assert_eq!(thread_count(None, 2, false).unwrap(), 2);
        assert_eq!(thread_count(Some(2), 2, false).unwrap(), 2);
        let e = thread_count(Some(100_000), 2, false).unwrap_err().to_string();
        assert!(e.contains("between 1 and 2, got 100000") && e.contains("--force-threads"), "{e}");
        assert!(thread_count(Some(0), 2, false).is_err());
        assert_eq!(thread_count(Some(8), 2, true).unwrap(), 8);
        let e = thread_count(Some(100_000), 2, true).unwrap_err().to_string();
        assert!(e.contains("between 1 and 1024"), "{e}");
    }

    #[test]
    fn parses_device_strings() {
        assert_eq!("auto".parse::<DeviceChoice>().ok(), Some(DeviceChoice::Auto));
        assert_eq!("CPU".parse::<DeviceChoice>().ok(), Some(DeviceChoice::Cpu));
        assert_eq!("cuda".parse::<DeviceChoice>().ok(), Some(DeviceChoice::Cuda(None)));
        assert_eq!("cuda:3".parse::<DeviceChoice>().ok(), Some(DeviceChoice::Cuda(Some(3))));
        assert!(matches!("cuda:x".parse::<DeviceChoice>(), Err(Error::BadDevice(_))));
        assert!(matches!("tpu".parse::<DeviceChoice>(), Err(Error::BadDevice(_))));
    }

    #[test]
    fn contention_note_only_when_threads_would_share_busy_cores() {
        // One thread never waits for another; an idle machine has room.
        assert!(contention_note_for(3, 2, 1).is_none());
        assert!(contention_note_for(0, 2, 2).is_none());
        // Another job on one of two cores: two threads would share.
        let note = contention_note_for(1, 2, 2).unwrap();
        assert!(note.contains("1 other task(s)") && note.contains("--threads 1"), "{note}");
        // Room beside the other work on a bigger machine.
        assert!(contention_note_for(2, 16, 8).is_none());
        assert!(contention_note_for(10, 16, 8).is_some());
    }

    #[test]
    fn derived_seeds_are_stable_and_distinct() {
        let s = Seeds { master: 3 };
        assert_eq!(s.derive("envs"), Seeds { master: 3 }.derive("envs"));
        assert_ne!(s.derive("envs"), s.derive("data"));
        assert_ne!(s.derive("envs"), Seeds { master: 4 }.derive("envs"));
    }

    #[test]
    fn finds_the_loaded_libtorch_and_its_version() {
        // Any tch call loads libtorch_cpu.so.
        let _ = tch::Tensor::zeros([1], (tch::Kind::Float, tch::Device::Cpu));
        let dir = libtorch_lib_dir().expect("libtorch_cpu.so is loaded");
        assert!(dir.join("libtorch_cpu.so").exists());
        let version = libtorch_version(&dir).expect("provisioned libtorch carries its version");
        assert!(version.starts_with(EXPECTED_LIBTORCH), "{version}");
        assert!(check_libtorch().is_ok());
    }

    #[test]
    fn reads_a_python_install_version_file() {
        let tmp = std::env::temp_dir().join(format!("graft-version-{}", std::process::id()));
        std::fs::create_dir_all(tmp.join("lib")).unwrap();
        std::fs::write(tmp.join("version.py"), "__version__ = '2.11.0+cu130'\ngit_version = 'x'\n")
            .unwrap();
        assert_eq!(libtorch_version(&tmp.join("lib")).as_deref(), Some("2.11.0+cu130"));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
