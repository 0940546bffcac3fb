//! Checkpoints: safetensors files round-trip with their metadata, strict loads name the key and
//! the shapes that differ, an encoder loads into a bigger model under a prefix, bad files give
//! clear errors, and `graft ckpt info` / `graft ckpt diff`.

use std::path::PathBuf;

use graft::models::checkpoint::{self, Checkpoint, CheckpointMeta, LoadOptions};
use graft::models::*;
use graft::Error;
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-checkpoints-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn small_resnet() -> ModelConfig {
    ModelConfig::Resnet(ResNetConfig { base_width: 4, ..ResNetConfig::resnet18().cifar(5) })
}

#[test]
fn checkpoints_round_trip_with_metadata() {
    let dir = tmp_dir("roundtrip");
    let path = dir.join("model.safetensors");
    let config = small_resnet();
    tch::manual_seed(2);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = config.build(&vs.root()).unwrap();
    // Move the running statistics away from their initial values.
    let _ = tch::no_grad(|| {
        model.forward_t(&Tensor::rand([4, 3, 8, 8], (Kind::Float, Device::Cpu)), true)
    });
    checkpoint::save(&path, &vs, &CheckpointMeta::new(Some(&config), Some(1234))).unwrap();
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    tch::manual_seed(3);
    let mut vs2 = nn::VarStore::new(Device::Cpu);
    let _model2 = config.build(&vs2.root()).unwrap();
    let meta = checkpoint::load(&mut vs2, &path).unwrap();
    assert_eq!(meta.step, Some(1234));
    assert_eq!(meta.graft_version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(meta.model_config().unwrap().unwrap().to_json(), config.to_json());
    let (a, b) = (vs.variables(), vs2.variables());
    assert_eq!(a.len(), b.len());
    for (k, t) in &a {
        assert!(t.equal(&b[k]), "{k} differs after the round trip");
    }
    // The file has torchvision's key set: a counter per BatchNorm.
    let ckpt = Checkpoint::read(&path).unwrap();
    assert_eq!(ckpt.tensors["bn1.num_batches_tracked"].kind(), Kind::Int64);
    assert_eq!(
        ckpt.tensors.len(),
        a.len() + a.keys().filter(|k| k.ends_with("running_mean")).count()
    );
}

#[test]
fn strict_load_names_key_and_shapes() {
    let dir = tmp_dir("strict");
    let path = dir.join("a.safetensors");
    let vs = nn::VarStore::new(Device::Cpu);
    let _m = small_resnet().build(&vs.root()).unwrap();
    checkpoint::save(&path, &vs, &CheckpointMeta::default()).unwrap();

    // Different shape: the error names the key and both shapes, and nothing is copied.
    let mut other = nn::VarStore::new(Device::Cpu);
    let config = ModelConfig::Resnet(ResNetConfig { base_width: 4, ..ResNetConfig::resnet18() });
    let _m = config.build(&other.root()).unwrap();
    let before = other.variables()["layer1.0.conv1.weight"].copy();
    let err = checkpoint::load(&mut other, &path).unwrap_err().to_string();
    assert!(
        err.contains("conv1.weight")
            && err.contains("[4, 3, 7, 7]")
            && err.contains("[4, 3, 3, 3]"),
        "{err}"
    );
    assert!(other.variables()["layer1.0.conv1.weight"].equal(&before));

    // Missing and unexpected keys.
    let mut bigger = nn::VarStore::new(Device::Cpu);
    let _m = small_resnet().build(&bigger.root()).unwrap();
    let _extra = bigger.root().zeros("extra", &[3]);
    let err = checkpoint::load(&mut bigger, &path).unwrap_err().to_string();
    assert!(err.contains("missing keys 'extra'"), "{err}");
    let mut headless = nn::VarStore::new(Device::Cpu);
    let _m = small_resnet().without_head().build(&headless.root()).unwrap();
    let err = checkpoint::load(&mut headless, &path).unwrap_err().to_string();
    assert!(err.contains("unexpected keys 'fc.bias', 'fc.weight'"), "{err}");
    // ... which a partial load reports instead.
    let report = checkpoint::load_with(&mut headless, &path, &LoadOptions::partial()).unwrap();
    assert_eq!(report.unexpected, vec!["fc.bias", "fc.weight"]);
    assert!(report.missing.is_empty());
    assert!(headless.variables()["conv1.weight"].equal(&vs.variables()["conv1.weight"]));
}

#[test]
fn encoder_loads_into_a_bigger_model_with_a_prefix() {
    let dir = tmp_dir("prefix");
    let path = dir.join("encoder.safetensors");
    let config = small_resnet().without_head();
    let enc_vs = nn::VarStore::new(Device::Cpu);
    let _e = config.build(&enc_vs.root()).unwrap();
    checkpoint::save(&path, &enc_vs, &CheckpointMeta::new(Some(&config), None)).unwrap();

    let mut agent_vs = nn::VarStore::new(Device::Cpu);
    let encoder = config.build(&(agent_vs.root() / "encoder")).unwrap();
    let _model = attach_head(&(agent_vs.root() / "q"), encoder, 4).unwrap();
    let options = LoadOptions::partial().map_prefix("", "encoder");
    let report = checkpoint::load_with(&mut agent_vs, &path, &options).unwrap();
    assert_eq!(report.missing, vec!["q.bias", "q.weight"]);
    assert!(report.unexpected.is_empty());
    assert_eq!(report.loaded.len(), enc_vs.len());
    let agent = agent_vs.variables();
    for (k, t) in enc_vs.variables() {
        assert!(agent[&format!("encoder.{k}")].equal(&t));
    }
    // And back: the encoder part of the agent into a stand-alone encoder.
    let agent_path = dir.join("agent.safetensors");
    checkpoint::save(&agent_path, &agent_vs, &CheckpointMeta::default()).unwrap();
    let mut fresh = nn::VarStore::new(Device::Cpu);
    let _e = config.build(&fresh.root()).unwrap();
    let report = checkpoint::load_with(
        &mut fresh,
        &agent_path,
        &LoadOptions::partial().map_prefix("encoder", ""),
    )
    .unwrap();
    assert_eq!(report.unexpected, vec!["q.bias", "q.weight"]);
    assert!(report.missing.is_empty());
}

#[test]
fn bad_checkpoint_files_give_clear_errors() {
    let dir = tmp_dir("bad");
    let good = dir.join("good.safetensors");
    let vs = nn::VarStore::new(Device::Cpu);
    let _m = ModelConfig::Mlp(MlpConfig::default()).build(&vs.root()).unwrap();
    checkpoint::save(&good, &vs, &CheckpointMeta::default()).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let mut vs2 = nn::VarStore::new(Device::Cpu);
    let _m = ModelConfig::Mlp(MlpConfig::default()).build(&vs2.root()).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", b"this is not a checkpoint at all, just text".to_vec()),
        ("truncated-header", bytes[..bytes.len().min(20)].to_vec()),
        ("truncated-data", bytes[..bytes.len() - 7].to_vec()),
        ("huge-header", {
            let mut b = u64::MAX.to_le_bytes().to_vec();
            b.extend_from_slice(&bytes[8..]);
            b
        }),
    ];
    for (name, data) in cases {
        let path = dir.join(format!("{name}.safetensors"));
        std::fs::write(&path, data).unwrap();
        match checkpoint::load(&mut vs2, &path) {
            Err(Error::Checkpoint { path: p, problem }) => {
                assert_eq!(p, path);
                assert!(
                    problem.contains("not a valid safetensors checkpoint"),
                    "{name}: {problem}"
                );
            }
            other => panic!("{name}: expected a checkpoint error, got {other:?}"),
        }
    }
    let missing = checkpoint::load(&mut vs2, dir.join("nope.safetensors")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
}

#[test]
fn ckpt_cli_info_and_diff() {
    let dir = tmp_dir("cli");
    let config = ModelConfig::Mlp(MlpConfig {
        input_dim: 3,
        hidden: vec![5],
        num_outputs: Some(2),
        ..Default::default()
    });
    let vs = nn::VarStore::new(Device::Cpu);
    let _m = config.build(&vs.root()).unwrap();
    let (a, b) = (dir.join("a.safetensors"), dir.join("b.safetensors"));
    checkpoint::save(&a, &vs, &CheckpointMeta::new(Some(&config), Some(7))).unwrap();
    let _ = tch::no_grad(|| vs.variables()["head.bias"].shallow_clone().fill_(0.5));
    checkpoint::save(&b, &vs, &CheckpointMeta::new(Some(&config), Some(8))).unwrap();

    let graft = env!("CARGO_BIN_EXE_graft");
    let out = std::process::Command::new(graft).args(["ckpt", "info"]).arg(&a).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("step: 7"), "{text}");
    assert!(text.contains("\"kind\":\"mlp\""), "{text}");
    // layers.0: 3*5 + 5 = 20; head: 5*2 + 2 = 12.
    let line = |name: &str| text.lines().find(|l| l.starts_with(name)).unwrap_or("").to_string();
    assert!(line("layers.0").trim_end().ends_with(" 20"), "{text}");
    assert!(line("head").trim_end().ends_with(" 12"), "{text}");
    assert!(line("total parameters").trim_end().ends_with(" 32"), "{text}");

    let out =
        std::process::Command::new(graft).args(["ckpt", "diff"]).arg(&a).arg(&b).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("values differ: head.bias"), "{text}");
    assert!(text.contains("3 identical, 1 with different values"), "{text}");

    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"nope").unwrap();
    let out =
        std::process::Command::new(graft).args(["ckpt", "info"]).arg(&garbage).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not a valid safetensors checkpoint") && !err.contains("panicked"),
        "{err}"
    );
}

/// `graft ckpt info` lists Inception-v3's layer groups with their parameter counts, summing to
/// torchvision's 27,161,264 (the auxiliary classifier included).
#[test]
fn ckpt_info_shows_inception_groups() {
    let dir = tmp_dir("inception");
    let config = ModelConfig::preset("inception_v3").unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let _m = config.build(&vs.root()).unwrap();
    let path = dir.join("inception.safetensors");
    checkpoint::save(&path, &vs, &CheckpointMeta::new(Some(&config), None)).unwrap();
    let graft = env!("CARGO_BIN_EXE_graft");
    let out = std::process::Command::new(graft).args(["ckpt", "info"]).arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let count = |name: &str| -> i64 {
        let line = text.lines().find(|l| l.split_whitespace().next() == Some(name));
        line.and_then(|l| l.split_whitespace().last()).and_then(|n| n.parse().ok()).unwrap_or(-1)
    };
    // fc: 2048 * 1000 + 1000; AuxLogits: conv0 768*128 + bn 2*128, conv1 128*768*25 +
    // bn 2*768, fc 768*1000 + 1000.
    assert_eq!(count("head"), 2_049_000, "{text}");
    assert_eq!(count("aux"), 98_304 + 256 + 2_457_600 + 1_536 + 769_000, "{text}");
    assert!(count("mixed_7c") > 0 && count("stem") > 0, "{text}");
    let groups = ["stem", "mixed_5b", "mixed_6e", "aux", "mixed_7a", "mixed_7c", "head"];
    let order: Vec<usize> =
        groups.iter().map(|g| text.find(&format!("\n{g} ")).unwrap_or(usize::MAX)).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "groups out of order: {text}");
    assert_eq!(count("total"), 27_161_264, "{text}");
}
