//! DQN's data-efficient Atari settings (DrQ(ε), the `atari100k` preset): dueling heads
//! against hand-set weights, ε-greedy acting and its schedule against hand-computed values,
//! DrQ's augmentation, exact resume of an augmented dueling agent on MinAtar frames, bad
//! input, and (with the `atari` feature) evaluation on whole games in raw points.

use tch::nn;
use tch::{Device, Kind, Tensor};

use graft::rl::dqn::{augment_images, QNetwork};
use graft::rl::nets::ObsSpec;
use graft::rl::{AgentConfig, DqnConfig, DqnOptimizer, RunOptions};

mod rl_common;
use rl_common::{tmp_dir, training};

/// A dueling network on 4-float observations whose streams are set by hand: zero weights,
/// value bias `v`, advantage biases `a`.
fn dueling_with(v: f64, a: &[f64]) -> (nn::VarStore, QNetwork) {
    let cfg = DqnConfig { dueling: true, hidden: vec![8], ..DqnConfig::default() };
    let vs = nn::VarStore::new(Device::Cpu);
    let q = QNetwork::new(&vs.root(), &cfg, &ObsSpec::Vector(4), a.len() as i64).unwrap();
    let vars = vs.variables();
    tch::no_grad(|| {
        for (name, mut t) in vars {
            match name.as_str() {
                "value.weight" | "advantage.weight" => {
                    let _ = t.zero_();
                }
                "value.bias" => {
                    let _ = t.fill_(v);
                }
                "advantage.bias" => t.copy_(&Tensor::from_slice(a).to_kind(Kind::Float)),
                _ => {}
            }
        }
    });
    (vs, q)
}

#[test]
fn dueling_q_is_value_plus_centred_advantage() {
    // libtorch's generator is one per process: keep the training tests' draws their own.
    let _turn = training();
    // A = [1, 2, 6] has mean 3: Q = 5 + (A − 3) = [3, 4, 8] for every observation.
    let (_vs, q) = dueling_with(5.0, &[1.0, 2.0, 6.0]);
    let x = Tensor::randn([7, 4], (Kind::Float, Device::Cpu));
    let got = tch::no_grad(|| q.forward(&x));
    let want = Tensor::from_slice(&[3.0f32, 4.0, 8.0]).expand([7, 3], false);
    assert!(got.allclose(&want, 1e-6, 1e-6, false), "{got}");
    // The keys say which stream is which (a checkpoint of a plain head has `head.*`).
    let keys: Vec<String> = _vs.variables().into_keys().collect();
    assert!(keys.iter().any(|k| k == "value.weight") && !keys.iter().any(|k| k == "head.weight"));
}

#[test]
fn epsilon_greedy_acts_greedily_or_uniformly_at_the_given_rate() {
    let _turn = training();
    let (_vs, q) = dueling_with(0.0, &[0.0, 9.0, 0.0]);
    let x = Tensor::zeros([20_000, 4], (Kind::Float, Device::Cpu));
    tch::manual_seed(11);
    let greedy = tch::no_grad(|| q.act(&x, 0.0));
    assert_eq!(greedy.eq(1).sum(Kind::Int64).int64_value(&[]), 20_000);
    // ε = 0.3 over 3 actions: the greedy one with probability 0.7 + 0.3/3 = 0.8, each other
    // with 0.1 (binomial sd over 20k draws ≈ 0.003).
    let mixed = tch::no_grad(|| q.act(&x, 0.3));
    for (action, want) in [(0, 0.1), (1, 0.8), (2, 0.1)] {
        let share = mixed.eq(action).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]);
        assert!((share - want).abs() < 0.015, "action {action}: share {share}, want {want}");
    }
}

#[test]
fn atari100k_epsilon_holds_through_the_warm_up_then_decays_over_5000_steps() {
    let cfg = DqnConfig::atari100k();
    // 1 until step 1600, then linear to 0.01 at 1600 + 0.05·100k = 6600.
    for (t, want) in [(0, 1.0), (1600, 1.0), (4100, 1.0 - 0.99 * 0.5), (6600, 0.01), (90_000, 0.01)]
    {
        assert!((cfg.epsilon(t) - want).abs() < 1e-12, "step {t}: {} vs {want}", cfg.epsilon(t));
    }
    // CleanRL's schedule decays from the first step.
    let clean = DqnConfig { decay_after_learning_starts: false, ..cfg };
    assert!((clean.epsilon(2500) - (1.0 - 0.99 * 0.5)).abs() < 1e-12);
}

#[test]
fn drq_augmentation_moves_pixels_and_scales_each_image_by_one_factor() {
    let _turn = training();
    tch::manual_seed(3);
    let x = Tensor::rand([16, 4, 12, 12], (Kind::Float, Device::Cpu)) * 255.0;
    // Intensity alone: every image is x · (1 + 0.05·clip(n, −2, 2)), one n per image.
    let y = augment_images(&x, 0, 0.05).unwrap();
    let ratio = &y / &x;
    let per_image = ratio.view([16, -1]);
    let (lo, hi) = (per_image.amin(1, false), per_image.amax(1, false));
    assert!((hi - &lo).abs().max().double_value(&[]) < 1e-4, "one factor per image");
    let lo_min = lo.min().double_value(&[]);
    let lo_max = lo.max().double_value(&[]);
    assert!(lo_min >= 0.9 - 1e-5 && lo_max <= 1.1 + 1e-5, "factors in [0.9, 1.1]");
    assert!(lo_max - lo_min > 1e-3, "the factors differ between images");
    // Shift alone: a constant image stays constant (replicate padding); a random one moves
    // but keeps its values' range.
    let flat = Tensor::full([2, 4, 12, 12], 7.0, (Kind::Float, Device::Cpu));
    assert!(augment_images(&flat, 4, 0.0).unwrap().eq(7.0).all().int64_value(&[]) == 1);
    let shifted = augment_images(&x, 4, 0.0).unwrap();
    assert_eq!(shifted.size(), x.size());
    assert!(shifted.ne_tensor(&x).any().int64_value(&[]) == 1, "some image moved");
}

/// DrQ(ε) shrunk to MinAtar frames (10x10: MinAtar's small CNN, shifts of 1 pixel).
fn tiny_drq_eps() -> DqnConfig {
    let mut cfg = DqnConfig {
        total_timesteps: 240,
        learning_starts: 40,
        batch_size: 8,
        n_step: 3,
        random_shift_pad: 1,
        exploration_fraction: 0.2,
        eval_epsilon: 0.05,
        ..DqnConfig::atari100k()
    };
    cfg.torso.model = Some(serde_json::json!({
        "kind": "minatar_cnn", "in_channels": 4, "conv_channels": 4, "hidden": 16,
    }));
    cfg
}

#[test]
fn augmented_dueling_dqn_resumes_exactly_on_minatar_frames() {
    rl_common::assert_exact_resume(
        "drq-eps",
        &AgentConfig::Dqn(tiny_drq_eps()),
        "MinAtar/Breakout-v1",
        110,
        &RunOptions::default(),
    );
}

#[test]
fn the_trained_dueling_agent_loads_and_acts() {
    let _turn = training();
    let dir = tmp_dir("drq-eps-load");
    let opts = RunOptions { out: Some(dir.clone()), eval_episodes: 1, ..RunOptions::default() };
    AgentConfig::Dqn(tiny_drq_eps()).train("MinAtar/Breakout-v1", 1, &opts).unwrap();
    let env = graft::envs::make("MinAtar/Breakout-v1", &Default::default()).unwrap();
    let policy = graft::rl::TrainedPolicy::load(&dir, env.as_ref(), Device::Cpu).unwrap();
    let x = Tensor::zeros([3, 4, 10, 10], (Kind::Float, Device::Cpu));
    let a = policy.act_tensor(&x);
    assert_eq!(a.size(), [3]);
    assert!(a.ge(0).all().int64_value(&[]) == 1 && a.lt(3).all().int64_value(&[]) == 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_drq_settings_are_refused_naming_the_field() {
    let _turn = training();
    let err = |cfg: DqnConfig, env: &str| {
        AgentConfig::Dqn(cfg).train(env, 0, &RunOptions::default()).unwrap_err().to_string()
    };
    let e = err(
        DqnConfig { random_shift_pad: 4, total_timesteps: 10, ..Default::default() },
        "CartPole-v1",
    );
    assert!(
        e.contains("augment images") && e.contains("CartPole-v1") && e.contains("4 floats"),
        "{e}"
    );
    let e = err(DqnConfig { eval_epsilon: 1.5, ..Default::default() }, "CartPole-v1");
    assert!(e.contains("eval_epsilon") && e.contains("1.5"), "{e}");
    let e = err(DqnConfig { intensity_scale: -0.1, ..Default::default() }, "CartPole-v1");
    assert!(e.contains("intensity_scale"), "{e}");
    let e = err(
        DqnConfig { optimizer: DqnOptimizer::Adam { eps: f64::NAN }, ..Default::default() },
        "CartPole-v1",
    );
    assert!(e.contains("optimizer eps"), "{e}");
    // The old spelling of Adam (no eps) still reads, with PyTorch's ε.
    let old: DqnOptimizer = serde_json::from_str(r#"{"kind": "adam"}"#).unwrap();
    assert_eq!(old, DqnOptimizer::Adam { eps: 1e-8 });
    assert_eq!(old.config(1e-3).eps, 1e-8);
    let drq: DqnOptimizer = serde_json::from_str(r#"{"kind": "adam", "eps": 1.5e-4}"#).unwrap();
    assert_eq!(drq.config(1e-4).eps, 1.5e-4);
}

/// Evaluation scores whole games in the game's points, whatever the training chain does to
/// lives and rewards (the Atari 100k and Nature DQN protocols).
#[cfg(feature = "atari")]
#[test]
fn atari_evaluation_plays_whole_games_with_raw_rewards() {
    use graft::envs::{Action, Kwargs, Value};
    let mut kwargs = Kwargs::new();
    for (k, v) in [
        ("preprocessing", Value::Bool(true)),
        ("grayscale_newaxis", Value::Bool(true)),
        ("episodic_life", Value::Bool(true)),
        ("clip_reward", Value::Bool(true)),
        ("frame_stack", Value::Int(4)),
        ("repeat_action_probability", Value::Float(0.0)),
    ] {
        kwargs.insert(k.into(), v);
    }
    let opts = RunOptions { env_kwargs: kwargs, ..RunOptions::default() };
    // Breakout: FIRE launches the ball; left alone the paddle loses it.
    let play = |mut env: Box<dyn graft::envs::Env>| {
        env.reset(Some(5), &Kwargs::new()).unwrap();
        let mut lives = -1;
        for t in 0..20_000 {
            let s = env.step(&Action::Discrete(if t % 10 == 0 { 1 } else { 0 })).unwrap();
            if let Some(Value::Int(n)) = s.info.get("lives") {
                lives = *n;
            }
            if s.terminated || s.truncated {
                return lives;
            }
        }
        panic!("no episode end in 20k steps");
    };
    assert_eq!(play(opts.make_env("ALE/Breakout-v5").unwrap()), 4, "training: one life");
    assert_eq!(play(opts.make_eval_env("ALE/Breakout-v5").unwrap()), 0, "evaluation: the game");
    let kept = graft::envs::evaluation_kwargs(&opts.env_kwargs);
    assert!(!kept.contains_key("episodic_life") && !kept.contains_key("clip_reward"));
    assert!(kept.contains_key("frame_stack") && kept.contains_key("preprocessing"));
}
