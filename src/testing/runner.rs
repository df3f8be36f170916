//! Runs tests: each on a runtime of its own whose chain is a fresh embedded chain in memory,
//! the file's top-level code first (its setup), then the test function; several at once.

use crate::api::host::Host;
use crate::chain::client::Chain;
use crate::chain::identity::Identity;
use crate::chain::settings::Settings;
use crate::chain::signer::SignerSource;
use crate::engine::errors::{Diagnostic, from_eval_error};
use crate::engine::interrupt::Interrupt;
use crate::engine::{Options, Runtime};
use crate::testing::discover::Case;
use crate::ui::Log;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Rhai's evaluation is recursive: a test thread gets the main thread's stack.
const STACK: usize = 8 * 1024 * 1024;

/// How one test went.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: Case,
    pub seconds: f64,
    /// The failure as `run` prints it (location, source line, caret, call chain).
    pub failure: Option<String>,
}

/// A runtime for `file` on settings of its own: `scratch` holds its payer's key file. It has no
/// chain yet (`run_one` gives it a fresh one in memory; compiling needs none).
pub fn runtime(base: &Settings, file: &Path, scratch: &Path, log: &Log, interrupt: &Interrupt) -> Runtime {
    let mut settings = base.clone();
    settings.localnet_dir = scratch.join("localnet");
    settings.identity = Identity::embedded(&settings.localnet_dir);
    settings.signer = SignerSource::LocalnetPayer(settings.localnet_dir.join("payer.json"));
    let host = Host::new(settings, log.clone(), &[], file);
    let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut runtime = Runtime::new(host, Options { max_operations: 0, base_dir, interrupt: interrupt.clone() });
    crate::testing::register(&mut runtime.engine);
    runtime
}

/// Runs `cases` on `jobs` threads, calling `done` as each ends; the outcomes in `cases`' order
/// (only those that ran, when interrupted).
pub fn run_all(
    cases: &[Case],
    jobs: usize,
    base: &Settings,
    scratch: &Path,
    log: &Log,
    interrupt: &Interrupt,
    done: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; cases.len()]);
    std::thread::scope(|threads| {
        for _ in 0..jobs.clamp(1, cases.len().max(1)) {
            std::thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(threads, || {
                    // After SIGINT/SIGTERM no other test starts.
                    while !interrupt.is_set() {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(case) = cases.get(i) else { break };
                        let outcome = run_one(case, base, &scratch.join(i.to_string()), log, interrupt);
                        done(&outcome);
                        outcomes.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(outcome);
                    }
                })
                .expect("a test thread starts");
        }
    });
    outcomes.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().flatten().collect()
}

fn run_one(case: &Case, base: &Settings, scratch: &Path, log: &Log, interrupt: &Interrupt) -> Outcome {
    let started = Instant::now();
    let runtime = runtime(base, &case.file, scratch, log, interrupt);
    runtime.host.use_chain(Arc::new(Chain::in_memory(&runtime.host.settings)));
    let result =
        runtime.compile_file(&case.file, &Runtime::scope(&[], &[])).and_then(|ast| call(&runtime, &ast, &case.name));
    let _ = std::fs::remove_dir_all(scratch);
    Outcome {
        case: case.clone(),
        seconds: started.elapsed().as_secs_f64(),
        failure: result.err().map(|d| runtime.render(&d).trim_end().to_string()),
    }
}

/// The file's top-level code, then the test function, in one evaluation: the function sees
/// the file's imports and constants as a runbook's functions do.
fn call(runtime: &Runtime, ast: &rhai::AST, name: &str) -> Result<(), Diagnostic> {
    let file = ast.source().unwrap_or_default().to_string();
    let mut scope = Runtime::scope(&[], &[]);
    let options = rhai::CallFnOptions::new().eval_ast(true).rewind_scope(true);
    runtime.engine.call_fn_with_options::<rhai::Dynamic>(options, &mut scope, ast, name, ()).map(drop).map_err(|e| {
        let mut diagnostic = from_eval_error(&e, &file);
        // The runner's call of the test function has no place in the file.
        diagnostic.called_from.retain(|frame| frame.at.line.is_some());
        diagnostic
    })
}
