//! Adding an agent takes one file: REINFORCE (Williams 1992, "Simple statistical
//! gradient-following algorithms for connectionist reinforcement learning", Machine Learning
//! 8) with a linear softmax policy, written below as its algorithm only. The harness
//! (`graft::rl::Harness`) gives it evaluation, metrics, a checkpoint with exact resume,
//! schedule hooks and stop requests; the tests check each of them on the toy.

use serde::Serialize;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use graft::envs::{Action, Kwargs, Obs};
use graft::optim::{Optimizer, OptimizerConfig};
use graft::rl::nets::{ActionSpec, ObsSpec};
use graft::rl::state::{Part, RunCheckpoint};
use graft::rl::{Ended, Harness, RunOptions, TrainSummary};
use graft::train::{step_seed, HookContext, NoHooks, TrainHooks};

mod rl_common;
use rl_common::{tmp_dir, training};

// ---- The agent: everything it takes to add one. ----

/// REINFORCE's hyperparameters.
#[derive(Debug, Clone, Serialize)]
struct ReinforceConfig {
    /// Env steps to train for.
    total_timesteps: u64,
    /// Adam's learning rate.
    learning_rate: f64,
    /// Discount factor γ of the returns-to-go.
    gamma: f64,
}

/// One env, one policy-gradient step per episode, weighted by the returns-to-go.
fn train(
    cfg: &ReinforceConfig,
    env_id: &str,
    seed: u64,
    opts: &RunOptions,
    hooks: &mut dyn TrainHooks,
) -> graft::Result<TrainSummary> {
    let run = Harness::open("reinforce", env_id, seed, cfg, opts)?;
    let mut env = opts.make_env(env_id)?;
    let obs_spec = ObsSpec::from_space(env.observation_space())?;
    let ActionSpec::Discrete { n, start } = ActionSpec::from_space(env.action_space())? else {
        return Err(graft::Error::Invalid("reinforce: discrete actions only".into()));
    };
    tch::manual_seed(step_seed(seed, u64::MAX));
    let vs = nn::VarStore::new(opts.device);
    let pi = nn::linear(vs.root() / "pi", obs_spec.lens().0 as i64, n, Default::default());
    let mut opt = Optimizer::for_all(&vs, &OptimizerConfig::adam(cfg.learning_rate))?;
    let parts = &mut [Part::trained("policy", &vs, &mut opt)];
    let mut run = run.begin(cfg.total_timesteps, 1, 1, parts, hooks)?;
    if run.round_start(0, parts)?.is_break() {
        return run.finish();
    }
    let mut updates = run.updates();
    let mut obs = Obs::zeros(env.observation_space());
    env.reset_into(Some(seed), &Kwargs::new(), obs.as_mut())?;
    let (mut xs, mut acts, mut rewards) = (Vec::new(), Vec::new(), Vec::new());

    for step in 0..cfg.total_timesteps {
        // ---- Act: the logged action while replaying a resumed run, else a policy sample. ----
        let x = obs_spec.to_tensor(&obs.f32, &obs.u8, 1, opts.device);
        let a = match run.replay_action(step) {
            Some(logged) => logged[0] as i64,
            None => {
                tch::manual_seed(step_seed(seed, step));
                let probs = tch::no_grad(|| pi.forward(&x).softmax(-1, Kind::Float));
                probs.multinomial(1, true).int64_value(&[0, 0])
            }
        };
        let out = env.step_into(Action::Discrete(a + start).as_ref(), obs.as_mut())?;
        let done = out.terminated || out.truncated;
        run.on_step(0, out.reward, done, step)?;
        if done {
            env.reset_into(None, &Kwargs::new(), obs.as_mut())?;
        }
        if run.replaying() {
            continue;
        }
        run.log_action(&[a as f32]);
        xs.push(x);
        acts.push(a);
        rewards.push(out.reward);
        if !done && step + 1 < cfg.total_timesteps {
            continue;
        }

        // ---- Learn: −mean(G_t log π(a_t|s_t)) over the episode. ----
        let mut g = 0.0;
        let mut returns = vec![0f32; rewards.len()];
        for t in (0..rewards.len()).rev() {
            g = rewards[t] + cfg.gamma * g;
            returns[t] = g as f32;
        }
        let taken = Tensor::from_slice(&acts).view([-1, 1]).to_device(opts.device);
        let logp = pi.forward(&Tensor::cat(&xs, 0)).log_softmax(-1, Kind::Float);
        let logp = logp.gather(1, &taken, false).squeeze_dim(1);
        let weights = Tensor::from_slice(&returns).to_device(opts.device);
        let loss = -(logp * weights).mean(Kind::Float);
        opt.backward_step(&loss)?;
        updates += 1;
        run.log(step + 1, &[("losses/policy_loss", loss.double_value(&[]))])?;
        xs.clear();
        acts.clear();
        rewards.clear();

        let parts = &mut [Part::trained("policy", &vs, &mut opt)];
        let greedy = |x: &Tensor| pi.forward(x).argmax(-1, false);
        if run.after_update(step + 1, updates, parts, &greedy)?.is_break() {
            break;
        }
    }
    run.finish()
}

// ---- What the harness gave it. ----

const CFG: ReinforceConfig =
    ReinforceConfig { total_timesteps: 2000, learning_rate: 1e-2, gamma: 0.99 };

fn options(dir: &std::path::Path) -> RunOptions {
    RunOptions {
        out: Some(dir.to_path_buf()),
        eval_every: 500,
        eval_episodes: 2,
        ..Default::default()
    }
}

/// Evaluation at every crossing of 500 env steps and at the end, its rows in metrics.csv
/// with the agent's own losses and the training episodes, and a checkpoint that records the
/// run.
#[test]
fn a_toy_agent_gets_evaluations_metrics_and_a_checkpoint() {
    let _turn = training();
    let dir = tmp_dir("toy-metrics");
    let summary = train(&CFG, "CartPole-v1", 1, &options(&dir), &mut NoHooks).unwrap();
    assert_eq!((summary.env_steps, summary.ended), (2000, Ended::Budget));
    let steps: Vec<u64> = summary.evals.iter().map(|e| e.0).collect();
    assert!(steps.len() >= 4 && steps.last() == Some(&2000), "{steps:?}");
    for (i, m) in [500, 1000, 1500].into_iter().enumerate() {
        assert!(steps[i] >= m && steps[i] < m + 500, "evaluation {i} at {}", steps[i]);
    }
    assert!(summary.final_eval.is_some() && summary.episodes > 0);

    let rows = graft::report::read_metrics_csv(&dir.join("metrics.csv")).unwrap();
    let at = |tag: &str| rows.iter().filter(|r| r.tag == tag).map(|r| r.step).collect::<Vec<_>>();
    assert_eq!(at("eval/return_mean"), steps);
    assert!(!at("losses/policy_loss").is_empty());
    assert_eq!(at("charts/episodic_return").len() as u64, summary.episodes);

    let ckpt = RunCheckpoint::read(&dir).unwrap();
    assert_eq!(summary.checkpoint, Some(dir.join("checkpoint.safetensors")));
    assert_eq!((ckpt.meta.algo.as_str(), ckpt.meta.env_id.as_str()), ("reinforce", "CartPole-v1"));
    assert_eq!((ckpt.meta.env_steps, ckpt.meta.episodes), (2000, summary.episodes));
    assert_eq!(ckpt.meta.config, serde_json::to_value(&CFG).unwrap());
    assert_eq!(ckpt.actions().unwrap().len(), 2000);
    assert!(ckpt.ckpt.tensors.contains_key("policy/pi.weight"));
}

/// Stopped after 700 env steps (at the end of that episode) and resumed, the run continues
/// from the checkpoint's step and ends with the parameters of one that never stopped.
#[test]
fn a_toy_agent_resumes_exactly_from_its_checkpoint() {
    let _turn = training();
    let (a, b) = (tmp_dir("toy-straight"), tmp_dir("toy-resumed"));
    let full = train(&CFG, "CartPole-v1", 3, &options(&a), &mut NoHooks).unwrap();
    let first = RunOptions { stop_after: Some(700), ..options(&b) };
    let part = train(&CFG, "CartPole-v1", 3, &first, &mut NoHooks).unwrap();
    assert_eq!(part.ended, Ended::StopAfter);
    assert!(part.env_steps >= 700 && part.env_steps < 2000, "{part:?}");
    assert_eq!(RunCheckpoint::read(&b).unwrap().meta.env_steps, part.env_steps);

    let again = RunOptions { resume: true, ..options(&b) };
    let rest = train(&CFG, "CartPole-v1", 3, &again, &mut NoHooks).unwrap();
    assert_eq!(rest.resumed_from, Some(part.env_steps));
    assert_eq!((rest.env_steps, rest.ended), (2000, Ended::Budget));
    let weights = |dir: &std::path::Path| -> Vec<f32> {
        let ckpt = RunCheckpoint::read(dir).unwrap();
        Vec::try_from(&ckpt.ckpt.tensors["policy/pi.weight"].reshape([-1])).unwrap()
    };
    assert_eq!(weights(&a), weights(&b));
    assert_eq!(full.final_eval, rest.final_eval);
}

/// A hook sees env steps and the run's budget, and its stop request ends the run at the
/// next update, evaluated and checkpointed there.
#[test]
fn a_toy_agent_honours_a_hooks_stop_request() {
    #[derive(Default)]
    struct StopAt300 {
        starts: Vec<(u64, u64)>,
        steps: Vec<u64>,
    }
    impl TrainHooks for StopAt300 {
        fn step_every(&self) -> u64 {
            300
        }
        fn on_epoch_start(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
            self.starts.push((ctx.step, ctx.total_steps));
            Ok(())
        }
        fn on_step(&mut self, ctx: &mut HookContext) -> graft::Result<()> {
            self.steps.push(ctx.step);
            ctx.stop = true;
            Ok(())
        }
    }
    let _turn = training();
    let dir = tmp_dir("toy-hooks");
    let mut hooks = StopAt300::default();
    let summary = train(&CFG, "CartPole-v1", 5, &options(&dir), &mut hooks).unwrap();
    assert_eq!(hooks.starts, vec![(0, 2000)]);
    assert_eq!(hooks.steps, vec![summary.env_steps]);
    assert_eq!(summary.ended, Ended::Hook);
    assert!(summary.env_steps >= 300 && summary.env_steps < 2000, "{summary:?}");
    assert_eq!(summary.evals.last().map(|e| e.0), Some(summary.env_steps));
    assert_eq!(RunCheckpoint::read(&dir).unwrap().meta.env_steps, summary.env_steps);
}
