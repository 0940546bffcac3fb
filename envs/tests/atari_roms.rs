//! ROM problems: a missing ROM says how to provision it; a file that is not a supported ROM
//! is refused before ALE sees it (ALE would end the process on some). (Its own test binary: it points GRAFT_ALE_ROMS at a
//! temporary folder, which would disturb other tests in the same process.)
#![cfg(feature = "atari")]

use graft_envs::atari::AtariError;
use graft_envs::{make, EnvError, Kwargs};

#[test]
fn missing_truncated_and_foreign_roms_are_typed_errors() {
    let dir = std::env::temp_dir().join(format!("graft-atari-roms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let real = graft_envs::atari::roms_dir().join("breakout.bin");
    let bytes = std::fs::read(&real).expect("setup.sh --atari provisioned the ROMs");
    std::env::set_var("GRAFT_ALE_ROMS", &dir);

    let err = make("ALE/Breakout-v5", &Kwargs::new()).err().expect("an error");
    assert!(
        matches!(&err, EnvError::Atari(AtariError::MissingRom { game, .. }) if game == "breakout"),
        "{err}"
    );
    assert!(err.to_string().contains("scripts/setup.sh --atari"), "{err}");

    for (what, contents) in
        [("truncated", bytes[..bytes.len() / 2].to_vec()), ("foreign", vec![0x5a; 4096])]
    {
        std::fs::write(dir.join("breakout.bin"), &contents).unwrap();
        let err = make("ALE/Breakout-v5", &Kwargs::new()).err().expect("an error");
        assert!(matches!(&err, EnvError::Atari(AtariError::RomMismatch { .. })), "{what}: {err}");
        assert!(err.to_string().contains("breakout.bin"), "{what}: {err}");
    }

    std::fs::write(dir.join("breakout.bin"), &bytes).unwrap();
    assert!(make("ALE/Breakout-v5", &Kwargs::new()).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}
