//! `psyche-runbook test [PATH]...`: runs the runbook tests under PATH (see `crate::testing`).

use crate::chain::settings::Settings;
use crate::cli::{GlobalArgs, TestArgs};
use crate::engine::Runtime;
use crate::engine::interrupt::Interrupt;
use crate::exit::{ExitCode, Failure};
use crate::testing::{discover, report, runner};
use crate::ui::Log;
use std::path::PathBuf;
use std::time::Duration;

/// How long after SIGINT/SIGTERM a test stuck in an operation is given before the process ends.
const STUCK_GRACE: Duration = Duration::from_secs(10);

pub fn test(global: &GlobalArgs, args: &TestArgs, log: Log) -> Result<ExitCode, Failure> {
    if !global.url.is_empty() {
        return Err(Failure::usage(
            "test runs every test on a fresh embedded chain and never on a cluster: -u/--url is refused",
        ));
    }
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let files = discover::test_files(&paths)?;
    // $RPC, the Solana CLI config, signer variables and webhooks are not read: tests run on
    // the embedded chain with a generated payer, and `notify` only records.
    let mut base = Settings::offline(global);
    // Tests run the runbooks beside and above them: the working directory and the paths given.
    let cwd = std::env::current_dir().map_err(|e| Failure::usage(format!("the working directory: {e}")))?;
    base.read_roots.push(cwd.clone());
    base.read_roots.extend(paths.iter().filter_map(|p| std::fs::canonicalize(p).ok()));
    base.read_roots.sort();
    base.read_roots.dedup();
    base.run_down_url = String::new();
    let mut test_log = log.clone();
    test_log.quiet = global.verbose == 0;
    let interrupt = Interrupt::default();
    // Ctrl-C stops the tests under way at their next operation and starts no other.
    interrupt.end_when_stuck(STUCK_GRACE);
    let scratch = std::env::temp_dir().join(format!(
        "psyche-runbook-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    ));

    // Every file compiles before any test runs: a syntax error anywhere runs nothing.
    let mut cases = Vec::new();
    for file in &files {
        let runtime = runner::runtime(&base, file, &scratch, &test_log, &interrupt);
        match runtime.compile_file(file, &Runtime::scope(&[], &[])) {
            Ok(ast) => cases.extend(discover::cases(file, &ast)),
            Err(diagnostic) => {
                return Err(Failure::new(ExitCode::Usage, runtime.render(&diagnostic).trim_end()));
            }
        }
    }
    let found = cases.len();
    if let Some(filter) = &args.filter {
        cases.retain(|case| case.id().contains(filter.as_str()));
    }
    let filtered_out = found - cases.len();
    if found == 0 {
        log.warn(&format!(
            "no tests: no `test_*` function in a *{} file under {}",
            discover::SUFFIX,
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ));
    }

    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let text = !log.json();
    let outcomes = runner::run_all(&cases, jobs, &base, &scratch, &test_log, &interrupt, &|outcome| {
        if text {
            log.result(&report::line(outcome));
        }
    });
    let _ = std::fs::remove_dir_all(&scratch);

    if let Some(path) = &args.junit {
        std::fs::write(path, report::junit(&outcomes))
            .map_err(|e| Failure::new(ExitCode::Storage, format!("--junit {}: {e}", path.display())))?;
    }
    if text {
        let failures = report::failures(&outcomes);
        if !failures.is_empty() {
            log.result(&format!("\nfailures:\n\n{failures}"));
        }
        log.result(&report::summary(&outcomes, filtered_out));
    } else {
        log.document(&report::document(&outcomes, filtered_out));
    }
    if interrupt.is_set() {
        log.error(&format!("interrupted: {} of {} test(s) ran", outcomes.len(), cases.len()));
        return Ok(ExitCode::Interrupted);
    }
    let failed = outcomes.iter().any(|o| o.failure.is_some());
    Ok(if failed { ExitCode::RunbookError } else { ExitCode::Success })
}
