//! The torchrun environment contract: how a worker process learns where the rendezvous is
//! and who it is. Graft's launcher ([`super::launch`](fn@super::launch)) sets exactly these variables, and so
//! do `torchrun`, SLURM wrappers and Kubernetes operators for multi-node jobs, so a Graft
//! worker runs under any of them.
//!
//! | variable | meaning |
//! |---|---|
//! | `MASTER_ADDR` | host of rank 0, which serves the TCPStore |
//! | `MASTER_PORT` | its port |
//! | `WORLD_SIZE` | number of processes in the job |
//! | `RANK` | this process's global rank, `0..WORLD_SIZE` |
//! | `LOCAL_RANK` | its rank on this machine (picks the GPU); defaults to `RANK` |
//! | `GRAFT_DIST_TIMEOUT_SECS` | Graft's own: rendezvous and collective timeout (default 300) |
//! | `GLOO_SOCKET_IFNAME` | PyTorch's: the network interface Gloo binds to |
//! | `TORCH_CPP_LOG_LEVEL` | PyTorch's: libtorch's C++ log level (Graft otherwise keeps c10d's retry logs quiet) |

use std::time::Duration;

use crate::error::{Error, Result};

/// Timeout for rendezvous and collectives when `GRAFT_DIST_TIMEOUT_SECS` is not set: long
/// enough for a slow rank to load data, short enough that a dead one is noticed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Where the rendezvous is and which rank this process is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistEnv {
    /// Host (name or address) of rank 0, which serves the TCPStore.
    pub master_addr: String,
    /// Port of rank 0's TCPStore.
    pub master_port: u16,
    /// Number of processes in the job (at least 1).
    pub world_size: usize,
    /// This process's rank, below `world_size`.
    pub rank: usize,
    /// This process's rank on its machine (the CUDA device index under NCCL).
    pub local_rank: usize,
    /// How long rendezvous and each collective may wait for the other ranks.
    pub timeout: Duration,
    /// Network interface for Gloo (`GLOO_SOCKET_IFNAME`), if set.
    pub gloo_ifname: Option<String>,
}

impl DistEnv {
    /// Read the torchrun variables of this process's environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Read the torchrun variables through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let required = |key: &str| {
            get(key).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                bad(format!(
                    "{key} is not set; run under `graft launch --nproc N -- ...` or torchrun, \
                     or set MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK"
                ))
            })
        };
        let number = |key: &str, value: String| -> Result<usize> {
            value
                .trim()
                .parse::<usize>()
                .map_err(|_| bad(format!("{key}='{value}' is not a non-negative integer")))
        };
        let master_addr = required("MASTER_ADDR")?.trim().to_string();
        let port_text = required("MASTER_PORT")?;
        let master_port = match port_text.trim().parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(bad(format!("MASTER_PORT='{port_text}' is not a port (1..65535)"))),
        };
        let world_size = number("WORLD_SIZE", required("WORLD_SIZE")?)?;
        if world_size == 0 {
            return Err(bad("WORLD_SIZE=0: a job needs at least one process".into()));
        }
        let rank = number("RANK", required("RANK")?)?;
        if rank >= world_size {
            return Err(bad(format!(
                "RANK={rank} is outside WORLD_SIZE={world_size} (ranks are 0..{})",
                world_size - 1
            )));
        }
        let local_rank = match get("LOCAL_RANK").filter(|v| !v.trim().is_empty()) {
            Some(v) => number("LOCAL_RANK", v)?,
            None => rank,
        };
        let timeout = match get("GRAFT_DIST_TIMEOUT_SECS").filter(|v| !v.trim().is_empty()) {
            Some(v) => match v.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s),
                _ => {
                    return Err(bad(format!(
                        "GRAFT_DIST_TIMEOUT_SECS='{v}' is not a positive number of seconds"
                    )))
                }
            },
            None => DEFAULT_TIMEOUT,
        };
        let gloo_ifname = get("GLOO_SOCKET_IFNAME").filter(|v| !v.trim().is_empty());
        Ok(DistEnv { master_addr, master_port, world_size, rank, local_rank, timeout, gloo_ifname })
    }

    /// Whether this process is rank 0: it serves the store, logs and writes checkpoints.
    pub fn is_master(&self) -> bool {
        self.rank == 0
    }

    /// Whether the master is this machine's loopback, i.e. every rank runs here.
    pub fn is_loopback(&self) -> bool {
        let a = self.master_addr.as_str();
        a == "localhost" || a == "::1" || a.starts_with("127.")
    }

    /// The network device Gloo binds to, as the shim spells it: the `GLOO_SOCKET_IFNAME`
    /// interface; loopback when the master is on loopback (a single-machine job never
    /// touches the network); otherwise this machine's hostname, as PyTorch does.
    pub(crate) fn gloo_device(&self) -> String {
        match &self.gloo_ifname {
            Some(iface) => format!("iface:{iface}"),
            None if self.is_loopback() => "host:127.0.0.1".to_string(),
            None => String::new(),
        }
    }
}

fn bad(msg: String) -> Error {
    Error::Distributed(format!("bad distributed environment: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Result<DistEnv> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        DistEnv::from_lookup(|k| map.get(k).cloned())
    }

    const OK: [(&str, &str); 4] = [
        ("MASTER_ADDR", "127.0.0.1"),
        ("MASTER_PORT", "29500"),
        ("WORLD_SIZE", "2"),
        ("RANK", "1"),
    ];

    fn with(over: &[(&'static str, &'static str)]) -> Result<DistEnv> {
        let mut pairs: Vec<(&str, &str)> =
            OK.iter().filter(|(k, _)| !over.iter().any(|(o, _)| o == k)).copied().collect();
        pairs.extend(over.iter().filter(|(_, v)| !v.is_empty()).copied());
        env(&pairs)
    }

    fn message(r: Result<DistEnv>) -> String {
        r.expect_err("expected an error").to_string()
    }

    #[test]
    fn reads_the_torchrun_contract() {
        let e = with(&[("LOCAL_RANK", "0"), ("GRAFT_DIST_TIMEOUT_SECS", "2.5")]).unwrap();
        assert_eq!((e.world_size, e.rank, e.local_rank, e.master_port), (2, 1, 0, 29500));
        assert_eq!(e.timeout, Duration::from_millis(2500));
        assert!(e.is_loopback() && !e.is_master());
        assert_eq!(e.gloo_device(), "host:127.0.0.1");
        let d = with(&[]).unwrap();
        assert_eq!((d.local_rank, d.timeout), (1, DEFAULT_TIMEOUT));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert!(message(with(&[("WORLD_SIZE", "0")])).contains("WORLD_SIZE=0"));
        assert!(message(with(&[("RANK", "2")])).contains("RANK=2 is outside WORLD_SIZE=2"));
        assert!(message(with(&[("RANK", "-1")])).contains("RANK='-1'"));
        assert!(message(with(&[("MASTER_PORT", "70000")])).contains("MASTER_PORT='70000'"));
        assert!(message(with(&[("MASTER_PORT", "0")])).contains("MASTER_PORT='0'"));
        assert!(message(with(&[("MASTER_ADDR", "")])).contains("MASTER_ADDR is not set"));
        assert!(message(with(&[("GRAFT_DIST_TIMEOUT_SECS", "0")])).contains("GRAFT_DIST"));
    }

    #[test]
    fn gloo_device_follows_ifname_and_master() {
        let e = with(&[("GLOO_SOCKET_IFNAME", "eth0")]).unwrap();
        assert_eq!(e.gloo_device(), "iface:eth0");
        let e = with(&[("MASTER_ADDR", "node0.cluster")]).unwrap();
        assert_eq!(e.gloo_device(), "");
    }
}
