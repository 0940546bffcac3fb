//! DrQ-v2 (`graft::rl::drqv2`) on Control Suite pixels: exact resume, the trained agent back as
//! a policy, a pretrained encoder loaded and kept frozen (only the heads learn), hooks that
//! see the encoder's layer groups, and bad input (state observations, discrete actions).
//! The update's pieces (noise, schedule, target, shift) are checked by hand in unit tests
//! (src/rl/drqv2.rs, src/rl/td3.rs, src/data/augment/tensor_spatial.rs).

use tch::{nn, Device};

use graft::envs::wrappers::PixelObservation;
use graft::models::checkpoint::{save, CheckpointMeta};
use graft::models::{drq_cnn, DrqCnnConfig};
use graft::rl::{AgentConfig, Algo, DrqV2Config, Ended, RunOptions, TrainedPolicy};
use graft::train::{HookContext, TrainHooks};

mod rl_common;
use rl_common::{assert_exact_resume, tensors, tmp_dir, training};

const ENV: &str = "dmc/cartpole-swingup";

/// Two stacked 32x32 RGB frames, each action held for 8 physics steps (the task's repeat).
fn small_options() -> RunOptions {
    RunOptions {
        pixels: Some(PixelObservation { size: [32, 32], grayscale: false, frame_stack: 2 }),
        action_repeat: 8,
        ..Default::default()
    }
}

/// The paper's agent shrunk to test size: an 8-channel encoder, 8 trunk features, 32-wide
/// heads, updates every other step from step 20.
fn small_config() -> DrqV2Config {
    let mut cfg = DrqV2Config {
        total_timesteps: 60,
        learning_starts: 20,
        num_expl_steps: 10,
        batch_size: 8,
        buffer_size: 1_000,
        feature_dim: 8,
        hidden: vec![32, 32],
        ..DrqV2Config::default()
    };
    cfg.torso.model = Some(serde_json::json!({"kind": "drq_cnn", "channels": 8}));
    cfg
}

#[test]
fn drqv2_resumed_run_ends_with_the_same_parameters() {
    let cfg = AgentConfig::DrqV2(small_config());
    assert_exact_resume("drqv2", &cfg, ENV, 35, &small_options());
}

/// A short run loaded back as the deterministic policy `graft rl eval` uses: it acts inside
/// the box on a frame stack, and its checkpoint holds the four parts.
#[test]
fn drqv2_trains_and_its_policy_acts() {
    let _turn = training();
    let dir = tmp_dir("drqv2-policy");
    let opts = RunOptions { out: Some(dir.clone()), eval_episodes: 1, ..small_options() };
    let summary = AgentConfig::DrqV2(small_config()).train(ENV, 0, &opts).unwrap();
    assert_eq!((summary.env_steps, summary.ended), (60, Ended::Budget));
    // Updates at steps 20, 22, ..., 58.
    let keys: Vec<String> =
        tensors(&dir.join("checkpoint.safetensors")).into_iter().map(|(k, _)| k).collect();
    for part in ["encoder/", "actor/", "critic/", "critic_target/"] {
        assert!(keys.iter().any(|k| k.starts_with(part)), "no {part} tensors in {keys:?}");
    }
    let env = graft::rl::run::agent_env(
        graft::envs::make(ENV, &Default::default()).unwrap(),
        opts.action_repeat,
        opts.pixels.as_ref(),
    )
    .unwrap();
    let policy = TrainedPolicy::load(&dir, env.as_ref(), Device::Cpu).unwrap();
    assert_eq!(policy.meta.algo, "drqv2");
    let frames = vec![128u8; 2 * 32 * 32 * 3];
    let graft::envs::Action::Continuous(a) = policy.act(&[], &frames).unwrap() else {
        panic!("drqv2 acts continuously")
    };
    assert!(a.len() == 1 && (-1.0..=1.0).contains(&a[0]), "{a:?}");
}

/// A bare `drq_cnn` saved on its own (prefix ""), for 2 stacked 32x32 RGB frames.
fn pretrained_encoder(dir: &std::path::Path) -> std::path::PathBuf {
    tch::manual_seed(11);
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg =
        DrqCnnConfig { in_channels: 6, height: 32, width: 32, channels: 8, ..Default::default() };
    let _enc = drq_cnn(&vs.root(), &cfg).unwrap();
    let path = dir.join("encoder.safetensors");
    save(&path, &vs, &CheckpointMeta::new(None, None)).unwrap();
    path
}

/// Train `cfg` from a frozen copy of a pretrained encoder with `hooks`; returns the encoder
/// file's tensors and the run's final checkpoint tensors.
#[allow(clippy::type_complexity)]
fn train_frozen(
    name: &str,
    hooks: Option<&mut dyn TrainHooks>,
) -> (Vec<(String, Vec<f32>)>, Vec<(String, Vec<f32>)>) {
    let _turn = training();
    let dir = tmp_dir(name);
    let enc_path = pretrained_encoder(&dir);
    let mut cfg = small_config();
    cfg.torso.init_encoder = Some(enc_path.clone());
    cfg.torso.freeze = true;
    let run = dir.join("run");
    let opts = RunOptions { out: Some(run.clone()), eval_episodes: 1, ..small_options() };
    AgentConfig::DrqV2(cfg).train_with_hooks(ENV, 1, &opts, hooks).unwrap();
    (tensors(&enc_path), tensors(&run.join("checkpoint.safetensors")))
}

fn find(tensors: &[(String, Vec<f32>)], key: &str) -> Vec<f32> {
    tensors.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("no {key}")).1.clone()
}

/// With `freeze` the pretrained encoder ends the run exactly as loaded while the actor and
/// critic learn.
#[test]
fn a_frozen_pretrained_encoder_stays_as_loaded() {
    let (loaded, after) = train_frozen("drqv2-frozen", None);
    for (k, v) in &loaded {
        assert_eq!(&find(&after, &format!("encoder/encoder.{k}")), v, "frozen {k} changed");
    }
    // The critic did learn: it differs from its target (a Polyak copy lagging behind).
    assert_ne!(
        find(&after, "critic/critic.q1.head.weight"),
        find(&after, "critic_target/critic.q1.head.weight"),
        "the critic did not learn"
    );
}

/// Hooks see the encoder's optimizer: its groups are `encoder.conv1` … `encoder.conv4`, and
/// unfreezing `encoder.conv4` at step 30 trains that layer alone (updates go on to step 58).
#[derive(Default)]
struct UnfreezeLast {
    groups: Vec<String>,
}

impl TrainHooks for UnfreezeLast {
    fn step_every(&self) -> u64 {
        10
    }

    fn on_epoch_start(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
        self.groups = ctx.optimizer.group_names();
        Ok(())
    }

    fn on_step(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
        if ctx.step == 30 {
            ctx.optimizer.unfreeze("encoder.conv4", true)?;
        }
        Ok(())
    }
}

#[test]
fn a_hook_unfreezes_one_encoder_layer() {
    let mut hooks = UnfreezeLast::default();
    let (loaded, after) = train_frozen("drqv2-hooks", Some(&mut hooks));
    let want: Vec<String> = (1..=4).map(|i| format!("encoder.conv{i}")).collect();
    assert_eq!(hooks.groups, want);
    for (k, v) in &loaded {
        let got = find(&after, &format!("encoder/encoder.{k}"));
        if k.starts_with("conv4.") {
            assert_ne!(&got, v, "unfrozen {k} did not learn");
        } else {
            assert_eq!(&got, v, "still frozen {k} changed");
        }
    }
}

/// DrQ-v2 without pixels, on discrete actions or with a buffer that cannot fit is refused by
/// name, before anything is written; on a Control Suite task without `pixels` the CLI and scripts default to the
/// paper's observation (84x84 RGB, 3 frames, action repeat 2).
#[test]
fn drqv2_refuses_states_and_discrete_actions_and_defaults_to_the_papers_frames() {
    let _turn = training();
    let dir = tmp_dir("drqv2-bad");
    let opts = RunOptions { out: Some(dir.join("run")), ..Default::default() };
    let cfg = AgentConfig::DrqV2(small_config());
    let e = cfg.train(ENV, 0, &opts).unwrap_err().to_string();
    assert!(e.contains("drqv2 learns from pixels") && e.contains("--pixels 84x84"), "{e}");
    assert!(!dir.join("run").join("config.json").exists(), "a refused run wrote its directory");
    let pixels = RunOptions { pixels: small_options().pixels, ..opts };
    let e = cfg.train("CartPole-v1", 0, &pixels).unwrap_err().to_string();
    assert!(e.contains("drqv2 needs continuous actions"), "{e}");

    // 20M transitions of 84x84x9 stacks: one new 84x84x3 frame a transition with frames
    // shared (21,260 bytes with the references), 425 GB, refused with the numbers before
    // anything is stored.
    let paper = RunOptions {
        pixels: Some(PixelObservation { size: [84, 84], grayscale: false, frame_stack: 3 }),
        action_repeat: 2,
        ..Default::default()
    };
    let big =
        DrqV2Config { total_timesteps: 20_000_000, buffer_size: 20_000_000, ..small_config() };
    let e = AgentConfig::DrqV2(big).train(ENV, 0, &paper).unwrap_err().to_string();
    assert!(e.contains("DrQ-v2 replay buffer of 20000000 transitions (21260 bytes each)"), "{e}");

    let (p, repeat) = Algo::DrqV2.observation("dmc/walker-walk", None, None);
    assert_eq!(p, Some(PixelObservation { size: [84, 84], grayscale: false, frame_stack: 3 }));
    assert_eq!(repeat, 2);
    // Given settings win; other algorithms keep the task's usual repeat and the state.
    let (p, repeat) = Algo::DrqV2.observation("dmc/walker-walk", None, Some(4));
    assert_eq!((p.is_some(), repeat), (true, 4));
    assert_eq!(Algo::Sac.observation("dmc/cheetah-run", None, None), (None, 4));
    // The default config is the paper's for the task.
    let AgentConfig::DrqV2(walker) = AgentConfig::default_for(Algo::DrqV2, "dmc/walker-walk")
    else {
        panic!("drqv2 config")
    };
    assert_eq!(walker, DrqV2Config::for_task("dmc/walker-walk"));
}
