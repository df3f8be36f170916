//! `psyche-runbook run FILE [--set k=v]... [-- ARGS...]`.

use crate::api::host::Host;
use crate::chain::cluster::Cluster;
use crate::chain::exec_lock::{self, ExecLock, Wait};
use crate::chain::settings::Settings;
use crate::cli::{GlobalArgs, RunArgs};
use crate::engine::errors::Diagnostic;
use crate::engine::interrupt::Interrupt;
use crate::engine::values::{parse_set, refuse_key_material};
use crate::engine::{Options, Runtime};
use crate::exit::{ExitCode, Failure};
use crate::localnet::trainer::{self, Crew, Trainer};
use crate::ui::Log;
use rhai::Dynamic;
use serde_json::json;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// Version of the `--output json` document's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// How long after SIGINT/SIGTERM an execution stuck in an operation (a node that does not
/// answer, a write the disk holds up) is given before it is ended with what it sent. Its
/// journal holds every intent, so the next run settles whatever was in flight.
const STUCK_GRACE: Duration = Duration::from_secs(10);

/// `--set` constants, plus `run_id` from `$RUN_ID` (run-manager's variable) unless set.
pub fn constants(sets: &[String]) -> Result<Vec<(String, Dynamic)>, Failure> {
    let mut constants = sets.iter().map(|s| parse_set(s)).collect::<Result<Vec<_>, _>>()?;
    if !constants.iter().any(|(name, _)| name == "run_id")
        && let Ok(run_id) = std::env::var("RUN_ID")
    {
        constants.push(("run_id".into(), run_id.into()));
    }
    Ok(constants)
}

pub fn run(global: &GlobalArgs, args: &RunArgs, mut settings: Settings, log: Log) -> Result<ExitCode, Failure> {
    let started = std::time::Instant::now();
    let constants = constants(&args.set)?;
    for (i, arg) in args.args.iter().enumerate() {
        refuse_key_material(arg, &format!("argument {} after --", i + 1))?;
    }
    if !args.file.is_file() {
        return Err(Failure::usage(format!("{}: no such runbook", args.file.display())));
    }
    if args.train > 0 && settings.cluster != Cluster::Embedded {
        return Err(Failure::usage(format!(
            "--train runs simulated clients on the embedded chain, not on {}; use `localnet serve --clients N` for a served one",
            settings.cluster_name()
        )));
    }
    // Which cluster this is decides the lock, the journal and the guards.
    settings.identify()?;
    // One execution of this runbook on this cluster at a time (a dry-run sends nothing).
    let lock_path = exec_lock::path(&settings.state_dir().join("locks"), &settings.identity.key, &args.file);
    let waiting = || {
        log.info(&format!(
            "waiting for another run of {} on {} to finish",
            args.file.display(),
            settings.cluster_name()
        ))
    };
    let _lock = match ExecLock::acquire(&lock_path, Duration::from_secs(global.lock_timeout), waiting) {
        _ if args.dry_run => None,
        Ok(lock) => Some(lock),
        Err(Wait::TimedOut { holder }) => {
            return Err(Failure::new(
                ExitCode::Locked,
                format!(
                    "another run of {} on {} ({}) still holds {} after {} s; nothing was sent",
                    args.file.display(),
                    settings.cluster_name(),
                    holder.unwrap_or_else(|| "unknown process".into()),
                    lock_path.display(),
                    global.lock_timeout
                ),
            ));
        }
        Err(Wait::Io(e)) => {
            return Err(Failure::new(ExitCode::Storage, format!("{}: {e}; nothing was sent", lock_path.display())));
        }
    };
    // Every execution keeps a timestamped log, whatever -q hides from the terminal.
    let log = match log.clone().with_file(&settings.state_dir().join("logs")) {
        Ok((log, _)) => log,
        Err(e) => {
            log.warn(&format!("no execution log: {e}"));
            log
        }
    };
    let interrupt = Interrupt::default();
    interrupt.end_when_stuck(STUCK_GRACE);
    // On mainnet without --yes, a terminal operator sees the plan before anything is signed.
    if settings.is_mainnet() && !settings.yes && !args.dry_run && std::io::stdin().is_terminal() {
        let rehearsal = execute(global, args, settings.clone(), &log, &constants, &interrupt, true);
        if let Err(diagnostic) = &rehearsal.result {
            log.error(rehearsal.runtime.render(diagnostic).trim_end());
            log.error("the rehearsal failed; nothing was sent");
            return Ok(diagnostic.code);
        }
        let plan = rehearsal.runtime.host.take_plan();
        let programs = programs_header(&rehearsal.runtime.host.deployments());
        if !programs.is_empty() {
            log.error(&programs);
        }
        if plan.is_empty() {
            log.info("nothing to send on mainnet-beta");
        } else {
            log.error(&crate::localnet::plan::render(&plan));
            eprint!("Send these {} transaction(s) on mainnet-beta? [y/N] ", plan.len());
            let mut answer = String::new();
            let confirmed =
                std::io::stdin().read_line(&mut answer).is_ok() && matches!(answer.trim(), "y" | "Y" | "yes");
            if !confirmed {
                return Err(Failure::new(ExitCode::Refused, "not confirmed; nothing was sent"));
            }
        }
        settings.yes = true;
    }
    let Execution { runtime, result, ast } =
        execute(global, args, settings, &log, &constants, &interrupt, args.dry_run);
    // Whatever happened, the embedded chain keeps what was sent.
    if let Err(e) = runtime.host.finish() {
        log.error(&format!("error: {}", e.message));
    }
    let mut result = result;
    if let (true, Ok(_), Some(ast)) = (args.follow, &result, &ast) {
        if args.dry_run {
            let plan = runtime.host.take_plan();
            if !plan.is_empty() {
                log.error(&format!("the runbook's body would send:\n{}", crate::localnet::plan::render(&plan)));
            }
        }
        // Each handler takes the lock for itself: cron runs of the runbook interleave.
        drop(_lock);
        let follow = crate::commands::follow::Follow {
            runtime: &runtime,
            ast,
            log: &log,
            lock_path: lock_path.clone(),
            lock_timeout: Duration::from_secs(global.lock_timeout),
            metrics_file: args.metrics_file.as_deref(),
            dry_run: args.dry_run,
            interrupt: &interrupt,
            started,
        };
        let code = follow.run();
        if code != ExitCode::Success {
            result = Err(Diagnostic::plain(
                code,
                &args.file.display().to_string(),
                "following ended; some handlers failed (see above)",
            ));
        }
    } else if !runtime.host.handlers.all().is_empty() && !args.follow {
        log.info("the runbook registers handlers: run it with --follow to have them called");
    }
    interrupt.ending();
    ended_early(&runtime.host, &mut result, &args.file.display().to_string());
    let plan = runtime.host.take_plan();
    let deployments = runtime.host.deployments();
    // In a dry-run the fork's signatures are the plan, not transactions sent.
    let sent = if args.dry_run { Vec::new() } else { runtime.host.sent() };
    let outputs = runtime.host.outputs();
    let code = match &result {
        Ok(_) if args.detailed_exitcode && !plan.is_empty() => ExitCode::Usage,
        Ok(_) => ExitCode::Success,
        Err(d) => d.code,
    };
    runtime.host.end(code.code());
    if let Some(path) = &args.metrics_file {
        crate::metrics::execution::write(path, &runtime.host, code.code(), started.elapsed());
    }
    if log.json() {
        let document = json!({
            "schema_version": SCHEMA_VERSION,
            "runbook": args.file.display().to_string(),
            "cluster": runtime.host.settings.cluster_name(),
            "ok": result.is_ok(),
            "exit_code": code.code(),
            "outputs": outputs,
            "signatures": sent,
            "notifications": runtime.host.notifications(),
            "error": result.as_ref().err().map(error_json),
            "rpc_round_trips": runtime.host.round_trips().map_or(0, |r| r.total()),
            "rpc_round_trips_by_method": runtime.host.round_trips().map(|r| r.by_method()).unwrap_or_default(),
        });
        let mut document = document;
        if args.dry_run {
            document["dry_run"] = json!(true);
            document["plan"] = serde_json::to_value(&plan).expect("plans serialize");
            document["programs"] = serde_json::to_value(&deployments).expect("deployments serialize");
        }
        log.document(&document);
    } else if !log.quiet || !sent.is_empty() || result.is_err() {
        // Quiet means silent on a no-op, so cron mails only when something happened.
        for (name, text) in runtime.host.output_texts() {
            log.result(&format!("{name} = {text}"));
        }
    }
    if args.dry_run && !log.json() {
        let programs = programs_header(&deployments);
        if !programs.is_empty() {
            log.error(&programs);
        }
        if let Some(header) = fork_header(&runtime.host) {
            log.error(&header);
        }
        log.error(&crate::localnet::plan::render(&plan));
    }
    if let Some(round_trips) = runtime.host.round_trips() {
        log.debug(&round_trips.summary());
    }
    if let Some((pushed, polled)) = runtime.host.confirmations().filter(|(a, b)| a + b > 0) {
        log.debug(&format!("confirmations: {pushed} by signatureSubscribe, {polled} by status polls"));
    }
    if let Err(diagnostic) = &result {
        log.error(runtime.render(diagnostic).trim_end());
        log.error(&sent_note(&sent, runtime.host.unlanded_sends(), &runtime.host.off_chain()));
    } else if log.quiet && !sent.is_empty() && !log.json() {
        // Quiet means quiet on a no-op: cron mails only when something was sent.
        log.error(&format!("{}: sent {} transaction(s)", args.file.display(), sent.len()));
    }
    Ok(code)
}

/// What ends an execution non-zero even when its code ran to the end: work a bulk operation
/// left undone that the runbook did not accept (exit 5), and a file that could not be written
/// (exit 74: it outranks every code but an interruption's, since the journal or the chain's
/// database may not hold what happened).
fn ended_early(host: &Host, result: &mut Result<Dynamic, Diagnostic>, file: &str) {
    let unserved = host.unserved();
    if result.is_ok() && !host.is_dry_run() && !unserved.is_empty() {
        let lines: Vec<String> = unserved.iter().map(crate::api::host::Unserved::describe).collect();
        let message =
            format!("{}\nthe runbook did not handle this (`res.accept_failures()` says it did)", lines.join("\n"));
        *result = Err(Diagnostic::plain(ExitCode::Partial, file, &message));
    }
    let Some(failure) = host.storage_failure() else { return };
    match result {
        Err(d) if d.code == ExitCode::Interrupted => {}
        Err(d) => {
            if !d.message.contains(&failure) {
                d.message = format!("{}\n{failure}", d.message);
            }
            d.code = ExitCode::Storage;
        }
        Ok(_) => *result = Err(Diagnostic::plain(ExitCode::Storage, file, &failure)),
    }
}

struct Execution {
    runtime: Runtime,
    result: Result<rhai::Dynamic, Diagnostic>,
    /// The compiled runbook, whose closures follow mode calls.
    ast: Option<rhai::AST>,
}

/// Compiles and runs the runbook once (for real, or as a dry-run on a fork).
fn execute(
    global: &GlobalArgs,
    args: &RunArgs,
    settings: Settings,
    log: &Log,
    constants: &[(String, Dynamic)],
    interrupt: &Interrupt,
    dry_run: bool,
) -> Execution {
    let base_dir = args.file.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let host = Host::new(settings, log.clone(), constants, &args.file);
    if dry_run {
        host.set_dry_run();
    }
    let options = Options { max_operations: global.max_operations, base_dir, interrupt: interrupt.clone() };
    let (stuck, said) = (Arc::clone(&host), log.clone());
    interrupt.on_stuck(move || {
        said.error("interrupted while an operation was still under way; the journal holds what was in flight, and the next run settles it");
        said.error(&sent_note(&stuck.sent(), stuck.unlanded_sends(), &stuck.off_chain()));
    });
    // A device must be there (and standard input read) before the runbook starts.
    if let Err(e) = host.load_eager_signers() {
        let diagnostic = Diagnostic::plain(e.exit_code(), &args.file.display().to_string(), &e.message);
        return Execution { runtime: Runtime::new(host, options), result: Err(diagnostic), ast: None };
    }
    if args.train > 0 && !dry_run {
        start_training(&host, args.train, log);
    }
    let runtime = Runtime::new(host, options);
    let mut scope = Runtime::scope(constants, &args.args);
    let settings = &runtime.host.settings;
    let genesis = settings.identity.genesis.as_deref().map(|g| format!(", genesis hash {g}")).unwrap_or_default();
    log.debug(&format!(
        "cluster: {} (from {}{genesis}); signer: {} (from {})",
        settings.cluster_name(),
        runtime.host.settings.cluster_origin,
        runtime.host.settings.signer.describe(),
        runtime.host.settings.signer_origin
    ));
    let (result, ast) = match runtime.compile_file(&args.file, &scope) {
        Ok(ast) => (runtime.run(&mut scope, &ast), Some(ast)),
        Err(diagnostic) => (Err(diagnostic), None),
    };
    Execution { runtime, result, ast }
}

/// `--train N`: simulated clients train every run of the embedded chain while the runbook
/// runs; a chain that cannot be opened is left for the runbook to report.
fn start_training(host: &Host, clients: usize, log: &Log) {
    let Ok(handle) = host.localnet() else { return };
    let crew = Crew { clients, ..Crew::default() };
    let warn = log.clone();
    trainer::spawn(Arc::downgrade(&handle), Trainer::new(Vec::new(), crew), move |problem| {
        warn.warn(&format!("simulated clients: {problem}"))
    });
    log.info(&format!("{clients} simulated clients are training"));
}

fn error_json(d: &Diagnostic) -> serde_json::Value {
    serde_json::to_value(d).expect("diagnostics serialize")
}

/// The programs a dry-run of a real cluster checked there, so an upgrade is seen before
/// anything is sent (the native System and Compute Budget programs go without saying).
fn programs_header(deployments: &[crate::chain::programs::Deployment]) -> String {
    let lines: Vec<String> = deployments
        .iter()
        .filter(|d| !matches!(d.name.as_str(), "System" | "Compute Budget") || !d.is_usable())
        .map(|d| format!("  {}", d.describe()))
        .collect();
    if lines.is_empty() { String::new() } else { format!("programs on the cluster:\n{}", lines.join("\n")) }
}

/// On a rehearsal of a fork made by `localnet fork`, which code runs for each program it knows
/// by name (the cluster's bytecode, with the slot it was deployed at, or the embedded model).
fn fork_header(host: &Host) -> Option<String> {
    let handle = host.localnet_fork()?;
    let net = handle.lock();
    let origin = net.origin()?;
    let named = crate::localnet::forked::known_programs(&net.ids());
    let keys: Vec<_> = named.iter().map(|(_, key)| *key).collect();
    let lines: Vec<String> = named
        .iter()
        .zip(net.program_sources(&keys))
        .map(|((name, key), (_, source))| format!("  {name} {key}: {}", source.describe()))
        .collect();
    Some(format!("programs on this fork of {}:\n{}", origin.name, lines.join("\n")))
}

/// Signatures listed in full when an error leaves this many or fewer; beyond, a count and the
/// last few (`--output json` and the journal keep every one).
const LISTED_SIGNATURES: usize = 3;

/// Whether an error left anything on chain, so the operator knows where they stand: what
/// landed, and sends made of transactions that expired without landing (they never will). With
/// no transaction, `off_chain` names the other services requests went to.
pub fn sent_note(sent: &[String], unlanded_sends: u64, off_chain: &[String]) -> String {
    let landed = match sent.len() {
        0 if unlanded_sends > 0 => "nothing landed".to_string(),
        0 if !off_chain.is_empty() => {
            return format!("no transaction was sent; requests went to the {}", off_chain.join(" and the "));
        }
        0 => return "nothing was sent".to_string(),
        n if n <= LISTED_SIGNATURES => format!("{n} transaction(s) were sent before the error: {}", sent.join(", ")),
        n => format!(
            "{n} transaction(s) were sent before the error, the last {LISTED_SIGNATURES}: {} (all of them: `psyche-runbook journal show --last`)",
            sent[n - LISTED_SIGNATURES..].join(", ")
        ),
    };
    match unlanded_sends {
        0 => landed,
        n => format!(
            "{landed}; {n} send(s) of transactions that expired without landing were made, and none of them ever will"
        ),
    }
}
