//! Rendering rate of a MuJoCo environment: frames per second of `render_into` at 84x84 (the
//! usual pixel-RL size), one environment on one thread, after a warm-up frame. Each frame
//! follows a step, as in pixel-based training.
//!
//! ```bash
//! cargo run --release -p graft-envs --example render_rate -- HalfCheetah-v5 84 500
//! ```

use std::time::Instant;

use graft_envs::{make, Action, Env, Kwargs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let id = args.next().unwrap_or_else(|| "HalfCheetah-v5".into());
    let size: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(84);
    let frames: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(500);
    let mut env = make(&id, &Kwargs::new())?;
    env.reset(Some(0), &Kwargs::new())?;
    let n = env.action_space().shape().iter().product::<usize>();
    let action = Action::Continuous(vec![0.1; n]);
    let mut frame = vec![0u8; size as usize * size as usize * 3];
    env.render_into(size, size, &mut frame)?; // makes the GL context
    let start = Instant::now();
    for _ in 0..frames {
        let step = env.step(&action)?;
        if step.terminated || step.truncated {
            env.reset(None, &Kwargs::new())?;
        }
        env.render_into(size, size, &mut frame)?;
    }
    let secs = start.elapsed().as_secs_f64();
    let mean = frame.iter().map(|&b| b as f64).sum::<f64>() / frame.len() as f64;
    println!(
        "{id}: {frames} steps + {size}x{size} frames in {secs:.3} s = {:.1} frames/s (last frame mean {mean:.1})",
        frames as f64 / secs
    );
    Ok(())
}
