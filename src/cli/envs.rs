//! `graft envs`: list the registered environments and render a frame of one.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use graft::envs::{registry, Env, EnvRng, Kwargs, Value};
use graft::{Error, Result};

#[derive(Subcommand)]
pub enum EnvsCommand {
    /// List the registered environment ids with their spaces and limits.
    List,
    /// Render one RGB frame of an environment to a PNG file.
    Render {
        /// Environment id, e.g. CartPole-v1 or MinAtar/Breakout-v1.
        id: String,
        /// Reset seed (the random actions of --steps derive from it too).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Random steps to take before rendering (stops early if the episode ends).
        #[arg(long, default_value_t = 0)]
        steps: usize,
        /// Frame size WIDTHxHEIGHT for the small-frame path (default: Gymnasium's full size).
        #[arg(long)]
        size: Option<String>,
        /// Keyword arguments for the environment, e.g. --kwarg g=9.81 (repeatable).
        #[arg(long = "kwarg", value_name = "KEY=VALUE")]
        kwargs: Vec<String>,
        /// Output PNG path.
        #[arg(short, long, visible_alias = "out")]
        output: PathBuf,
    },
}

pub fn run(cmd: EnvsCommand) -> Result<()> {
    match cmd {
        EnvsCommand::List => list(),
        EnvsCommand::Render { id, seed, steps, size, kwargs, output } => {
            render(&id, seed, steps, size.as_deref(), &parse_kwargs(&kwargs)?, &output)
        }
    }
}

/// Every registered id with its spaces and limits. An id whose environment cannot be built
/// here (MuJoCo not provisioned, say) is listed with the reason instead of its spaces, so one
/// missing library does not hide the rest of the list.
fn list() -> Result<()> {
    for spec in registry::registered() {
        let limit = spec.max_episode_steps.map_or("none".to_string(), |n| n.to_string());
        let threshold = spec.reward_threshold.map_or("none".to_string(), |r| r.to_string());
        println!("{}", spec.id);
        match registry::make(&spec.id, &Kwargs::new()) {
            Ok(env) => {
                println!("  observation: {}", env.observation_space());
                println!("  action:      {}", env.action_space());
            }
            Err(e) => println!("  unavailable: {e}"),
        }
        println!("  max_episode_steps: {limit}, reward_threshold: {threshold}");
    }
    Ok(())
}

/// `key=value` pairs into kwargs: `true`/`false` become bools, numbers ints or floats, the
/// rest strings.
pub fn parse_kwargs(pairs: &[String]) -> Result<Kwargs> {
    let mut kwargs = Kwargs::new();
    for pair in pairs {
        let (key, raw) = pair
            .split_once('=')
            .ok_or_else(|| Error::Invalid(format!("--kwarg '{pair}': expected KEY=VALUE")))?;
        let value = match raw {
            "true" | "True" => Value::Bool(true),
            "false" | "False" => Value::Bool(false),
            _ => raw
                .parse::<i64>()
                .map(Value::Int)
                .or_else(|_| raw.parse::<f64>().map(Value::Float))
                .unwrap_or_else(|_| Value::Str(raw.to_string())),
        };
        kwargs.insert(key.trim().to_string(), value);
    }
    Ok(kwargs)
}

fn parse_size(size: &str) -> Result<(u32, u32)> {
    let bad = || Error::Invalid(format!("--size '{size}': expected WIDTHxHEIGHT, e.g. 84x84"));
    let (w, h) = size.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h) = (w.parse::<u32>().map_err(|_| bad())?, h.parse::<u32>().map_err(|_| bad())?);
    if w == 0 || h == 0 || w > 8192 || h > 8192 {
        return Err(bad());
    }
    Ok((w, h))
}

fn render(
    id: &str,
    seed: u64,
    steps: usize,
    size: Option<&str>,
    kwargs: &Kwargs,
    output: &Path,
) -> Result<()> {
    let size = size.map(parse_size).transpose()?;
    let mut env = registry::make(id, kwargs)?;
    env.reset(Some(seed), &Kwargs::new())?;
    let mut rng = EnvRng::seed_from(seed ^ 0x5EED_F00D);
    for _ in 0..steps {
        let action = env.action_space().sample_action(&mut rng)?;
        let step = env.step(&action)?;
        if step.terminated || step.truncated {
            break;
        }
    }
    let frame = match size {
        None => env.render()?,
        Some((w, h)) => {
            let mut buf = vec![0u8; w as usize * h as usize * 3];
            env.render_into(w, h, &mut buf)?;
            image::RgbImage::from_raw(w, h, buf).ok_or_else(|| {
                Error::Invalid(format!("{id}: frame buffer does not match {w}x{h}"))
            })?
        }
    };
    save_png_atomically(&frame, output)?;
    println!("{id}: {}x{} frame written to {}", frame.width(), frame.height(), output.display());
    Ok(())
}

/// Write a PNG next to its destination, then rename it into place: an interrupted run never
/// leaves a truncated image under the requested name.
pub fn save_png_atomically(frame: &image::RgbImage, output: &Path) -> Result<()> {
    if output.is_dir() {
        return Err(Error::Invalid(format!(
            "{}: is a directory; give a file name ending in .png",
            output.display()
        )));
    }
    let dir = output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::Invalid(format!(
            "{}: folder {} does not exist",
            output.display(),
            dir.display()
        )));
    }
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = frame
        .save_with_format(&tmp, image::ImageFormat::Png)
        .map_err(Error::from)
        .and_then(|()| std::fs::rename(&tmp, output).map_err(|e| Error::io(output, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
