//! [`Loader`]: image batches as tch tensors, decoded and augmented on worker threads with a
//! bounded prefetch, in an order shuffled per epoch by seed.
//!
//! Determinism: the epoch's order is a Fisher–Yates shuffle seeded by `(seed, epoch)`, batch
//! `b` always holds the same samples, and every sample's augmentation draws from
//! [`sample_rng`]`(seed, epoch, index, view)`. Worker `w` of `W` builds batches `w, w + W,
//! …` and hands them over through its own bounded channel, which the iterator reads round
//! robin, so batches arrive in order and are the same for any number of workers.
//!
//! Multi-view mode (`views = 2`) gives each image two independently augmented copies, as
//! SimCLR and BYOL need. Batches are NCHW `float32` (after the pipeline, normalised if it
//! normalises) or `uint8` (for normalising on the device with [`normalize_on_device`]).
//! With a CUDA target and CUDA present, batches are built in pinned memory and copied
//! asynchronously.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use graft_envs::EnvRng;
use tch::{Device, Kind, Tensor};

use crate::data::augment::{sample_rng, Frame, Pipeline};
use crate::data::images::{shuffle, ImageDataset};
use crate::error::{Error, Result};

/// Element type of batch tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchKind {
    /// `float32`, the pipeline's output as it is.
    #[default]
    Float,
    /// `uint8` (`round(x * 255)`): a quarter of the bytes to move; normalise on the device.
    /// The pipeline must not normalise.
    Uint8,
}

/// Loader settings.
#[derive(Debug, Clone)]
pub struct LoaderConfig {
    /// Samples per batch.
    pub batch_size: usize,
    /// Shuffle the order each epoch (by `seed` and the epoch number).
    pub shuffle: bool,
    /// Leave out the last batch when it is smaller than `batch_size`.
    pub drop_last: bool,
    /// Seed of the order and of every augmentation.
    pub seed: u64,
    /// Independently augmented views per image (1; 2 for SimCLR / BYOL).
    pub views: usize,
    /// Worker threads (0: as many as the machine has cores).
    pub workers: usize,
    /// Finished batches each worker may hold before it waits (bounded prefetch).
    pub prefetch: usize,
    /// Element type of the image tensors.
    pub kind: BatchKind,
    /// Where the batches go.
    pub device: Device,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            batch_size: 256,
            shuffle: true,
            drop_last: false,
            seed: 0,
            views: 1,
            workers: 0,
            prefetch: 2,
            kind: BatchKind::Float,
            device: Device::Cpu,
        }
    }
}

/// One batch.
#[derive(Debug)]
pub struct ImageBatch {
    /// One `[B, C, H, W]` tensor per view.
    pub views: Vec<Tensor>,
    /// `[B]` int64 labels, for labelled datasets.
    pub labels: Option<Tensor>,
    /// The dataset indices of the batch's samples.
    pub indices: Vec<usize>,
}

/// A dataset, a pipeline and settings; [`Loader::epoch`] starts the workers for one pass.
pub struct Loader<D: ImageDataset + 'static> {
    ds: Arc<D>,
    pipeline: Arc<Pipeline>,
    cfg: LoaderConfig,
}

impl<D: ImageDataset + 'static> Loader<D> {
    /// Check the settings against the dataset and pipeline.
    pub fn new(ds: Arc<D>, pipeline: Pipeline, cfg: LoaderConfig) -> Result<Self> {
        pipeline.validate()?;
        if cfg.batch_size == 0 || cfg.views == 0 || cfg.prefetch == 0 {
            return Err(Error::Invalid(
                "loader: batch_size, views and prefetch must be at least 1".into(),
            ));
        }
        if cfg.kind == BatchKind::Uint8 && pipeline.normalizes() {
            return Err(Error::Invalid(
                "loader: uint8 batches cannot hold normalised values; drop the pipeline's \
                 Normalize step and normalise on the device (normalize_on_device)"
                    .into(),
            ));
        }
        if ds.is_empty() {
            return Err(Error::Invalid("loader: the dataset has no samples".into()));
        }
        Ok(Loader { ds, pipeline: Arc::new(pipeline), cfg })
    }

    /// The settings.
    pub fn config(&self) -> &LoaderConfig {
        &self.cfg
    }

    /// The dataset.
    pub fn dataset(&self) -> &Arc<D> {
        &self.ds
    }

    /// Batches in one epoch.
    pub fn batches_per_epoch(&self) -> usize {
        let (n, b) = (self.ds.len(), self.cfg.batch_size);
        if self.cfg.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// The sample order of `epoch` (identity without shuffling).
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.ds.len()).collect();
        if self.cfg.shuffle {
            let mut rng =
                EnvRng::seed_from(self.cfg.seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            shuffle(&mut idx, &mut rng);
        }
        idx
    }

    /// Start the workers for `epoch` and iterate over its batches. Dropping the iterator
    /// early stops the workers.
    pub fn epoch(&self, epoch: u64) -> EpochIter {
        let order = Arc::new(self.order(epoch));
        let total = self.batches_per_epoch();
        let workers = match self.cfg.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            w => w,
        }
        .clamp(1, total.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let pin = self.cfg.device.is_cuda() && tch::Cuda::is_available();
        let mut receivers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = sync_channel(self.cfg.prefetch);
            receivers.push(rx);
            let job = Job {
                ds: self.ds.clone(),
                pipeline: self.pipeline.clone(),
                cfg: self.cfg.clone(),
                order: order.clone(),
                epoch,
                pin,
                stop: stop.clone(),
            };
            handles.push(std::thread::spawn(move || job.run(w, workers, total, tx)));
        }
        EpochIter { receivers, next: 0, total, handles, stop, device: self.cfg.device }
    }

    /// Build batch `b` of `epoch` on the calling thread (what a worker does), e.g. for a
    /// preview.
    pub fn batch(&self, epoch: u64, b: usize) -> Result<ImageBatch> {
        let order = self.order(epoch);
        let job = Job {
            ds: self.ds.clone(),
            pipeline: self.pipeline.clone(),
            cfg: self.cfg.clone(),
            order: Arc::new(order),
            epoch,
            pin: false,
            stop: Arc::new(AtomicBool::new(false)),
        };
        job.build(b)
    }
}

/// What a worker thread needs.
struct Job<D> {
    ds: Arc<D>,
    pipeline: Arc<Pipeline>,
    cfg: LoaderConfig,
    order: Arc<Vec<usize>>,
    epoch: u64,
    pin: bool,
    stop: Arc<AtomicBool>,
}

impl<D: ImageDataset> Job<D> {
    fn run(self, w: usize, workers: usize, total: usize, tx: SyncSender<Result<ImageBatch>>) {
        for b in (w..total).step_by(workers) {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            let batch = self.build(b);
            let failed = batch.is_err();
            if tx.send(batch).is_err() || failed {
                return;
            }
        }
    }

    fn build(&self, b: usize) -> Result<ImageBatch> {
        let bs = self.cfg.batch_size;
        let indices: Vec<usize> = self.order[b * bs..((b + 1) * bs).min(self.order.len())].to_vec();
        let n = indices.len();
        let views = self.cfg.views;
        let mut shape: Option<[usize; 3]> = None;
        let mut floats: Vec<Vec<f32>> = vec![Vec::new(); views];
        let mut bytes: Vec<Vec<u8>> = vec![Vec::new(); views];
        let mut labels = Vec::with_capacity(n);
        for &i in &indices {
            let sample = self.ds.get(i)?;
            labels.push(sample.label.map_or(-1, |l| l as i64));
            for v in 0..views {
                let mut rng = sample_rng(self.cfg.seed, self.epoch, i as u64, v as u64);
                let f: Frame = self.pipeline.apply(&sample.image, &mut rng).map_err(|e| {
                    Error::Invalid(format!("augmenting {}: {e}", self.ds.describe(i)))
                })?;
                match shape {
                    None => {
                        shape = Some(f.shape());
                        let per = f.data.len() * n;
                        match self.cfg.kind {
                            BatchKind::Float => floats.iter_mut().for_each(|x| x.reserve(per)),
                            BatchKind::Uint8 => bytes.iter_mut().for_each(|x| x.reserve(per)),
                        }
                    }
                    Some(s) if s != f.shape() => {
                        return Err(Error::Invalid(format!(
                            "{} gives a {:?} (CHW) image after augmentation but the batch's first \
                             is {s:?}; images of different sizes need a Resize or \
                             RandomResizedCrop step",
                            self.ds.describe(i),
                            f.shape()
                        )))
                    }
                    Some(_) => {}
                }
                match self.cfg.kind {
                    BatchKind::Float => floats[v].extend_from_slice(&f.data),
                    BatchKind::Uint8 => bytes[v].extend(f.to_u8()),
                }
            }
        }
        let [c, h, w] = shape.unwrap_or([0, 0, 0]);
        let dims = [n as i64, c as i64, h as i64, w as i64];
        let tensors = (0..views)
            .map(|v| {
                let t = match self.cfg.kind {
                    BatchKind::Float => Tensor::f_from_slice(&floats[v])?,
                    BatchKind::Uint8 => Tensor::f_from_slice(&bytes[v])?,
                }
                .f_view(dims)?;
                Ok(if self.pin { t.f_pin_memory(self.cfg.device)? } else { t })
            })
            .collect::<Result<Vec<_>>>()?;
        let labels = (labels.iter().all(|&l| l >= 0) && self.ds.num_classes() > 0)
            .then(|| Tensor::from_slice(&labels));
        Ok(ImageBatch { views: tensors, labels, indices })
    }
}

/// The batches of one epoch, in order (see [`Loader::epoch`]).
pub struct EpochIter {
    receivers: Vec<Receiver<Result<ImageBatch>>>,
    next: usize,
    total: usize,
    handles: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    device: Device,
}

impl EpochIter {
    /// Batches this epoch yields in all.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl Iterator for EpochIter {
    type Item = Result<ImageBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.total {
            return None;
        }
        let w = self.next % self.receivers.len();
        self.next += 1;
        let batch = match self.receivers[w].recv() {
            Ok(b) => b,
            // A worker that stops early has sent an error first; a closed channel without
            // one means the worker panicked.
            Err(_) => {
                self.next = self.total;
                return Some(Err(Error::Invalid(
                    "loader: a worker thread stopped unexpectedly".into(),
                )));
            }
        };
        if batch.is_err() {
            self.next = self.total;
        }
        Some(batch.and_then(|mut b| {
            if self.device != Device::Cpu {
                let non_blocking = self.device.is_cuda();
                b.views = b
                    .views
                    .iter()
                    .map(|t| t.f_to_device_(self.device, t.kind(), non_blocking, false))
                    .collect::<Result<_, _>>()?;
                b.labels = b
                    .labels
                    .map(|l| l.f_to_device_(self.device, Kind::Int64, non_blocking, false))
                    .transpose()?;
            }
            Ok(b)
        }))
    }
}

impl Drop for EpochIter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Closing the channels unblocks workers waiting to send.
        self.receivers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// `uint8` NCHW batch → float, `/ 255`, then `(x - mean) / std` per channel, on whatever
/// device the batch is on.
pub fn normalize_on_device(batch: &Tensor, mean: &[f32], std: &[f32]) -> Result<Tensor> {
    let dev = batch.device();
    let c = batch.size().get(1).copied().unwrap_or(1);
    let stat = |v: &[f32]| -> Result<Tensor> {
        if v.len() != 1 && v.len() as i64 != c {
            return Err(Error::Invalid(format!(
                "{} normalisation values for {c} channels",
                v.len()
            )));
        }
        Ok(Tensor::from_slice(v).to_device(dev).view([1, v.len() as i64, 1, 1]))
    };
    let x = batch.to_kind(Kind::Float) / 255.0;
    Ok((x - stat(mean)?) / stat(std)?)
}
