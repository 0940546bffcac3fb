//! Pretext tasks on state-action trajectory datasets, one file each.

pub mod behaviour_cloning;
pub mod forward_prediction;
pub mod inverse_dynamics;
pub mod sequence;
pub mod state_prediction;
pub mod temporal_contrastive;
