//! What can go wrong with an Atari game, as typed errors (wrapped in [`crate::EnvError::Atari`]).

use thiserror::Error;

/// An Atari environment could not be built or stepped.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AtariError {
    /// The ROM file is not where Graft looks for it.
    #[error(
        "no ROM for '{game}' at {path}: run scripts/setup.sh --atari, which provisions ale-py \
         0.12.1's ROM set, or point GRAFT_ALE_ROMS at a folder of ROMs named <game>.bin"
    )]
    MissingRom { game: String, path: String },
    /// The ROM file is not the one ale-py ships (truncated, another dump, not a ROM): ALE would
    /// end the process on some such files, so it never sees them.
    #[error(
        "the ROM {path} is not ale-py 0.12.1's '{game}' ROM (MD5 {got}, expected {expected}): \
         the file is damaged or another dump; run scripts/setup.sh --atari again to provision \
         the expected one"
    )]
    RomMismatch { game: String, path: String, expected: String, got: String },
    /// The id names no game of the ROM set.
    #[error("unknown Atari id '{id}'; the games with ALE/<Name>-v5 ids are: {supported}")]
    UnknownGame { id: String, supported: String },
    /// `mode` is not one of the game's modes.
    #[error("{env}: the game has no mode {mode}; its modes are {available:?}")]
    BadMode { env: String, mode: i64, available: Vec<u32> },
    /// `difficulty` is not one of the game's difficulties.
    #[error("{env}: the game has no difficulty {difficulty}; its difficulties are {available:?}")]
    BadDifficulty { env: String, difficulty: i64, available: Vec<u32> },
    /// ALE itself refused (its C++ exception's message).
    #[error("{env}: ALE failed to {what}: {message}")]
    Ale { env: String, what: String, message: String },
}
