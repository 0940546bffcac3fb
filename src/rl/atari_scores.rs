//! Human-normalised Atari scores: `(score − random) / (human − random)`, the measure the
//! Atari 100k benchmark reports (Kaiser et al. 2020, "Model-Based Reinforcement Learning for
//! Atari", <https://arxiv.org/abs/1903.00374>; Agarwal et al. 2021, "Deep Reinforcement
//! Learning at the Edge of the Statistical Precipice", <https://arxiv.org/abs/2108.13264>).
//! 0 is a uniformly random policy, 1 a human tester. The reference scores of the benchmark's 26
//! games are the published ones (Mnih et al. 2015 and its successors; as Dopamine's
//! `labs/atari_100k/normalization_utils.py` lists them).

/// `(game, random score, human score)` for the 26 games of Atari 100k, by ALE game name.
pub const ATARI_100K: [(&str, f64, f64); 26] = [
    ("Alien", 227.8, 7127.7),
    ("Amidar", 5.8, 1719.5),
    ("Assault", 222.4, 742.0),
    ("Asterix", 210.0, 8503.3),
    ("BankHeist", 14.2, 753.1),
    ("BattleZone", 2360.0, 37187.5),
    ("Boxing", 0.1, 12.1),
    ("Breakout", 1.7, 30.5),
    ("ChopperCommand", 811.0, 7387.8),
    ("CrazyClimber", 10780.5, 35829.4),
    ("DemonAttack", 152.1, 1971.0),
    ("Freeway", 0.0, 29.6),
    ("Frostbite", 65.2, 4334.7),
    ("Gopher", 257.6, 2412.5),
    ("Hero", 1027.0, 30826.4),
    ("Jamesbond", 29.0, 302.8),
    ("Kangaroo", 52.0, 3035.0),
    ("Krull", 1598.0, 2665.5),
    ("KungFuMaster", 258.5, 22736.3),
    ("MsPacman", 307.3, 6951.6),
    ("Pong", -20.7, 14.6),
    ("PrivateEye", 24.9, 69571.3),
    ("Qbert", 163.9, 13455.0),
    ("RoadRunner", 11.5, 7845.0),
    ("Seaquest", 68.4, 42054.7),
    ("UpNDown", 533.4, 11693.2),
];

/// The game an Atari id names: `ALE/Breakout-v5`, `Breakout-v4` and
/// `BreakoutNoFrameskip-v4` are all `Breakout`. `None` for ids of no such form.
pub fn game_of(env_id: &str) -> Option<&str> {
    let name = env_id.strip_prefix("ALE/").unwrap_or(env_id);
    let (name, version) = name.rsplit_once("-v")?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(name.strip_suffix("NoFrameskip").unwrap_or(name))
}

/// `score` on `env_id`'s game, human-normalised; `None` when the game is not one of
/// [`ATARI_100K`]'s.
pub fn human_normalized(env_id: &str, score: f64) -> Option<f64> {
    let game = game_of(env_id)?;
    let &(_, random, human) = ATARI_100K.iter().find(|(g, _, _)| *g == game)?;
    Some((score - random) / (human - random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_game() {
        assert_eq!(game_of("ALE/Breakout-v5"), Some("Breakout"));
        assert_eq!(game_of("BreakoutNoFrameskip-v4"), Some("Breakout"));
        assert_eq!(game_of("MsPacman-v0"), Some("MsPacman"));
        assert_eq!(game_of("CartPole"), None);
        assert_eq!(game_of("ALE/Pong-vx"), None);
    }

    #[test]
    fn random_is_zero_human_is_one_and_between_is_linear() {
        assert_eq!(human_normalized("ALE/Breakout-v5", 1.7), Some(0.0));
        assert_eq!(human_normalized("ALE/Breakout-v5", 30.5), Some(1.0));
        // Pong: (−9.06 + 20.7) / (14.6 + 20.7) = 11.64 / 35.3.
        let pong = human_normalized("PongNoFrameskip-v4", -9.06).unwrap();
        assert!((pong - 11.64 / 35.3).abs() < 1e-12, "{pong}");
        // Boxing: (9.04 − 0.1) / 12.0 = 0.745.
        assert!((human_normalized("ALE/Boxing-v5", 9.04).unwrap() - 0.745).abs() < 1e-12);
        assert_eq!(human_normalized("ALE/Tetris-v5", 10.0), None, "not an Atari 100k game");
        assert_eq!(human_normalized("CartPole-v1", 10.0), None);
    }

    #[test]
    fn the_table_holds_26_distinct_games_with_human_above_random() {
        let mut names: Vec<&str> = ATARI_100K.iter().map(|g| g.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 26);
        assert!(ATARI_100K.iter().all(|&(_, r, h)| h > r));
    }
}
