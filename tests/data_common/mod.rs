//! Helpers shared by the dataset tests (tests/data.rs, tests/data_collect.rs,
//! tests/data_interop.rs): temporary folders, fixtures, and small episodes written and read
//! back as plain vectors. Not every test file uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use graft::data::{Compression, Dataset, DatasetWriter, NewDataset, ObsView, WriterOptions};
use graft::envs::{ActionRef, EnvRng, Info, Space};

pub fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data").join(name)
}

/// One episode of 3-float observations and 1-float actions, as plain vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct Ep {
    pub obs: Vec<[f32; 3]>,
    pub actions: Vec<f32>,
    pub rewards: Vec<f64>,
    pub terminated: bool,
}

pub fn spaces() -> (Space, Space) {
    (Space::box_f32(vec![-1e6; 3], vec![1e6; 3]), Space::box_f32(vec![-2.0], vec![2.0]))
}

pub fn write_eps(path: &Path, eps: &[Ep], batch_rows: Option<usize>) -> graft::Result<()> {
    let (o, a) = spaces();
    let mut w = DatasetWriter::create(
        path,
        NewDataset::new("test/eps-v0", o, a),
        WriterOptions { batch_rows, compression: Compression::None },
    )?;
    for ep in eps {
        w.begin_episode(ObsView { f32: &ep.obs[0], u8: &[] })?;
        let n = ep.actions.len();
        for t in 0..n {
            let last = t + 1 == n;
            w.push_step(
                ActionRef::Continuous(&[ep.actions[t]]),
                ep.rewards[t],
                last && ep.terminated,
                last && !ep.terminated,
                ObsView { f32: &ep.obs[t + 1], u8: &[] },
                &Info::new(),
            )?;
        }
        w.end_episode()?;
    }
    w.finish()?;
    Ok(())
}

pub fn read_eps(ds: &Dataset) -> Vec<Ep> {
    (0..ds.num_episodes())
        .map(|e| {
            let ep = ds.episode(e).unwrap();
            let obs = (0..=ep.len())
                .map(|t| <[f32; 3]>::try_from(ep.observation(t).unwrap().f32).unwrap())
                .collect();
            let trs: Vec<_> = ep.transitions().collect();
            Ep {
                obs,
                actions: trs
                    .iter()
                    .map(|t| match t.action {
                        ActionRef::Continuous(xs) => xs[0],
                        other => panic!("unexpected action {other:?}"),
                    })
                    .collect(),
                rewards: trs.iter().map(|t| t.reward).collect(),
                terminated: trs.last().is_some_and(|t| t.terminated),
            }
        })
        .collect()
}

pub fn make_ep(len: usize, seed: u64) -> Ep {
    let mut rng = EnvRng::seed_from(seed);
    let mut f = || rng.uniform(-100.0, 100.0) as f32;
    Ep {
        obs: (0..=len).map(|_| [f(), f(), f()]).collect(),
        actions: (0..len).map(|_| f() / 50.0).collect(),
        rewards: (0..len).map(|_| f() as f64).collect(),
        terminated: len > 0 && seed % 2 == 0,
    }
}
