//! The Control Suite's models, embedded (see `assets/README.md` for their origin and licence),
//! and their compilation as dm_control's `Physics.from_xml_string(xml, common.ASSETS)` does.

use crate::mujoco::{Model, MujocoError};

/// The files of `dm_control/suite/common`, by the name the domains include them with.
const COMMON: [(&str, &str); 3] = [
    ("./common/materials.xml", include_str!("assets/common/materials.xml")),
    ("./common/skybox.xml", include_str!("assets/common/skybox.xml")),
    ("./common/visual.xml", include_str!("assets/common/visual.xml")),
];

/// The domain models, by domain name.
const DOMAINS: [(&str, &str); 8] = [
    ("ball_in_cup", include_str!("assets/ball_in_cup.xml")),
    ("cartpole", include_str!("assets/cartpole.xml")),
    ("cheetah", include_str!("assets/cheetah.xml")),
    ("finger", include_str!("assets/finger.xml")),
    ("hopper", include_str!("assets/hopper.xml")),
    ("quadruped", include_str!("assets/quadruped.xml")),
    ("reacher", include_str!("assets/reacher.xml")),
    ("walker", include_str!("assets/walker.xml")),
];

/// The MJCF text of a domain, as dm_control 1.0.50 ships it.
pub fn domain_xml(domain: &str) -> Option<&'static str> {
    DOMAINS.iter().find(|(name, _)| *name == domain).map(|(_, xml)| *xml)
}

/// Compile `xml` (the model of `domain`, possibly edited) with the common files beside it.
/// Each call compiles a model of its own: tasks write their model per episode.
pub fn compile(domain: &str, xml: &str) -> Result<Model, MujocoError> {
    let main = format!("{domain}.xml");
    let mut files = vec![(main.as_str(), xml)];
    files.extend(COMMON);
    Model::from_xml_files(&main, &files)
}

/// quadruped's `make_model(floor_size)` for the move tasks (walk, run): the model without its
/// walls, ball, target site, terrain geom and rangefinder sensors, with a floor `floor_size`
/// metres square each way (dm_control edits the parsed XML; the same elements are taken out of
/// the text here, each checked to be there exactly once).
pub fn quadruped_move_xml(floor_size: &str) -> Result<String, MujocoError> {
    let xml = domain_xml("quadruped").unwrap_or_default();
    let changed = |what: &str| MujocoError::XmlInvalid {
        file: "quadruped.xml".into(),
        message: format!("the embedded model no longer has {what} where Graft expects it"),
    };
    let lines: Vec<&str> = xml.lines().collect();
    let mut keep = vec![true; lines.len()];
    let mut drop_line = |needle: &str| -> Result<(), MujocoError> {
        let hits: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains(needle)).collect();
        match hits.as_slice() {
            [i] => {
                keep[*i] = false;
                Ok(())
            }
            _ => Err(changed(needle)),
        }
    };
    for wall in ["wall_px", "wall_py", "wall_nx", "wall_ny"] {
        drop_line(&format!("<geom name=\"{wall}\""))?;
    }
    drop_line("<site name=\"target\"")?;
    drop_line("<geom name=\"terrain\"")?;
    // The ball: its <body> line through the matching </body>.
    let start = lines
        .iter()
        .position(|l| l.contains("<body name=\"ball\""))
        .ok_or_else(|| changed("the ball body"))?;
    let mut depth = 0i32;
    let mut end = None;
    for (i, line) in lines.iter().enumerate().skip(start) {
        depth += line.matches("<body").count() as i32;
        depth -= line.matches("</body>").count() as i32;
        if depth == 0 {
            end = Some(i);
            break;
        }
    }
    let end = end.ok_or_else(|| changed("the end of the ball body"))?;
    keep[start..=end].iter_mut().for_each(|k| *k = false);
    let mut rangefinders = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("<rangefinder ") {
            keep[i] = false;
            rangefinders += 1;
        }
    }
    if rangefinders == 0 {
        return Err(changed("rangefinder sensors"));
    }
    let floor = "<geom name=\"floor\" type=\"plane\" size=\"15 15 .5\"";
    let mut out = String::with_capacity(xml.len());
    let mut floors = 0;
    for (line, keep) in lines.iter().zip(keep) {
        if !keep {
            continue;
        }
        if line.contains(floor) {
            floors += 1;
            let sized = format!(
                "<geom name=\"floor\" type=\"plane\" size=\"{floor_size} {floor_size} .5\""
            );
            out.push_str(&line.replace(floor, &sized));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if floors != 1 {
        return Err(changed("the floor geom"));
    }
    Ok(out)
}
