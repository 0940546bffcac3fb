//! Spawning N local worker processes with the torchrun variables set — Graft's counterpart
//! of `torchrun --standalone --nproc-per-node N`: a free port on 127.0.0.1 for the TCPStore,
//! `RANK`/`LOCAL_RANK` 0..N, each worker's output forwarded line by line with a `[rank k]`
//! prefix, and fail-fast: when one worker dies, the others are killed and the launch fails
//! naming the rank and how it ended (the survivors would otherwise wait for the dead one
//! until their timeout). Workers die with the launcher (`PR_SET_PDEATHSIG`), so a killed
//! launch leaves no orphans.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::Duration;

use crate::error::{Error, Result};

/// What to launch and how.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// Number of worker processes (ranks 0..nproc).
    pub nproc: usize,
    /// The worker program; the current executable by default.
    pub program: Option<PathBuf>,
    /// Its arguments (the same for every rank).
    pub args: Vec<OsString>,
    /// TCPStore port on 127.0.0.1; a free one when `None`.
    pub master_port: Option<u16>,
    /// Extra environment variables for every worker.
    pub env: Vec<(OsString, OsString)>,
}

impl LaunchOptions {
    /// `nproc` copies of the current executable with `args`.
    pub fn new(nproc: usize, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        LaunchOptions {
            nproc,
            program: None,
            args: args.into_iter().map(Into::into).collect(),
            master_port: None,
            env: Vec::new(),
        }
    }
}

/// Run `nproc` local workers of the current executable with `args` and wait for all of them;
/// fails as soon as one fails. `graft launch` and `graft run --nproc N` call it.
pub fn launch(nproc: usize, args: impl IntoIterator<Item = impl Into<OsString>>) -> Result<()> {
    launch_with(&LaunchOptions::new(nproc, args))
}

/// [`launch`] with every option.
pub fn launch_with(opts: &LaunchOptions) -> Result<()> {
    if opts.nproc == 0 {
        return Err(Error::Invalid("--nproc must be at least 1".into()));
    }
    let program = match &opts.program {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| {
            Error::Distributed(format!("cannot find the current executable to launch: {e}"))
        })?,
    };
    let port = match opts.master_port {
        Some(p) => p,
        None => free_port()?,
    };
    let mut workers: Vec<Worker> = Vec::with_capacity(opts.nproc);
    for rank in 0..opts.nproc {
        match spawn(&program, opts, port, rank) {
            Ok(w) => workers.push(w),
            Err(e) => {
                kill_all(&mut workers);
                return Err(e);
            }
        }
    }
    let result = supervise(&mut workers);
    for w in workers.iter_mut() {
        for t in w.forwarders.drain(..) {
            let _ = t.join();
        }
    }
    result
}

struct Worker {
    rank: usize,
    child: Child,
    forwarders: Vec<thread::JoinHandle<()>>,
}

fn spawn(program: &PathBuf, opts: &LaunchOptions, port: u16, rank: usize) -> Result<Worker> {
    let mut cmd = Command::new(program);
    cmd.args(&opts.args)
        .env("MASTER_ADDR", "127.0.0.1")
        .env("MASTER_PORT", port.to_string())
        .env("WORLD_SIZE", opts.nproc.to_string())
        .env("RANK", rank.to_string())
        .env("LOCAL_RANK", rank.to_string())
        .env("LOCAL_WORLD_SIZE", opts.nproc.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    // Workers must not outlive the launcher (killed by a scheduler, say): the kernel sends
    // them SIGKILL when it goes.
    // SAFETY: prctl is async-signal-safe and touches only the child's own process state.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        Error::Distributed(format!("cannot start rank {rank} ({}): {e}", program.display()))
    })?;
    let mut forwarders = Vec::new();
    if let Some(out) = child.stdout.take() {
        forwarders.push(forward(out, rank, false));
    }
    if let Some(err) = child.stderr.take() {
        forwarders.push(forward(err, rank, true));
    }
    Ok(Worker { rank, child, forwarders })
}

/// Copy a worker's stream to ours line by line, each line prefixed with its rank (whole
/// lines, so ranks never interleave within a line).
fn forward(
    stream: impl Read + Send + 'static,
    rank: usize,
    to_stderr: bool,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if !line.ends_with(b"\n") {
                        line.push(b'\n');
                    }
                    let mut text = format!("[rank {rank}] ").into_bytes();
                    text.extend_from_slice(&line);
                    // A closed stdout (`| head`) must not kill the launcher mid-supervision.
                    let _ = if to_stderr {
                        std::io::stderr().lock().write_all(&text)
                    } else {
                        std::io::stdout().lock().write_all(&text)
                    };
                }
            }
        }
    })
}

/// Poll the workers until all succeed or one fails; on failure, kill the rest.
fn supervise(workers: &mut [Worker]) -> Result<()> {
    let mut done = vec![false; workers.len()];
    loop {
        for (i, w) in workers.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            let status = w
                .child
                .try_wait()
                .map_err(|e| Error::Distributed(format!("cannot watch rank {}: {e}", w.rank)))?;
            if let Some(status) = status {
                done[i] = true;
                if !status.success() {
                    let rank = w.rank;
                    let others = kill_all(workers);
                    return Err(Error::Distributed(format!(
                        "rank {rank} {}; stopped the other {others} running rank(s)",
                        describe(status)
                    )));
                }
            }
        }
        if done.iter().all(|d| *d) {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Kill and reap every worker still running; returns how many there were.
fn kill_all(workers: &mut [Worker]) -> usize {
    let mut killed = 0;
    for w in workers.iter_mut() {
        if matches!(w.child.try_wait(), Ok(None)) {
            let _ = w.child.kill();
            killed += 1;
        }
        let _ = w.child.wait();
    }
    killed
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "ended abnormally".to_string(),
    }
}

/// A port on 127.0.0.1 that was free a moment ago (the OS picks it; the TCPStore binds it
/// again right after, which leaves only a tiny window for another process to take it).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Distributed(format!("cannot find a free port on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Distributed(format!("cannot read the free port: {e}")))?
        .port();
    Ok(port)
}
