//! `psyche-runbook check FILE...`: parse and statically check runbooks without running them or
//! touching any chain. Exit 0 when every file is clean, 2 otherwise.

use crate::api::host::Host;
use crate::chain::settings::Settings;
use crate::cli::{CheckArgs, GlobalArgs};
use crate::commands::run::constants;
use crate::engine::check::check_ast;
use crate::engine::interrupt::Interrupt;
use crate::engine::{Options, Runtime};
use crate::exit::{ExitCode, Failure};
use crate::ui::Log;
use serde_json::json;

pub fn check(global: &GlobalArgs, args: &CheckArgs, log: Log) -> Result<ExitCode, Failure> {
    let constants = constants(&args.set)?;
    let mut reports = Vec::new();
    let mut clean = true;
    for file in &args.files {
        let base_dir = file.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let host = Host::new(Settings::offline(global), log.clone(), &constants, file);
        let mut runtime = Runtime::new(host, Options { max_operations: 0, base_dir, interrupt: Interrupt::default() });
        // A test file also knows what tests use (`assert_eq`, `run_runbook`, ...).
        if file.to_string_lossy().ends_with(crate::testing::discover::SUFFIX) {
            crate::testing::register(&mut runtime.engine);
        }
        let scope = Runtime::scope(&constants, &[]);
        let name = file.display().to_string();
        let problems = match runtime.compile_file(file, &scope) {
            Ok(ast) => check_ast(&runtime, &ast, &name),
            Err(diagnostic) => vec![diagnostic],
        };
        clean &= problems.is_empty();
        if !log.json() {
            if problems.is_empty() {
                log.info(&format!("{name}: ok"));
            }
            for problem in &problems {
                log.error(runtime.render(problem).trim_end());
            }
        }
        reports.push(json!({"file": name, "ok": problems.is_empty(), "problems": problems}));
    }
    if log.json() {
        log.document(&json!({"files": reports}));
    }
    Ok(if clean { ExitCode::Success } else { ExitCode::Usage })
}
