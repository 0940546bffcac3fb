//! The rendering arguments of Gymnasium's `MujocoEnv` (1.4.0): `width`, `height` (480),
//! `camera_id`, `camera_name`, `default_camera_config`, `max_geom` (1000) and
//! `visual_options`, as [`RenderConfig`], taken out of an environment's keyword arguments by
//! [`RenderConfig::split`].
//!
//! `default_camera_config` is a map of `mjvCamera` fields (`distance`, `azimuth`,
//! `elevation`, `lookat` (three numbers), `trackbodyid`, `fixedcamid`, `type`,
//! `orthographic`), applied as Gymnasium's `MujocoRenderer._set_cam_config` does; each
//! environment has Gymnasium's own default ([`MujocoTask::default_camera`]).
//! `visual_options` maps `mjtVisFlag` values (`"2"` or `"mjVIS_JOINT"`) to booleans.
//!
//! [`MujocoTask::default_camera`]: super::MujocoTask::default_camera

use std::collections::BTreeMap;

use crate::env::{Info, Kwargs, Value};
use crate::error::{EnvError, Result};
use crate::mujoco::base::{MujocoEnv, MujocoTask};

/// Gymnasium's `DEFAULT_SIZE`.
pub const DEFAULT_SIZE: u32 = 480;

/// The keyword arguments [`RenderConfig::split`] takes.
pub const RENDER_KWARGS: &[&str] = &[
    "width",
    "height",
    "camera_id",
    "camera_name",
    "default_camera_config",
    "max_geom",
    "visual_options",
];

/// MuJoCo 3.17's `mjtVisFlag` names, in order (`mjvisualize.h`).
const VIS_FLAGS: &[&str] = &[
    "mjVIS_CONVEXHULL",
    "mjVIS_TEXTURE",
    "mjVIS_JOINT",
    "mjVIS_CAMERA",
    "mjVIS_ACTUATOR",
    "mjVIS_ACTIVATION",
    "mjVIS_LIGHT",
    "mjVIS_TENDON",
    "mjVIS_RANGEFINDER",
    "mjVIS_CONSTRAINT",
    "mjVIS_INERTIA",
    "mjVIS_SCLINERTIA",
    "mjVIS_PERTFORCE",
    "mjVIS_PERTOBJ",
    "mjVIS_CONTACTPOINT",
    "mjVIS_ISLAND",
    "mjVIS_CONTACTFORCE",
    "mjVIS_CONTACTSPLIT",
    "mjVIS_TRANSPARENT",
    "mjVIS_AUTOCONNECT",
    "mjVIS_COM",
    "mjVIS_SELECT",
    "mjVIS_STATIC",
    "mjVIS_SKIN",
    "mjVIS_FLEXVERT",
    "mjVIS_FLEXEDGE",
    "mjVIS_FLEXFACE",
    "mjVIS_FLEXSKIN",
    "mjVIS_BODYBVH",
    "mjVIS_MESHBVH",
    "mjVIS_SDFITER",
];

/// The number of `mjtVisFlag` values `visual_options` may name.
pub(crate) fn vis_flag_count() -> usize {
    VIS_FLAGS.len()
}

/// Fields of MuJoCo's `mjvCamera` to set (Gymnasium's `default_camera_config`); `None`
/// leaves MuJoCo's default (or the free camera Gymnasium sets up) in place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CameraConfig {
    /// `mjtCamera`: 0 free, 1 tracking, 2 fixed.
    pub kind: Option<i32>,
    /// Fixed camera id.
    pub fixedcamid: Option<i32>,
    /// Body to track.
    pub trackbodyid: Option<i32>,
    /// Point the camera looks at.
    pub lookat: Option<[f64; 3]>,
    /// Distance to `lookat`.
    pub distance: Option<f64>,
    /// Azimuth in degrees.
    pub azimuth: Option<f64>,
    /// Elevation in degrees.
    pub elevation: Option<f64>,
    /// Orthographic instead of perspective projection.
    pub orthographic: Option<bool>,
}

impl CameraConfig {
    /// From a `default_camera_config` map (keys as `mjvCamera`'s fields).
    pub fn from_map(env: &str, map: &Info) -> Result<CameraConfig> {
        let key = "default_camera_config";
        let bad = |field: &str, want: &str, v: &Value| EnvError::BadKwarg {
            env: env.to_string(),
            key: key.to_string(),
            reason: format!("{field}: expected {want}, got {v:?}"),
        };
        let mut c = CameraConfig::default();
        for (field, v) in map.iter() {
            let int = || match v {
                Value::Int(i) if i32::try_from(*i).is_ok() => Ok(*i as i32),
                _ => Err(bad(field, "an int", v)),
            };
            let num = || match v.as_f64() {
                Some(x) if x.is_finite() => Ok(x),
                _ => Err(bad(field, "a finite number", v)),
            };
            match field.as_str() {
                "type" => c.kind = Some(int()?),
                "fixedcamid" => c.fixedcamid = Some(int()?),
                "trackbodyid" => c.trackbodyid = Some(int()?),
                "distance" => c.distance = Some(num()?),
                "azimuth" => c.azimuth = Some(num()?),
                "elevation" => c.elevation = Some(num()?),
                "orthographic" => match v {
                    Value::Bool(b) => c.orthographic = Some(*b),
                    Value::Int(i @ (0 | 1)) => c.orthographic = Some(*i == 1),
                    _ => return Err(bad(field, "a bool", v)),
                },
                "lookat" => match v {
                    Value::Floats(xs) if xs.len() == 3 && xs.iter().all(|x| x.is_finite()) => {
                        c.lookat = Some([xs[0], xs[1], xs[2]])
                    }
                    _ => return Err(bad(field, "three finite numbers", v)),
                },
                other => {
                    return Err(EnvError::BadKwarg {
                        env: env.to_string(),
                        key: key.to_string(),
                        reason: format!(
                            "unknown camera field {other:?}; accepted: type, fixedcamid, \
                             trackbodyid, lookat, distance, azimuth, elevation, orthographic"
                        ),
                    })
                }
            }
        }
        Ok(c)
    }
}

/// Gymnasium's rendering arguments of a MuJoCo environment (see the module header).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderConfig {
    /// Frame width of `render()`.
    pub width: u32,
    /// Frame height of `render()`.
    pub height: u32,
    /// A camera of the model by index (`-1`: the free camera).
    pub camera_id: Option<i32>,
    /// A camera of the model by name.
    pub camera_name: Option<String>,
    /// The free camera's setup; `None` for the environment's default.
    pub default_camera_config: Option<CameraConfig>,
    /// Room for this many geoms in the scene.
    pub max_geom: u32,
    /// `mjvOption.flags` to set, by `mjtVisFlag` index.
    pub visual_options: BTreeMap<usize, bool>,
    /// `mjvScene.flags` to set, by `mjtRndFlag` value (shadows, reflections, ...); empty for
    /// MuJoCo's defaults (all on), as Gymnasium and dm_control render.
    pub scene_flags: BTreeMap<i32, bool>,
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig {
            width: DEFAULT_SIZE,
            height: DEFAULT_SIZE,
            camera_id: None,
            camera_name: None,
            default_camera_config: None,
            max_geom: 1000,
            visual_options: BTreeMap::new(),
            scene_flags: BTreeMap::new(),
        }
    }
}

impl RenderConfig {
    /// Take the rendering arguments out of `kwargs`: the configuration, and the remaining
    /// arguments for the environment's own constructor. Both `camera_id` and `camera_name`
    /// are refused, as Gymnasium refuses them.
    pub fn split(env: &str, kwargs: &Kwargs) -> Result<(RenderConfig, Kwargs)> {
        let bad = |key: &str, reason: String| EnvError::BadKwarg {
            env: env.to_string(),
            key: key.to_string(),
            reason,
        };
        let size = |key: &str, v: &Value| match v {
            Value::Int(n) if (1..=16384).contains(n) => Ok(*n as u32),
            _ => Err(bad(key, format!("expected an int in 1..=16384, got {v:?}"))),
        };
        let mut c = RenderConfig::default();
        let mut rest = Kwargs::new();
        for (key, v) in kwargs {
            match key.as_str() {
                "width" => c.width = size(key, v)?,
                "height" => c.height = size(key, v)?,
                "max_geom" => c.max_geom = size(key, v)?,
                "camera_id" => match v {
                    Value::Int(i) if *i >= -1 && *i <= i64::from(i32::MAX) => {
                        c.camera_id = Some(*i as i32)
                    }
                    _ => return Err(bad(key, format!("expected an int >= -1, got {v:?}"))),
                },
                "camera_name" => match v {
                    Value::Str(s) => c.camera_name = Some(s.clone()),
                    _ => return Err(bad(key, format!("expected a string, got {v:?}"))),
                },
                "default_camera_config" => match v {
                    Value::Map(m) => {
                        c.default_camera_config = Some(CameraConfig::from_map(env, m)?)
                    }
                    _ => return Err(bad(key, format!("expected a map, got {v:?}"))),
                },
                "visual_options" => match v {
                    Value::Map(m) => {
                        for (flag, on) in m.iter() {
                            let index = VIS_FLAGS
                                .iter()
                                .position(|n| n == flag)
                                .or_else(|| flag.parse::<usize>().ok())
                                .filter(|&i| i < VIS_FLAGS.len())
                                .ok_or_else(|| {
                                    bad(key, format!("{flag:?} is not an mjtVisFlag (0..{}, or a name such as mjVIS_JOINT)", VIS_FLAGS.len()))
                                })?;
                            let on = match on {
                                Value::Bool(b) => *b,
                                Value::Int(i @ (0 | 1)) => *i == 1,
                                _ => {
                                    return Err(bad(
                                        key,
                                        format!("{flag}: expected a bool, got {on:?}"),
                                    ))
                                }
                            };
                            c.visual_options.insert(index, on);
                        }
                    }
                    _ => return Err(bad(key, format!("expected a map, got {v:?}"))),
                },
                _ => {
                    rest.insert(key.clone(), v.clone());
                }
            }
        }
        if c.camera_id.is_some() && c.camera_name.is_some() {
            return Err(bad(
                "camera_id",
                "both `camera_id` and `camera_name` cannot be specified at the same time".into(),
            ));
        }
        Ok((c, rest))
    }
}

/// Build an environment from `make`-style keyword arguments: the rendering arguments are
/// taken out ([`RenderConfig::split`]) and the rest go to `build`.
pub(crate) fn with_render_kwargs<T: MujocoTask>(
    env: &str,
    kwargs: &Kwargs,
    build: impl FnOnce(&Kwargs) -> Result<MujocoEnv<T>>,
) -> Result<MujocoEnv<T>> {
    let (render, rest) = RenderConfig::split(env, kwargs)?;
    Ok(build(&rest)?.with_render(render))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_takes_render_arguments_and_leaves_the_rest() {
        let kw = Kwargs::from([
            ("width".to_string(), Value::Int(96)),
            ("camera_id".to_string(), Value::Int(-1)),
            ("frame_skip".to_string(), Value::Int(4)),
            (
                "default_camera_config".to_string(),
                Value::Map(Info::from([
                    ("distance".to_string(), Value::Float(3.0)),
                    ("lookat".to_string(), Value::Floats(vec![0.0, 0.0, 1.15])),
                ])),
            ),
            (
                "visual_options".to_string(),
                Value::Map(Info::from([("mjVIS_JOINT".to_string(), Value::Bool(true))])),
            ),
        ]);
        let (c, rest) = RenderConfig::split("E", &kw).unwrap();
        assert_eq!((c.width, c.height, c.camera_id), (96, 480, Some(-1)));
        let cam = c.default_camera_config.unwrap();
        assert_eq!((cam.distance, cam.lookat), (Some(3.0), Some([0.0, 0.0, 1.15])));
        assert_eq!(c.visual_options.get(&2), Some(&true));
        assert_eq!(rest, Kwargs::from([("frame_skip".to_string(), Value::Int(4))]));
    }

    #[test]
    fn split_refuses_both_cameras_and_bad_values() {
        let both = Kwargs::from([
            ("camera_id".to_string(), Value::Int(0)),
            ("camera_name".to_string(), Value::Str("track".into())),
        ]);
        for kw in [
            both,
            Kwargs::from([("width".to_string(), Value::Int(0))]),
            Kwargs::from([("camera_id".to_string(), Value::Int(-2))]),
            Kwargs::from([(
                "default_camera_config".to_string(),
                Value::Map(Info::from([("zoom".to_string(), Value::Float(1.0))])),
            )]),
            Kwargs::from([(
                "visual_options".to_string(),
                Value::Map(Info::from([("99".to_string(), Value::Bool(true))])),
            )]),
        ] {
            assert!(matches!(RenderConfig::split("E", &kw), Err(EnvError::BadKwarg { .. })));
        }
    }
}
