//! `graft doctor`: what Graft runs on (versions, libtorch location, CUDA, threads), and a
//! short end-to-end training check that proves libtorch trains on the chosen device.

use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use crate::device::{self, CudaLoad, EXPECTED_LIBTORCH};
use crate::error::{Error, Result};

/// A CUDA device as the driver names it.
#[derive(Debug, Clone)]
pub struct GpuInfo {
    pub index: usize,
    pub name: String,
    pub memory_bytes: u64,
}

/// Everything `graft doctor` prints.
#[derive(Debug, Clone)]
pub struct Report {
    pub graft_version: &'static str,
    pub libtorch_dir: Option<PathBuf>,
    pub libtorch_version: Option<String>,
    pub cuda_load: CudaLoad,
    pub cuda_available: bool,
    pub gpus: Vec<GpuInfo>,
    pub cudnn_version: Option<i64>,
    pub cudart_version: Option<i64>,
    pub threads: i32,
    pub interop_threads: i32,
    pub mkl: bool,
    pub openmp: bool,
}

/// Gather the report. Loads CUDA support first if the libtorch in use has it.
pub fn report() -> Report {
    let cuda_load = device::init().clone();
    let libtorch_dir = device::libtorch_lib_dir();
    let libtorch_version = libtorch_dir.as_deref().and_then(device::libtorch_version);
    let cuda_available = tch::Cuda::is_available();
    let gpus =
        if cuda_available { gpu_names(tch::Cuda::device_count() as usize) } else { Vec::new() };
    Report {
        graft_version: env!("CARGO_PKG_VERSION"),
        libtorch_dir,
        libtorch_version,
        cuda_load,
        cuda_available,
        gpus,
        cudnn_version: (cuda_available && tch::Cuda::cudnn_is_available())
            .then(tch::utils::version_cudnn),
        cudart_version: cuda_available.then(tch::utils::version_cudart),
        threads: tch::get_num_threads(),
        interop_threads: tch::get_num_interop_threads(),
        mkl: tch::utils::has_mkl(),
        openmp: tch::utils::has_openmp(),
    }
}

fn fmt_cuda_version(v: i64) -> String {
    // cudart encodes 13.0 as 13000; cuDNN 9.10.2 as 91002.
    format!("{}.{}", v / 1000, (v % 1000) / 10)
}

fn fmt_cudnn_version(v: i64) -> String {
    format!("{}.{}.{}", v / 10000, (v / 100) % 100, v % 100)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "graft {}", self.graft_version)?;
        let version = self.libtorch_version.as_deref().unwrap_or("unknown (no version file)");
        let expected = match &self.libtorch_version {
            Some(v) if v.split('+').next() != Some(EXPECTED_LIBTORCH) => {
                format!(
                    "  MISMATCH: built for {EXPECTED_LIBTORCH}; run scripts/setup.sh and rebuild"
                )
            }
            _ => String::new(),
        };
        writeln!(f, "libtorch: {version}{expected}")?;
        match &self.libtorch_dir {
            Some(dir) => writeln!(f, "libtorch loaded from: {}", dir.display())?,
            None => writeln!(f, "libtorch loaded from: unknown")?,
        }
        if self.cuda_available {
            writeln!(f, "CUDA: available, {} device(s)", self.gpus.len().max(1))?;
            for g in &self.gpus {
                writeln!(
                    f,
                    "  cuda:{}: {} ({:.1} GiB)",
                    g.index,
                    g.name,
                    g.memory_bytes as f64 / (1u64 << 30) as f64
                )?;
            }
            if let Some(v) = self.cudart_version {
                writeln!(f, "CUDA runtime: {}", fmt_cuda_version(v))?;
            }
            match self.cudnn_version {
                Some(v) => writeln!(f, "cuDNN: {}", fmt_cudnn_version(v))?,
                None => writeln!(f, "cuDNN: not available")?,
            }
        } else {
            writeln!(f, "CUDA: not available ({})", device::cuda_unavailable_reason())?;
        }
        if let CudaLoad::Loaded(path) = &self.cuda_load {
            writeln!(f, "libtorch_cuda loaded from: {}", path.display())?;
        }
        writeln!(
            f,
            "threads: {} intra-op, {} inter-op (MKL: {}, OpenMP: {})",
            self.threads,
            self.interop_threads,
            yes(self.mkl),
            yes(self.openmp)
        )
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Names and memory of the CUDA devices, asked of the driver (libcuda) directly since tch
/// does not expose them. Empty if the driver cannot be asked.
fn gpu_names(count: usize) -> Vec<GpuInfo> {
    type CuInit = unsafe extern "C" fn(u32) -> c_int;
    type CuDeviceGet = unsafe extern "C" fn(*mut c_int, c_int) -> c_int;
    type CuDeviceGetName = unsafe extern "C" fn(*mut c_char, c_int, c_int) -> c_int;
    type CuDeviceTotalMem = unsafe extern "C" fn(*mut usize, c_int) -> c_int;
    let Ok(lib) = CString::new("libcuda.so.1") else { return Vec::new() };
    // SAFETY: dlopen/dlsym with valid C strings; the function types match the CUDA driver
    // API (cuda.h) and are only called when the symbols were found.
    unsafe {
        let handle = libc::dlopen(lib.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL);
        if handle.is_null() {
            return Vec::new();
        }
        let sym = |name: &str| {
            CString::new(name)
                .ok()
                .map(|n| libc::dlsym(handle, n.as_ptr()))
                .filter(|p| !p.is_null())
        };
        let (Some(init), Some(get), Some(name), Some(mem)) =
            (sym("cuInit"), sym("cuDeviceGet"), sym("cuDeviceGetName"), sym("cuDeviceTotalMem_v2"))
        else {
            return Vec::new();
        };
        let init: CuInit = std::mem::transmute(init);
        let get: CuDeviceGet = std::mem::transmute(get);
        let name_fn: CuDeviceGetName = std::mem::transmute(name);
        let mem_fn: CuDeviceTotalMem = std::mem::transmute(mem);
        if init(0) != 0 {
            return Vec::new();
        }
        (0..count)
            .filter_map(|i| {
                let mut dev: c_int = 0;
                if get(&mut dev, i as c_int) != 0 {
                    return None;
                }
                let mut buf = [0 as c_char; 256];
                if name_fn(buf.as_mut_ptr(), buf.len() as c_int, dev) != 0 {
                    return None;
                }
                let mut bytes: usize = 0;
                let _ = mem_fn(&mut bytes, dev);
                Some(GpuInfo {
                    index: i,
                    name: CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned(),
                    memory_bytes: bytes as u64,
                })
            })
            .collect()
    }
}

/// Result of [`train_check`].
#[derive(Debug, Clone)]
pub struct TrainCheck {
    pub device: Device,
    pub steps: usize,
    pub first_loss: f64,
    pub last_loss: f64,
    /// Median wall time of one optimisation step, after the first few (warm-up) steps.
    pub median_step_ms: f64,
    pub images_per_second: f64,
}

impl fmt::Display for TrainCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "training check on {}: small conv net, {} Adam steps of batch {BATCH} on 10-class 28x28 synthetic images\n  loss {:.4} -> {:.4} (decreasing: {}), {:.2} ms/step (median), {:.0} images/s",
            device::name(self.device),
            self.steps,
            self.first_loss,
            self.last_loss,
            yes(self.last_loss < self.first_loss),
            self.median_step_ms,
            self.images_per_second
        )
    }
}

const BATCH: i64 = 128;

/// Train a small conv net on a synthetic 10-class task (a fixed random template per class plus
/// noise) for `steps` Adam steps on `device`, and check that the loss falls to under half its
/// starting value. Proves end to end that libtorch builds graphs, backpropagates and updates
/// parameters on the device.
pub fn train_check(device: Device, steps: usize, seed: u64) -> Result<TrainCheck> {
    if steps < 50 {
        return Err(Error::Invalid(format!("training check needs at least 50 steps, got {steps}")));
    }
    tch::manual_seed(seed as i64);
    let vs = nn::VarStore::new(device);
    let p = vs.root();
    let conv = nn::ConvConfig { padding: 1, ..Default::default() };
    let net = nn::seq()
        .add(nn::conv2d(&p / "c1", 1, 16, 3, conv))
        .add_fn(|x| x.relu().max_pool2d_default(2)) // [B, 16, 14, 14]
        .add(nn::conv2d(&p / "c2", 16, 32, 3, conv))
        .add_fn(|x| x.relu().adaptive_avg_pool2d([4, 4]).flatten(1, -1)) // [B, 512]
        .add(nn::linear(&p / "fc", 32 * 16, 10, Default::default()));
    let mut opt = nn::Adam::default().build(&vs, 3e-3)?;
    let templates = Tensor::randn([10, 1, 28, 28], (Kind::Float, device));
    let mut losses = Vec::with_capacity(steps);
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let labels = Tensor::randint(10, [BATCH], (Kind::Int64, device));
        let images = templates.index_select(0, &labels)
            + Tensor::randn([BATCH, 1, 28, 28], (Kind::Float, device));
        let start = Instant::now();
        let loss = net.forward(&images).cross_entropy_for_logits(&labels);
        opt.backward_step(&loss);
        let value = loss.double_value(&[]); // synchronises with the device
        times.push(start.elapsed().as_secs_f64() * 1e3);
        if !value.is_finite() {
            return Err(Error::Diverged { step: losses.len(), loss: value });
        }
        losses.push(value);
    }
    let window = (steps / 10).max(1);
    let first_loss = losses[..window].iter().sum::<f64>() / window as f64;
    let last_loss = losses[steps - window..].iter().sum::<f64>() / window as f64;
    let mut timed: Vec<f64> = times[window.min(steps - 1)..].to_vec();
    timed.sort_by(f64::total_cmp);
    let median_step_ms = timed[timed.len() / 2];
    let check = TrainCheck {
        device,
        steps,
        first_loss,
        last_loss,
        median_step_ms,
        images_per_second: BATCH as f64 / (median_step_ms / 1e3),
    };
    // Losses are finite here (checked per step), so this comparison is total.
    if last_loss >= 0.5 * first_loss {
        return Err(Error::Invalid(format!(
            "training check failed: the loss did not fall enough\n{check}"
        )));
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_the_expected_libtorch_and_no_cuda_on_cpu_builds() {
        let r = report();
        assert_eq!(
            r.libtorch_version.as_deref().map(|v| v.starts_with(EXPECTED_LIBTORCH)),
            Some(true)
        );
        let text = r.to_string();
        assert!(text.contains("libtorch: 2.11.0"), "{text}");
        if !r.cuda_available {
            assert!(text.contains("CUDA: not available"), "{text}");
        }
    }

    #[test]
    fn training_check_loss_falls_on_cpu() {
        let check = train_check(Device::Cpu, 60, 0).expect("loss falls");
        assert!(check.last_loss < 0.5 * check.first_loss, "{check}");
    }

    #[test]
    fn training_check_refuses_tiny_budgets() {
        assert!(matches!(train_check(Device::Cpu, 20, 0), Err(Error::Invalid(_))));
    }
}
