//! The building blocks of Inception-v3 as torchvision 0.26 defines them (`BasicConv2d`,
//! `InceptionA`–`E`, `InceptionAux`), each under torchvision's parameter names; the network
//! that chains them is [`super::network`].

use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

use crate::models::base::batch_norm2d_eps;
use crate::models::norm::BatchNorm2d;

/// torchvision's BatchNorm epsilon for Inception-v3 (PyTorch's default is 1e-5).
const BN_EPS: f64 = 1e-3;
/// Channels of the 17×17 grid the auxiliary classifier reads.
pub(super) const AUX_IN: i64 = 768;

/// Convolution without bias, BatchNorm (eps 0.001) and ReLU: torchvision's `BasicConv2d`,
/// its parameters under `conv` and `bn`.
#[derive(Debug)]
pub(super) struct BasicConv {
    conv: nn::Conv2D,
    bn: BatchNorm2d,
}

/// Kernel, stride and padding of one [`BasicConv`], as (height, width) pairs.
#[derive(Clone, Copy)]
pub(super) struct Shape {
    kernel: [i64; 2],
    stride: i64,
    padding: [i64; 2],
}

/// A square `k`×`k` kernel with stride 1 and no padding.
pub(super) fn k(k: i64) -> Shape {
    Shape { kernel: [k, k], stride: 1, padding: [0, 0] }
}

impl Shape {
    pub(super) fn stride(self, stride: i64) -> Self {
        Shape { stride, ..self }
    }
    pub(super) fn pad(self, padding: i64) -> Self {
        Shape { padding: [padding, padding], ..self }
    }
}

/// A 1×7 (or 1×3, …) kernel padded to keep the size.
pub(super) fn row(n: i64) -> Shape {
    Shape { kernel: [1, n], stride: 1, padding: [0, n / 2] }
}

/// A 7×1 (or 3×1, …) kernel padded to keep the size.
pub(super) fn column(n: i64) -> Shape {
    Shape { kernel: [n, 1], stride: 1, padding: [n / 2, 0] }
}

/// torchvision's `trunc_normal_(std, a=-2, b=2)`: the bounds are absolute, 20 or more
/// standard deviations out for every std used here, so this is the normal distribution.
pub(super) fn normal(stdev: f64) -> nn::Init {
    nn::Init::Randn { mean: 0.0, stdev }
}

pub(super) fn basic_conv(p: nn::Path, c_in: i64, c_out: i64, s: Shape, stdev: f64) -> BasicConv {
    let config = nn::ConvConfigND::<[i64; 2]> {
        stride: [s.stride, s.stride],
        padding: s.padding,
        bias: false,
        ws_init: normal(stdev),
        ..Default::default()
    };
    let conv = nn::conv(&p / "conv", c_in, c_out, s.kernel, config);
    BasicConv { conv, bn: batch_norm2d_eps(&p / "bn", c_out, BN_EPS) }
}

impl BasicConv {
    pub(super) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.bn.forward_t(&self.conv.forward(xs), train).relu_()
    }

    /// The precision of the convolution's weights.
    pub(super) fn weight_kind(&self) -> tch::Kind {
        self.conv.ws.kind()
    }
}

/// 3×3 max-pooling with stride 2 and no padding (the stem's and the reductions').
pub(super) fn max_pool(xs: &Tensor) -> Tensor {
    xs.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], false)
}

/// One branch of a mixed block; the block concatenates its branches along channels.
#[derive(Debug)]
pub(super) enum Branch {
    /// Convolutions in sequence.
    Convs(Vec<BasicConv>),
    /// 3×3 average pooling (stride 1, padding 1, padding counted as in PyTorch's default),
    /// then a 1×1 convolution.
    PoolConv(Box<BasicConv>),
    /// 3×3 max-pooling with stride 2 (the grid reductions' pass-through branch).
    MaxPool,
    /// Convolutions in sequence, then two convolutions side by side whose outputs are
    /// concatenated (Inception-E's expanded 1×3 / 3×1 filter banks).
    Fork(Vec<BasicConv>, Box<[BasicConv; 2]>),
}

impl Branch {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let chain = |convs: &[BasicConv]| {
            convs.iter().fold(xs.shallow_clone(), |x, c| c.forward_t(&x, train))
        };
        match self {
            Branch::Convs(convs) => chain(convs),
            Branch::PoolConv(conv) => {
                let pooled = xs.avg_pool2d([3, 3], [1, 1], [1, 1], false, true, None::<i64>);
                conv.forward_t(&pooled, train)
            }
            Branch::MaxPool => max_pool(xs),
            Branch::Fork(convs, pair) => {
                let [a, b] = pair.as_ref();
                let x = chain(convs);
                Tensor::cat(&[a.forward_t(&x, train), b.forward_t(&x, train)], 1)
            }
        }
    }
}

/// An Inception block: parallel branches concatenated along the channel axis.
#[derive(Debug)]
pub(super) struct Mixed {
    branches: Vec<Branch>,
    pub(super) out_channels: i64,
}

impl Mixed {
    pub(super) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let outs: Vec<Tensor> = self.branches.iter().map(|b| b.forward_t(xs, train)).collect();
        Tensor::cat(&outs, 1)
    }
}

/// Builds the convolutions of one mixed block under its path, by torchvision's names.
struct BlockBuilder<'a> {
    p: &'a nn::Path<'a>,
}

impl BlockBuilder<'_> {
    fn conv(&self, name: &str, c_in: i64, c_out: i64, s: Shape) -> BasicConv {
        basic_conv(self.p / name, c_in, c_out, s, 0.1)
    }

    /// A chain of convolutions `(name, out_channels, shape)` starting from `c_in` channels.
    fn chain(&self, c_in: i64, specs: &[(&str, i64, Shape)]) -> Vec<BasicConv> {
        let mut c = c_in;
        specs
            .iter()
            .map(|&(name, c_out, s)| {
                let conv = self.conv(name, c, c_out, s);
                c = c_out;
                conv
            })
            .collect()
    }
}

/// Inception-A (35×35): 1×1; 1×1 → 5×5; 1×1 → 3×3 → 3×3; average pool → 1×1.
pub(super) fn inception_a(p: &nn::Path, c_in: i64, pool_features: i64) -> Mixed {
    let b = BlockBuilder { p };
    let branches = vec![
        Branch::Convs(b.chain(c_in, &[("branch1x1", 64, k(1))])),
        Branch::Convs(
            b.chain(c_in, &[("branch5x5_1", 48, k(1)), ("branch5x5_2", 64, k(5).pad(2))]),
        ),
        Branch::Convs(b.chain(
            c_in,
            &[
                ("branch3x3dbl_1", 64, k(1)),
                ("branch3x3dbl_2", 96, k(3).pad(1)),
                ("branch3x3dbl_3", 96, k(3).pad(1)),
            ],
        )),
        Branch::PoolConv(Box::new(b.conv("branch_pool", c_in, pool_features, k(1)))),
    ];
    Mixed { branches, out_channels: 64 + 64 + 96 + pool_features }
}

/// Inception-B, the 35 → 17 grid reduction: 3×3/2; 1×1 → 3×3 → 3×3/2; max pool.
pub(super) fn inception_b(p: &nn::Path, c_in: i64) -> Mixed {
    let b = BlockBuilder { p };
    let branches = vec![
        Branch::Convs(b.chain(c_in, &[("branch3x3", 384, k(3).stride(2))])),
        Branch::Convs(b.chain(
            c_in,
            &[
                ("branch3x3dbl_1", 64, k(1)),
                ("branch3x3dbl_2", 96, k(3).pad(1)),
                ("branch3x3dbl_3", 96, k(3).stride(2)),
            ],
        )),
        Branch::MaxPool,
    ];
    Mixed { branches, out_channels: 384 + 96 + c_in }
}

/// Inception-C (17×17) with 7×7 convolutions factorised into 1×7 and 7×1 (`c7` channels
/// inside the factorised branches).
pub(super) fn inception_c(p: &nn::Path, c_in: i64, c7: i64) -> Mixed {
    let b = BlockBuilder { p };
    let branches = vec![
        Branch::Convs(b.chain(c_in, &[("branch1x1", 192, k(1))])),
        Branch::Convs(b.chain(
            c_in,
            &[
                ("branch7x7_1", c7, k(1)),
                ("branch7x7_2", c7, row(7)),
                ("branch7x7_3", 192, column(7)),
            ],
        )),
        Branch::Convs(b.chain(
            c_in,
            &[
                ("branch7x7dbl_1", c7, k(1)),
                ("branch7x7dbl_2", c7, column(7)),
                ("branch7x7dbl_3", c7, row(7)),
                ("branch7x7dbl_4", c7, column(7)),
                ("branch7x7dbl_5", 192, row(7)),
            ],
        )),
        Branch::PoolConv(Box::new(b.conv("branch_pool", c_in, 192, k(1)))),
    ];
    Mixed { branches, out_channels: 4 * 192 }
}

/// Inception-D, the 17 → 8 grid reduction: 1×1 → 3×3/2; 1×1 → 1×7 → 7×1 → 3×3/2; max pool.
pub(super) fn inception_d(p: &nn::Path, c_in: i64) -> Mixed {
    let b = BlockBuilder { p };
    let branches = vec![
        Branch::Convs(
            b.chain(c_in, &[("branch3x3_1", 192, k(1)), ("branch3x3_2", 320, k(3).stride(2))]),
        ),
        Branch::Convs(b.chain(
            c_in,
            &[
                ("branch7x7x3_1", 192, k(1)),
                ("branch7x7x3_2", 192, row(7)),
                ("branch7x7x3_3", 192, column(7)),
                ("branch7x7x3_4", 192, k(3).stride(2)),
            ],
        )),
        Branch::MaxPool,
    ];
    Mixed { branches, out_channels: 320 + 192 + c_in }
}

/// Inception-E (8×8): 1×1; 1×1 → (1×3 | 3×1); 1×1 → 3×3 → (1×3 | 3×1); average pool → 1×1.
pub(super) fn inception_e(p: &nn::Path, c_in: i64) -> Mixed {
    let b = BlockBuilder { p };
    let pair = |a: &str, bb: &str| {
        Box::new([b.conv(a, 384, 384, row(3)), b.conv(bb, 384, 384, column(3))])
    };
    let branches = vec![
        Branch::Convs(b.chain(c_in, &[("branch1x1", 320, k(1))])),
        Branch::Fork(
            b.chain(c_in, &[("branch3x3_1", 384, k(1))]),
            pair("branch3x3_2a", "branch3x3_2b"),
        ),
        Branch::Fork(
            b.chain(c_in, &[("branch3x3dbl_1", 448, k(1)), ("branch3x3dbl_2", 384, k(3).pad(1))]),
            pair("branch3x3dbl_3a", "branch3x3dbl_3b"),
        ),
        Branch::PoolConv(Box::new(b.conv("branch_pool", c_in, 192, k(1)))),
    ];
    Mixed { branches, out_channels: 320 + 2 * 384 + 2 * 384 + 192 }
}

/// The auxiliary classifier: 5×5/3 average pool, 1×1 and 5×5 convolutions, pooling, `fc`.
#[derive(Debug)]
pub(super) struct AuxHead {
    conv0: BasicConv,
    conv1: BasicConv,
    fc: nn::Linear,
}

pub(super) fn aux_head(p: nn::Path, classes: i64) -> AuxHead {
    AuxHead {
        conv0: basic_conv(&p / "conv0", AUX_IN, 128, k(1), 0.1),
        conv1: basic_conv(&p / "conv1", 128, 768, k(5), 0.01),
        fc: linear(&p / "fc", 768, classes, 0.001),
    }
}

impl AuxHead {
    /// # Shapes
    /// `[B, 768, 17, 17]` → `[B, classes]`.
    pub(super) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = xs.avg_pool2d([5, 5], [3, 3], [0, 0], false, true, None::<i64>); // [B, 768, 5, 5]
        let x = self.conv1.forward_t(&self.conv0.forward_t(&x, train), train); // [B, 768, 1, 1]
        self.fc.forward(&x.adaptive_avg_pool2d([1, 1]).flatten(1, -1))
    }
}

/// `nn.Linear` as torchvision's Inception initialises it: weights N(0, `stdev`) (its
/// `trunc_normal_`), bias PyTorch's default U(±1/√fan_in).
pub(super) fn linear(p: nn::Path, c_in: i64, c_out: i64, stdev: f64) -> nn::Linear {
    let bound = 1.0 / (c_in as f64).sqrt();
    let config = nn::LinearConfig {
        ws_init: normal(stdev),
        bs_init: Some(nn::Init::Uniform { lo: -bound, up: bound }),
        bias: true,
    };
    nn::linear(p, c_in, c_out, config)
}
