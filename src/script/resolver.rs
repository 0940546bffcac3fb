//! The import sandbox: `import "name" as x;` loads `name.rhai` from the importing script's
//! folder or from the schedule library (`scripts/lib/`), nothing else. Absolute paths,
//! `..` components, and files that resolve (through links) outside those folders are refused.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};

type SharedModule = Shared<Module>;

/// A [`rhai::ModuleResolver`] confined to a list of folders (searched in order).
pub struct SandboxResolver {
    roots: Vec<PathBuf>,
    cache: RefCell<HashMap<PathBuf, SharedModule>>,
}

impl SandboxResolver {
    /// A resolver reading only from `roots` (those that do not exist are skipped).
    pub fn new(roots: Vec<PathBuf>) -> Self {
        let roots = roots.into_iter().filter_map(|r| r.canonicalize().ok()).collect();
        SandboxResolver { roots, cache: RefCell::new(HashMap::new()) }
    }

    /// The folders imports may come from, canonical.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The file `path` names, or why it may not be imported.
    pub fn locate(&self, path: &str) -> Result<PathBuf, String> {
        if path.is_empty() {
            return Err("empty module path".into());
        }
        let rel = Path::new(path);
        if rel.is_absolute()
            || path.starts_with('/')
            || path.starts_with('\\')
            || path.contains(':')
        {
            return Err(format!(
                "module path '{path}' is absolute; scripts may only import from their own folder \
                 or the schedule library"
            ));
        }
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(format!(
                "module path '{path}' leaves the script folder ('..' and '.' are not allowed)"
            ));
        }
        let file =
            if path.ends_with(".rhai") { rel.to_path_buf() } else { rel.with_extension("rhai") };
        for root in &self.roots {
            let candidate = root.join(&file);
            if let Ok(real) = candidate.canonicalize() {
                if !real.starts_with(root) {
                    return Err(format!(
                        "module '{path}' resolves to {} outside {}",
                        real.display(),
                        root.display()
                    ));
                }
                if real.is_file() {
                    return Ok(real);
                }
            }
        }
        let searched: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        Err(format!("module '{path}' not found in {}", searched.join(", ")))
    }
}

impl rhai::ModuleResolver for SandboxResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let file = self.locate(path).map_err(|why| {
            // A runtime error rather than ErrorModuleNotFound, whose message Rhai replaces
            // with the bare path: the reason is the useful part.
            Box::new(EvalAltResult::ErrorRuntime(format!("cannot import: {why}").into(), pos))
        })?;
        if let Some(m) = self.cache.borrow().get(&file) {
            return Ok(m.clone());
        }
        let shown = file.display().to_string();
        let in_module =
            |e: Box<EvalAltResult>| Box::new(EvalAltResult::ErrorInModule(shown.clone(), e, pos));
        let mut ast = engine.compile_file(file.clone()).map_err(in_module)?;
        ast.set_source(shown.as_str());
        let mut module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        module.set_id(shown.as_str());
        let shared: SharedModule = module.into();
        self.cache.borrow_mut().insert(file, shared.clone());
        Ok(shared)
    }
}
