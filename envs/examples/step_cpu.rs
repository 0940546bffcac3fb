//! Thread CPU time per `step_into` through `make` (`Box<dyn Env>`), for same-binary A/B
//! checks on a loaded machine, where wall-clock time is noisy: prints the best of `reps` runs
//! of `steps` steps, in nanoseconds per step. Also the driver for instruction counts:
//! `valgrind --tool=callgrind target/release/examples/step_cpu <id> <steps> 1`.
//!
//! Usage: `cargo run -p graft-envs --release --example step_cpu -- <id> [steps] [reps]`

use graft_envs::{make, ActionRef, EnvRng, Kwargs, Obs, Space};

fn thread_cpu_ns() -> u128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("step_cpu: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let id = args.get(1).map(String::as_str).unwrap_or("CartPole-v1");
    let steps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut env = make(id, &Kwargs::new()).map_err(|e| e.to_string())?;
    let n = match env.action_space() {
        Space::Discrete { n, .. } => *n,
        other => return Err(format!("{id}: a discrete action space is needed, got {other}")),
    };
    let mut rng = EnvRng::seed_from(0);
    let actions: Vec<i64> = (0..4096).map(|_| rng.below(n) as i64).collect();
    let mut obs = Obs::zeros(env.observation_space());
    let none = Kwargs::new();
    env.reset_into(Some(0), &none, obs.as_mut()).map_err(|e| e.to_string())?;
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t0 = thread_cpu_ns();
        for t in 0..steps {
            let out = env
                .step_into(ActionRef::Discrete(actions[t & 4095]), obs.as_mut())
                .map_err(|e| e.to_string())?;
            if out.terminated || out.truncated {
                env.reset_into(None, &none, obs.as_mut()).map_err(|e| e.to_string())?;
            }
        }
        std::hint::black_box(&obs);
        best = best.min((thread_cpu_ns() - t0) as f64 / steps as f64);
    }
    println!("{id}: {best:.2} ns/step (best of {reps} x {steps})");
    Ok(())
}
