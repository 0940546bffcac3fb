//! MinAtar's ids: [`specs`] (the registrations minatar makes with Gymnasium), [`make`] (the
//! env for an id) and [`registrations`] (the entries of Graft's registry).

use super::{Asterix, Breakout, Freeway, MinAtar, MinAtarConfig, Seaquest, SpaceInvaders};
use crate::env::{Env, Kwargs};
use crate::error::{EnvError, Result};
use crate::registry::Registration;
use crate::spec::EnvSpec;

/// The games, by the name used in ids.
const GAMES: [&str; 5] = ["Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders"];

/// The registrations minatar 1.0.15 makes with Gymnasium: `MinAtar/<Game>-v0` (all six
/// actions) and `MinAtar/<Game>-v1` (the minimal action set), with no step limit.
pub fn specs() -> Vec<EnvSpec> {
    let mut out = Vec::with_capacity(GAMES.len() * 2);
    for game in GAMES {
        for (version, minimal) in [("v0", false), ("v1", true)] {
            let kwargs =
                MinAtarConfig { use_minimal_action_set: minimal, ..Default::default() }.to_kwargs();
            out.push(EnvSpec {
                id: format!("MinAtar/{game}-{version}"),
                max_episode_steps: None,
                reward_threshold: None,
                nondeterministic: false,
                kwargs,
            });
        }
    }
    out
}

/// Build the MinAtar environment registered as `id` (see [`specs`]), with keyword arguments
/// over the registration's defaults: `sticky_action_prob` (0.1), `difficulty_ramping` (true),
/// `use_minimal_action_set` (true for `-v1`, false for `-v0`), `channels_first` (false: the
/// observation is `[10, 10, C]` like minatar's `state()`; true gives `[C, 10, 10]`) and
/// `render_cell_px` (16: pixels per cell side in `render()`). `render_mode` and
/// `display_time`, which minatar's Gymnasium class takes, are accepted and ignored.
pub fn make(id: &str, kwargs: &Kwargs) -> Result<Box<dyn Env>> {
    let rest = id.strip_prefix("MinAtar/").ok_or_else(|| unknown(id))?;
    let (game, version) = rest.rsplit_once('-').ok_or_else(|| unknown(id))?;
    let minimal = match version {
        "v0" => false,
        "v1" => true,
        _ => return Err(unknown(id)),
    };
    let mut config = MinAtarConfig { use_minimal_action_set: minimal, ..Default::default() };
    config.apply_kwargs(id, kwargs)?;
    Ok(match game {
        "Asterix" => Box::new(MinAtar::<Asterix>::new(id, config)?),
        "Breakout" => Box::new(MinAtar::<Breakout>::new(id, config)?),
        "Freeway" => Box::new(MinAtar::<Freeway>::new(id, config)?),
        "Seaquest" => Box::new(MinAtar::<Seaquest>::new(id, config)?),
        "SpaceInvaders" => Box::new(MinAtar::<SpaceInvaders>::new(id, config)?),
        _ => return Err(unknown(id)),
    })
}

/// The registry entries for [`specs`]' ids (no step limit), for `registry.rs`'s table:
/// `all.extend(crate::minatar::registrations());`.
pub fn registrations() -> Vec<Registration> {
    macro_rules! entry {
        ($id:literal) => {
            Registration {
                id: $id,
                max_episode_steps: None,
                reward_threshold: None,
                nondeterministic: false,
                make: |_, kw| make($id, kw),
            }
        };
    }
    vec![
        entry!("MinAtar/Asterix-v0"),
        entry!("MinAtar/Asterix-v1"),
        entry!("MinAtar/Breakout-v0"),
        entry!("MinAtar/Breakout-v1"),
        entry!("MinAtar/Freeway-v0"),
        entry!("MinAtar/Freeway-v1"),
        entry!("MinAtar/Seaquest-v0"),
        entry!("MinAtar/Seaquest-v1"),
        entry!("MinAtar/SpaceInvaders-v0"),
        entry!("MinAtar/SpaceInvaders-v1"),
    ]
}

fn unknown(id: &str) -> EnvError {
    EnvError::UnknownEnv {
        id: id.to_string(),
        known: specs().iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", "),
    }
}
