//! Module resolution for `import`: `psyche/...` paths come from `stdlib/`, compiled into the
//! binary so an installed runbook engine works from any directory; other paths are files
//! relative to the importing script's directory (`.rhai` may be omitted), read within the file
//! boundary like any file a runbook names.

use crate::engine::sources::{Sources, strip_shebang};
use crate::files::boundary::FileBoundary;
use rhai::module_resolvers::ModuleResolver;
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The standard library shipped inside the binary: (import path, source).
pub const STDLIB: &[(&str, &str)] = &[
    ("psyche/alerts", include_str!("../../stdlib/psyche/alerts.rhai")),
    ("psyche/allowlist", include_str!("../../stdlib/psyche/allowlist.rhai")),
    ("psyche/checks", include_str!("../../stdlib/psyche/checks.rhai")),
    ("psyche/runway", include_str!("../../stdlib/psyche/runway.rhai")),
];

/// The display name of a stdlib module in diagnostics.
pub fn stdlib_name(path: &str) -> String {
    format!("stdlib/{path}.rhai")
}

pub struct Resolver {
    sources: Sources,
    /// Directory of the top-level script (or the working directory in the REPL).
    base_dir: PathBuf,
    files: FileBoundary,
    cache: Mutex<HashMap<String, Shared<Module>>>,
}

impl Resolver {
    pub fn new(sources: Sources, base_dir: PathBuf, files: FileBoundary) -> Self {
        Self { sources, base_dir, files, cache: Mutex::default() }
    }
}

/// Where `path` lives (its display name) and its text, as imported from the script named
/// `importer`; relative paths resolve from the importer's directory, else from `base_dir`, and
/// must stay within `files`.
pub fn locate(
    files: &FileBoundary,
    base_dir: &Path,
    importer: Option<&str>,
    path: &str,
) -> Result<(String, String), String> {
    if let Some((_, text)) = STDLIB.iter().find(|(name, _)| *name == path) {
        return Ok((stdlib_name(path), (*text).to_string()));
    }
    if path.starts_with("psyche/") {
        let known: Vec<_> = STDLIB.iter().map(|(name, _)| *name).collect();
        return Err(format!("no stdlib module \"{path}\" (available: {})", known.join(", ")));
    }
    let dir = importer
        .filter(|name| !name.starts_with("stdlib/"))
        .and_then(|name| Path::new(name).parent())
        .map_or_else(|| base_dir.to_path_buf(), Path::to_path_buf);
    let mut file = dir.join(path);
    if file.extension().is_none() {
        file.set_extension("rhai");
    }
    let shown = file.display().to_string();
    let text = files.read_text_from(&shown, &file, "a module").map_err(|e| format!("cannot read module: {}", e.0))?;
    Ok((shown, strip_shebang(&text)))
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let (name, text) = locate(&self.files, &self.base_dir, source, path)
            .map_err(|message| EvalAltResult::ErrorRuntime(message.into(), pos))?;
        if let Some(module) = self.cache.lock().expect("module cache lock").get(&name) {
            return Ok(module.clone());
        }
        self.sources.insert(&name, &text);
        let in_module = |err: Box<EvalAltResult>| Box::new(EvalAltResult::ErrorInModule(name.clone(), err, pos));
        let mut ast = engine.compile(&text).map_err(|e| in_module(e.into()))?;
        ast.set_source(name.as_str());
        let module: Shared<Module> = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?.into();
        self.cache.lock().expect("module cache lock").insert(name, module.clone());
        Ok(module)
    }
}
