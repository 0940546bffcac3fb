//! `--set key=value` overrides: parsing them, and the parameter names a script's text
//! declares, against which [`super::run_script`] checks them before running.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Parse `key=value` pairs; keys must be identifiers and appear once.
pub fn parse_overrides(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(Error::Invalid(format!("--set '{pair}': expected key=value")));
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            return Err(Error::Invalid(format!(
                "--set '{pair}': the key must be a parameter name (letters, digits, _ and .)"
            )));
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(Error::Invalid(format!("--set {k} is given twice")));
        }
    }
    Ok(out)
}

/// Parameter names the script text passes to `param("…", …)` literally.
pub fn declared_params(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = source;
    while let Some(i) = rest.find("param(") {
        rest = &rest[i + 6..];
        let trimmed = rest.trim_start();
        if let Some(body) = trimmed.strip_prefix('"') {
            if let Some(end) = body.find('"') {
                let name = body[..end].to_string();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_declared_params() {
        let o = parse_overrides(&["lr=0.1".into(), "epochs=3".into()]).unwrap();
        assert_eq!(o["lr"], "0.1");
        assert!(parse_overrides(&["lr".into()]).is_err());
        assert!(parse_overrides(&["lr=1".into(), "lr=2".into()]).is_err());
        assert!(parse_overrides(&["a b=1".into()]).is_err());
        let src = "let lr = param(\"lr\", 1e-3);\nlet e = param( \"epochs\", 3);";
        assert_eq!(declared_params(src), vec!["lr", "epochs"]);
    }
}
