//! Size estimates of zoo models, made from their configs before anything is allocated, so a
//! config that asks for more memory than the machine has (`input_dim: 1000000, hidden:
//! [1000000]` is 4 TB of weights) is refused with the numbers instead of panicking inside
//! libtorch's allocator or being ended by the kernel's OOM killer.
//!
//! The estimates are upper bounds within a small factor (convolution output sizes are taken
//! before later strides shrink them), which is all a refusal needs; exact parameter counts
//! come from building the model.

use super::resnet::BlockKind;
use super::zoo::ModelConfig;
use crate::error::Result;

/// Bytes per parameter held while a model is built: the float32 value, and as much again for
/// the initialiser's temporary.
const BUILD_BYTES_PER_PARAM: u128 = 8;

fn n(x: i64) -> u128 {
    x.max(0) as u128
}

/// Weights and bias of a dense layer.
fn linear(inputs: u128, outputs: u128) -> u128 {
    inputs.saturating_mul(outputs).saturating_add(outputs)
}

/// Weights and bias of a `k`x`k` convolution.
fn conv(inputs: u128, outputs: u128, k: u128) -> u128 {
    inputs.saturating_mul(outputs).saturating_mul(k * k).saturating_add(outputs)
}

/// An upper bound of the parameter count of `model` (head included).
pub fn estimated_params(model: &ModelConfig) -> u128 {
    let head = |features: u128, outputs: Option<i64>| outputs.map_or(0, |o| linear(features, n(o)));
    match model {
        ModelConfig::Mlp(c) => {
            let mut dims = vec![n(c.input_dim)];
            dims.extend(c.hidden.iter().map(|&h| n(h)));
            dims.extend(c.num_outputs.map(n));
            dims.windows(2).fold(0u128, |acc, w| acc.saturating_add(linear(w[0], w[1])))
        }
        ModelConfig::NatureCnn(c) => {
            // 8x8 stride 4, 4x4 stride 2, 3x3 stride 1; the flattened features are bounded
            // by the first stride alone.
            let convs = conv(n(c.in_channels), 32, 8) + conv(32, 64, 4) + conv(64, 64, 3);
            let flat =
                64u128.saturating_mul(n(c.height) / 4 + 1).saturating_mul(n(c.width) / 4 + 1);
            convs
                .saturating_add(linear(flat, n(c.hidden)))
                .saturating_add(head(n(c.hidden), c.num_outputs))
        }
        ModelConfig::MinatarCnn(c) => {
            let ch = n(c.conv_channels);
            let flat = ch.saturating_mul(n(c.height)).saturating_mul(n(c.width));
            conv(n(c.in_channels), ch, 3)
                .saturating_add(linear(flat, n(c.hidden)))
                .saturating_add(head(n(c.hidden), c.num_outputs))
        }
        ModelConfig::DrqCnn(c) => {
            let ch = n(c.channels);
            let convs = conv(n(c.in_channels), ch, 3).saturating_add(
                (c.layers.saturating_sub(1) as u128).saturating_mul(conv(ch, ch, 3)),
            );
            // The first stride halves the side; the later 3x3 convolutions only shrink it.
            let flat = ch.saturating_mul(n(c.height) / 2 + 1).saturating_mul(n(c.width) / 2 + 1);
            convs.saturating_add(head(flat, c.num_outputs))
        }
        ModelConfig::ImpalaCnn(c) => {
            let mut total = 0u128;
            let mut prev = n(c.in_channels);
            for &ch in &c.channels {
                let ch = n(ch);
                let blocks = (2 * c.blocks_per_stack as u128).saturating_mul(conv(ch, ch, 3));
                total = total.saturating_add(conv(prev, ch, 3)).saturating_add(blocks);
                prev = ch;
            }
            // Each stack halves the side (max-pool, stride 2).
            let shrink = 1u128 << c.channels.len().min(60);
            let flat = prev
                .saturating_mul(n(c.height) / shrink + 1)
                .saturating_mul(n(c.width) / shrink + 1);
            total
                .saturating_add(linear(flat, n(c.hidden)))
                .saturating_add(head(n(c.hidden), c.num_outputs))
        }
        ModelConfig::Resnet(c) => {
            let expansion = match c.block {
                BlockKind::Basic => 1,
                BlockKind::Bottleneck => 4,
            };
            let mut total = conv(n(c.in_channels), 64, 7);
            let mut prev = 64u128;
            for (stage, &blocks) in c.layers.iter().enumerate() {
                let width = n(c.base_width).saturating_mul(1 << stage);
                let out = width.saturating_mul(expansion);
                // At most three 3x3 convolutions as wide as the block's output, plus a
                // projection of the input.
                let block = conv(out, out, 3).saturating_mul(3);
                total = total
                    .saturating_add(conv(prev, out, 1))
                    .saturating_add(block.saturating_mul(blocks as u128));
                prev = out;
            }
            total.saturating_add(head(prev, c.num_classes))
        }
        ModelConfig::Vgg(c) => {
            let mut total = 0u128;
            let mut prev = n(c.in_channels);
            for &ch in c.layers.iter().filter(|&&ch| ch > 0) {
                total = total.saturating_add(conv(prev, n(ch), 3));
                prev = n(ch);
            }
            let flat = prev.saturating_mul(n(c.pool_size)).saturating_mul(n(c.pool_size));
            total
                .saturating_add(linear(flat, n(c.hidden)))
                .saturating_add(linear(n(c.hidden), n(c.hidden)))
                .saturating_add(head(n(c.hidden), c.num_classes))
        }
        ModelConfig::Vit(c) => {
            let w = n(c.width);
            let patch = n(c.patch_size).max(1);
            let tokens = (n(c.image_size) / patch).pow(2).saturating_add(1);
            let mlp = (c.width.max(0) as f64 * c.mlp_ratio.max(0.0)).min(1e30) as u128;
            let block = linear(w, 3 * w)
                .saturating_add(linear(w, w))
                .saturating_add(linear(w, mlp))
                .saturating_add(linear(mlp, w))
                .saturating_add(4 * w);
            // Patch projection, position embeddings, class token and the final LayerNorm.
            conv(n(c.in_channels), w, patch)
                .saturating_add(tokens.saturating_mul(w))
                .saturating_add(3 * w)
                .saturating_add(block.saturating_mul(c.depth as u128))
                .saturating_add(head(w, c.num_classes))
        }
        ModelConfig::InceptionV3(c) => {
            // The fixed body is 24.3M parameters (running statistics included, 25M bounds
            // it); what a config changes is the first convolution and the two heads.
            let aux = if c.aux_logits { head(768, c.num_classes) } else { 0 };
            (25_000_000u128)
                .saturating_add(conv(n(c.in_channels), 32, 3))
                .saturating_add(head(2048, c.num_classes))
                .saturating_add(aux)
        }
    }
}

/// Refuse to build `model` when its parameters alone would not fit in the memory available
/// now (see [`crate::device::check_memory`]).
pub fn check_buildable(model: &ModelConfig) -> Result<()> {
    let params = estimated_params(model);
    crate::device::check_memory(
        &format!("model '{}' (up to {params} parameters)", model.kind()),
        params.saturating_mul(BUILD_BYTES_PER_PARAM),
    )
}

/// Refuse a linear head of `outputs` on `features` inputs that would not fit in memory.
pub fn check_head(features: i64, outputs: i64) -> Result<()> {
    let params = linear(n(features), n(outputs));
    crate::device::check_memory(
        &format!("a head of {outputs} outputs on {features} features ({params} parameters)"),
        params.saturating_mul(BUILD_BYTES_PER_PARAM),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_bound_the_built_parameter_counts() {
        for name in [
            "mlp",
            "nature_cnn",
            "impala_cnn",
            "minatar_cnn",
            "resnet18",
            "vgg11",
            "vit_tiny",
            "inception_v3",
        ] {
            let model = ModelConfig::preset(name).unwrap();
            let vs = tch::nn::VarStore::new(tch::Device::Cpu);
            let _net = model.build(&vs.root()).unwrap();
            let built: i64 = vs.variables().values().map(|t| t.numel() as i64).sum();
            let estimate = estimated_params(&model);
            assert!(
                estimate >= built as u128 && estimate <= 20 * built as u128,
                "{name}: estimate {estimate}, built {built}"
            );
        }
    }

    #[test]
    fn a_terabyte_model_is_refused_with_its_size() {
        let model =
            ModelConfig::from_json(r#"{"kind": "mlp", "input_dim": 1000000, "hidden": [1000000]}"#)
                .unwrap();
        let e = check_buildable(&model).unwrap_err().to_string();
        assert!(e.contains("model 'mlp'") && e.contains("TiB") && e.contains("available"), "{e}");
        assert!(check_head(512, 100_000_000_000).is_err());
        assert!(check_head(512, 10).is_ok());
    }
}
