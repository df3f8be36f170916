//! The Rhai engine runbooks run in: sandbox limits, strict variables, `print`/`debug` routed to
//! stderr, interruption, module resolution, the host API, and diagnostics with file:line:col.

pub mod check;
pub mod completion;
pub mod docs;
pub mod errors;
pub mod interrupt;
pub mod modules;
pub mod repl;
pub mod sources;
pub mod suggest;
pub mod values;

use crate::api::host::Host;
use crate::engine::errors::Diagnostic;
use crate::engine::interrupt::Interrupt;
use crate::engine::modules::Resolver;
use crate::engine::sources::{Sources, strip_shebang};
use rhai::{AST, Array, Dynamic, Engine, Scope};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Sandbox limits besides the operation count (which is configurable).
const MAX_CALL_LEVELS: usize = 64;
const MAX_EXPR_DEPTH: usize = 128;
const MAX_FN_EXPR_DEPTH: usize = 64;
const MAX_STRING_SIZE: usize = 4 * 1024 * 1024;
const MAX_ARRAY_SIZE: usize = 1_000_000;
const MAX_MAP_SIZE: usize = 1_000_000;
const MAX_MODULES: usize = 256;

pub struct Options {
    /// 0 means no limit.
    pub max_operations: u64,
    /// Where relative imports of the top-level script resolve from.
    pub base_dir: PathBuf,
    pub interrupt: Interrupt,
}

/// An engine bound to one execution's host state.
pub struct Runtime {
    pub engine: Engine,
    pub host: Arc<Host>,
    pub sources: Sources,
    pub interrupt: Interrupt,
    base_dir: PathBuf,
}

impl Runtime {
    pub fn new(host: Arc<Host>, options: Options) -> Self {
        let sources = Sources::default();
        let mut engine = Engine::new();
        engine
            .set_max_operations(options.max_operations)
            .set_max_call_levels(MAX_CALL_LEVELS)
            .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FN_EXPR_DEPTH)
            .set_max_string_size(MAX_STRING_SIZE)
            .set_max_array_size(MAX_ARRAY_SIZE)
            .set_max_map_size(MAX_MAP_SIZE)
            .set_max_modules(MAX_MODULES)
            .set_strict_variables(true)
            .set_default_tag(Dynamic::from(Arc::clone(&host)));
        let log = host.log.clone();
        engine.on_print(move |text| log.info(text));
        let log = host.log.clone();
        engine.on_debug(move |text, source, pos| {
            log.debug(&format!("[debug] {}:{pos}: {text}", source.unwrap_or("repl")));
        });
        let interrupt = options.interrupt.clone();
        engine.on_progress(move |_| interrupt.is_set().then(|| Dynamic::from("interrupted")));
        engine.set_module_resolver(Resolver::new(sources.clone(), options.base_dir.clone(), host.files.clone()));
        crate::api::register(&mut engine);
        Self { engine, host, sources, interrupt: options.interrupt, base_dir: options.base_dir }
    }

    /// The scope a runbook starts with: its `--set` constants and `ARGS`.
    pub fn scope(constants: &[(String, Dynamic)], args: &[String]) -> Scope<'static> {
        let mut scope = Scope::new();
        for (name, value) in constants {
            scope.push_constant_dynamic(name.clone(), value.clone());
        }
        let args: Array = args.iter().map(|a| Dynamic::from(a.clone())).collect();
        scope.push_constant("ARGS", args);
        scope
    }

    pub fn compile_file(&self, path: &Path, scope: &Scope) -> Result<AST, Diagnostic> {
        let name = path.display().to_string();
        // A keypair given as the runbook is refused before its text could reach a diagnostic.
        let text = crate::files::boundary::read_text_at(path, &name, "a runbook").map_err(|e| Diagnostic {
            message: format!("cannot read runbook: {}", e.0),
            at: errors::Location { file: name.clone(), line: None, column: None },
            called_from: Vec::new(),
            code: crate::exit::ExitCode::Usage,
        })?;
        self.compile_text(&name, &strip_shebang(&text), scope)
    }

    pub fn compile_text(&self, name: &str, text: &str, scope: &Scope) -> Result<AST, Diagnostic> {
        self.sources.insert(name, text);
        let mut ast = self.engine.compile_with_scope(scope, text).map_err(|e| {
            let mut diagnostic = errors::from_parse_error(&e, name);
            // A near miss of a known name is likelier a typo than a missing --set constant.
            if let rhai::ParseErrorType::VariableUndefined(typed) = e.err_type() {
                let hint = suggest::variable_hint(typed, text, scope);
                if !hint.is_empty() {
                    diagnostic.message = format!("undefined variable `{typed}`{hint}");
                }
            }
            diagnostic
        })?;
        ast.set_source(name);
        Ok(ast)
    }

    pub fn run(&self, scope: &mut Scope, ast: &AST) -> Result<Dynamic, Diagnostic> {
        let name = ast.source().unwrap_or("runbook").to_string();
        self.engine.eval_ast_with_scope::<Dynamic>(scope, ast).map_err(|e| {
            let mut diagnostic = errors::from_eval_error(&e, &name);
            diagnostic.message += &suggest::hint(&e, &self.engine, ast.iter_functions().map(|f| f.name));
            diagnostic
        })
    }

    /// Calls a closure the runbook handed over (a follow-mode handler) with `args`.
    pub fn call(&self, f: &rhai::FnPtr, ast: &AST, args: Vec<Dynamic>) -> Result<Dynamic, Diagnostic> {
        let name = ast.source().unwrap_or("runbook").to_string();
        f.call::<Dynamic>(&self.engine, ast, args).map_err(|e| errors::from_eval_error(&e, &name))
    }

    /// Checks that `path`, imported from the script named `importer`, resolves.
    pub fn locate_module(&self, importer: &str, path: &str) -> Result<(), String> {
        modules::locate(&self.host.files, &self.base_dir, Some(importer), path).map(|_| ())
    }

    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        errors::render(diagnostic, &self.sources)
    }
}
