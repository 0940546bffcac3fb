//! A persistent pool of worker threads for [`VectorEnv`](super::VectorEnv)'s threaded mode.
//!
//! Why not rayon: a vector step is one fork-join of a few equal blocks, repeated thousands of
//! times a second. `rayon::ThreadPool::install` from the learner's thread parks that thread
//! and wakes workers through the OS on every step, and the learner's core sits idle while
//! they work. On a machine shared with other jobs each of those wake-ups waits for a time
//! slice, so two threads stepped MuJoCo no faster than one (measured: HalfCheetah-v5, 8 envs,
//! 13.8k steps/s on 2 threads against 14.7k on 1). Here the calling thread works too,
//! `threads - 1` workers join it, and a worker spins for a short while after a job before it
//! parks, so back-to-back steps cost no system call (EnvPool's workers spin the same way).
//! The vector env hands out its sub-envs in chunks that the threads claim one at a time.
//!
//! Each chunk is stepped by exactly one thread and writes only its own slots, so the pool
//! changes no result: a threaded batch is bit-identical to a sequential one.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long an idle worker spins before it parks: longer than the gap between two steps of
/// a tight loop, short enough not to burn a core while a learner runs its network.
const SPIN: Duration = Duration::from_micros(100);

/// A job: called once per thread with the thread's block index.
type Job = dyn Fn(usize) + Sync;

/// A job with its lifetime erased; see [`WorkerPool::run`] for why that is sound.
#[derive(Clone, Copy)]
struct JobPtr(*const Job);

// SAFETY: the pointee is `Sync` (shared by reference between threads is what it is for), and
// `run` keeps it alive until every worker has finished with it.
unsafe impl Send for JobPtr {}

struct Shared {
    /// Bumped once per `run`; a worker runs the job when it sees a new value.
    epoch: AtomicU64,
    /// Workers done with the current epoch's job.
    done: AtomicUsize,
    job: Mutex<Option<JobPtr>>,
    /// The first panic of a worker's block, re-raised on the calling thread.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    shutdown: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Blocks run under catch_unwind, so no panic happens while these locks are held.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `threads - 1` worker threads; the caller of [`run`](Self::run) is thread 0.
pub(crate) struct WorkerPool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// A pool for `threads` blocks (at least 2: one block needs no pool).
    pub fn new(threads: usize) -> std::io::Result<WorkerPool> {
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            done: AtomicUsize::new(0),
            job: Mutex::new(None),
            panic: Mutex::new(None),
            shutdown: AtomicBool::new(false),
        });
        let mut pool = WorkerPool { shared, workers: Vec::new() };
        for index in 1..threads.max(2) {
            let shared = Arc::clone(&pool.shared);
            let handle = thread::Builder::new()
                .name(format!("graft-vector-{index}"))
                .spawn(move || worker(&shared, index))?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Threads taking part in a job, the caller included.
    #[cfg(test)]
    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Call `job(k)` for every block `k` in `0..threads()`: block 0 on the calling thread,
    /// the others on the workers; return when all have finished. A panic in any block is
    /// re-raised here after every block has finished.
    pub fn run(&self, job: &(dyn Fn(usize) + Sync + '_)) {
        let ptr: *const (dyn Fn(usize) + Sync + '_) = job;
        // SAFETY: only the lifetime changes. The workers dereference the pointer between the
        // epoch bump below and their `done` increment, and this function does not return (nor
        // unwind: `Wait` waits in its drop) before `done` counts every worker, after which the
        // pointer is cleared; so no worker touches `job` after it is gone.
        let ptr: *const Job = unsafe { std::mem::transmute(ptr) };
        *lock(&self.shared.job) = Some(JobPtr(ptr));
        // A payload left by a run whose own block 0 panicked first.
        *lock(&self.shared.panic) = None;
        // Every worker finished the previous epoch (the last `Wait`), so none increments `done`
        // between this store and the bump that publishes it.
        self.shared.done.store(0, Ordering::Relaxed);
        self.shared.epoch.fetch_add(1, Ordering::Release);
        for w in &self.workers {
            // Costs no system call unless the worker is parked.
            w.thread().unpark();
        }
        let wait = Wait { shared: &self.shared, workers: self.workers.len() };
        job(0);
        drop(wait);
        if let Some(payload) = lock(&self.shared.panic).take() {
            resume_unwind(payload);
        }
    }
}

/// Waits for every worker to finish the current job, even while unwinding.
struct Wait<'a> {
    shared: &'a Shared,
    workers: usize,
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let start = Instant::now();
        let mut spins = 0u32;
        while self.shared.done.load(Ordering::Acquire) < self.workers {
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                thread::yield_now();
            }
        }
        *lock(&self.shared.job) = None;
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        for w in &self.workers {
            w.thread().unpark();
        }
        for w in self.workers.drain(..) {
            // A worker catches its blocks' panics, so it cannot have panicked itself.
            let _ = w.join();
        }
    }
}

fn worker(shared: &Shared, index: usize) {
    let mut seen = 0u64;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            if shared.shutdown.load(Ordering::Acquire) {
                return;
            }
            let epoch = shared.epoch.load(Ordering::Acquire);
            if epoch != seen {
                seen = epoch;
                break;
            }
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || start.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                // `run` unparks after bumping the epoch; an unpark that comes first makes this
                // return at once, and the loop re-reads the epoch either way.
                thread::park();
            }
        }
        let job = *lock(&shared.job);
        if let Some(JobPtr(job)) = job {
            // SAFETY: `run` set this pointer before the epoch this worker just saw and keeps
            // the job alive until this worker's `done` increment below (see `run`).
            let job = unsafe { &*job };
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job(index))) {
                lock(&shared.panic).get_or_insert(payload);
            }
        }
        shared.done.fetch_add(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_runs_once_per_run() {
        let pool = WorkerPool::new(3).unwrap();
        assert_eq!(pool.threads(), 3);
        let counts: Vec<AtomicUsize> = (0..3).map(|_| AtomicUsize::new(0)).collect();
        for _ in 0..1000 {
            pool.run(&|k| {
                counts[k].fetch_add(1, Ordering::Relaxed);
            });
        }
        let counts: Vec<usize> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        assert_eq!(counts, [1000, 1000, 1000]);
    }

    #[test]
    fn a_worker_panic_reaches_the_caller_and_the_pool_goes_on() {
        let pool = WorkerPool::new(2).unwrap();
        let hit = catch_unwind(AssertUnwindSafe(|| pool.run(&|k| assert!(k != 1, "block 1"))));
        assert!(hit.is_err());
        let ran = AtomicUsize::new(0);
        pool.run(&|_| {
            ran.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(ran.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn parked_workers_wake() {
        let pool = WorkerPool::new(2).unwrap();
        for _ in 0..3 {
            thread::sleep(Duration::from_millis(5)); // past SPIN: the worker parks
            let ran = AtomicUsize::new(0);
            pool.run(&|_| {
                ran.fetch_add(1, Ordering::Relaxed);
            });
            assert_eq!(ran.load(Ordering::Relaxed), 2);
        }
    }
}
