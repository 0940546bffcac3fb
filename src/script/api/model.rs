//! `model::` — build zoo encoders from presets or config maps, load and save checkpoints,
//! list layer groups. A model value is shared: fine-tuning updates it in place.
//!
//! ```rhai
//! let m = model::build(#{kind: "mlp", input_dim: 4, hidden: [64, 64]});
//! print(m.groups);               // ["layers.0", "layers.1"]
//! model::save(m, "encoder.safetensors");   // into the run directory
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Array, Dynamic, Engine, Map, Module};
use tch::nn;

use super::{fail, from_map, to_dyn, RhaiResult};
use crate::models::{
    attach_head, checkpoint, CheckpointMeta, Encoder, LoadOptions, ModelConfig, PRESETS,
};
use crate::script::error::to_rhai;
use crate::script::session::Session;

/// Checkpoint metadata key holding the width of a head attached by fine-tuning.
pub const META_HEAD: &str = "graft.head";

/// A model in a script: variables, the network, its configuration and any attached head.
pub struct ModelState {
    /// The variables.
    pub vs: nn::VarStore,
    /// The network (taken out briefly while a head is attached).
    pub net: Option<Box<dyn Encoder>>,
    /// The zoo configuration it was built from.
    pub config: ModelConfig,
    /// Width of a head attached by [`ModelHandle::attach_head`], if any.
    pub head: Option<i64>,
}

/// Shared handle on a model (Rhai type `Model`).
#[derive(Clone)]
pub struct ModelHandle(pub Rc<RefCell<ModelState>>);

impl ModelHandle {
    /// Build `config` on `device`.
    pub fn build(config: ModelConfig, device: tch::Device) -> crate::Result<Self> {
        let vs = nn::VarStore::new(device);
        let net = config.build(&vs.root())?;
        Ok(ModelHandle(Rc::new(RefCell::new(ModelState {
            vs,
            net: Some(net),
            config,
            head: None,
        }))))
    }

    /// Put a fresh linear head of width `out` (group `head`) on the network.
    pub fn attach_head(&self, out: i64) -> crate::Result<()> {
        let mut st = self.0.borrow_mut();
        if st.net.as_ref().is_some_and(|n| n.layer_groups().iter().any(|g| g.name == "head")) {
            return Err(crate::Error::Invalid(
                "the model already has a head group; build it without one (e.g. num_classes: ())"
                    .into(),
            ));
        }
        let net = st.net.take().ok_or_else(|| crate::Error::Invalid("model is busy".into()))?;
        let root = st.vs.root();
        match attach_head(&(&root / "head"), net, out) {
            Ok(with) => {
                st.net = Some(Box::new(with));
                st.head = Some(out);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn group_names(&self) -> Array {
        let st = self.0.borrow();
        st.net
            .as_ref()
            .map(|n| n.layer_groups().into_iter().map(|g| Dynamic::from(g.name)).collect())
            .unwrap_or_default()
    }
}

fn config_from(value: Dynamic) -> RhaiResult<ModelConfig> {
    if let Some(name) = value.clone().try_cast::<rhai::ImmutableString>() {
        return ModelConfig::preset(&name).map_err(to_rhai);
    }
    match value.try_cast::<Map>() {
        Some(map) => from_map("model config", map),
        None => fail("model config must be a preset name or a map such as #{kind: \"mlp\"}".into()),
    }
}

/// Register the `Model` type and its properties.
/// A checkpoint and the model config it records (needed to build the model it loads into).
fn read_with_config(path: &std::path::Path) -> RhaiResult<(checkpoint::Checkpoint, ModelConfig)> {
    let ckpt = checkpoint::Checkpoint::read(path).map_err(to_rhai)?;
    match ckpt.meta.model_config().map_err(to_rhai)? {
        Some(config) => Ok((ckpt, config)),
        None => fail(format!(
            "checkpoint {} stores no model config; build the model and load weights into it",
            path.display()
        )),
    }
}

pub fn register_types(engine: &mut Engine) {
    engine
        .register_type_with_name::<ModelHandle>("Model")
        .register_get("groups", |m: &mut ModelHandle| m.group_names())
        .register_get("num_params", |m: &mut ModelHandle| {
            let st = m.0.borrow();
            st.vs.trainable_variables().iter().map(|t| t.numel() as i64).sum::<i64>()
        })
        .register_get("output_dim", |m: &mut ModelHandle| {
            m.0.borrow().net.as_ref().map_or(0, |n| n.output_dim())
        })
        .register_get("config", |m: &mut ModelHandle| to_dyn(&m.0.borrow().config))
        .register_fn("to_string", |m: &mut ModelHandle| {
            format!("Model({}, groups {:?})", m.0.borrow().config.kind(), m.group_names())
        });
}

/// The `model` module.
pub fn module(session: &Session) -> Module {
    let mut m = Module::new();
    m.set_native_fn("presets", || {
        Ok(PRESETS.iter().map(|p| Dynamic::from(p.to_string())).collect::<Array>())
    });
    api_fn!(m, "preset", |name: &str| to_dyn(&ModelConfig::preset(name).map_err(to_rhai)?));
    let s = session.clone();
    api_fn!(m, "build", |config: Dynamic| {
        ModelHandle::build(config_from(config)?, s.device()).map_err(to_rhai)
    });
    api_fn!(m, "groups", |model: &mut ModelHandle| Ok(model.group_names()));
    api_fn!(m, "attach_head", |model: &mut ModelHandle, out: i64| {
        model.attach_head(out).map_err(to_rhai)
    });
    let s = session.clone();
    api_fn!(m, "save", |model: &mut ModelHandle, path: &str| {
        let path = s.output_path(path).map_err(to_rhai)?;
        let st = model.0.borrow();
        let mut meta = CheckpointMeta::new(Some(&st.config), None);
        if let Some(h) = st.head {
            meta.extra.insert(META_HEAD.into(), h.to_string());
        }
        checkpoint::save(&path, &st.vs, &meta).map_err(to_rhai)?;
        Ok(path.display().to_string())
    });
    let s = session.clone();
    api_fn!(m, "load", |path: &str| {
        let (ckpt, config) = read_with_config(&s.input_path(path))?;
        let handle = ModelHandle::build(config, s.device()).map_err(to_rhai)?;
        if let Some(h) = ckpt.meta.extra.get(META_HEAD) {
            let out: i64 = h
                .parse()
                .map_err(|_| to_rhai(crate::Error::Invalid(format!("bad {META_HEAD} '{h}'"))))?;
            handle.attach_head(out).map_err(to_rhai)?;
        }
        checkpoint::load_checkpoint(&mut handle.0.borrow_mut().vs, &ckpt, &LoadOptions::strict())
            .map_err(to_rhai)?;
        Ok(handle)
    });
    let s = session.clone();
    api_fn!(m, "load_encoder", |path: &str| {
        let (ckpt, config) = read_with_config(&s.input_path(path))?;
        let handle = ModelHandle::build(config.without_head(), s.device()).map_err(to_rhai)?;
        // Heads (the zoo's own or one attached by fine-tuning) and optimizer state are left
        // behind; every encoder variable must be present.
        let report = checkpoint::load_checkpoint(
            &mut handle.0.borrow_mut().vs,
            &ckpt,
            &LoadOptions::partial(),
        )
        .map_err(to_rhai)?;
        if !report.missing.is_empty() {
            return fail(format!(
                "checkpoint {} lacks encoder variables: {}",
                ckpt.path.display(),
                report.missing.join(", ")
            ));
        }
        s.log_line(&format!(
            "loaded encoder from {} ({} tensors; left behind: {})",
            ckpt.path.display(),
            report.loaded.len(),
            report.unexpected.len()
        ));
        Ok(handle)
    });
    m
}
