//! `psyche-runbook repl`: interactive on a terminal, statement-per-input from a pipe.

use crate::api::host::Host;
use crate::chain::settings::Settings;
use crate::chain::signer::SignerSource;
use crate::cli::GlobalArgs;
use crate::engine::interrupt::Interrupt;
use crate::engine::repl::{Session, interactive, piped};
use crate::engine::{Options, Runtime};
use crate::exit::{ExitCode, Failure};
use crate::ui::Log;
use std::io::IsTerminal;

pub fn repl(global: &GlobalArgs, settings: Settings, log: Log) -> Result<ExitCode, Failure> {
    let from_pipe = !std::io::stdin().is_terminal();
    let reads_stdin = |source: &SignerSource| *source == SignerSource::Stdin;
    if from_pipe && (reads_stdin(&settings.signer) || settings.fee_payer.as_ref().is_some_and(reads_stdin)) {
        return Err(Failure::usage(
            "stdin: reads the keypair from standard input, so the REPL cannot also read statements from a pipe there: give the statements as a runbook (`run FILE`) or the key another way",
        ));
    }
    let interrupt = Interrupt::default();
    let base_dir = std::env::current_dir().unwrap_or_default();
    let host = Host::new(settings, log, &[], &base_dir);
    // A device must be there (and standard input read) before the first statement.
    host.load_eager_signers().map_err(|e| Failure::new(e.exit_code(), format!("{}; nothing was sent", e.message)))?;
    let runtime = Runtime::new(host, Options { max_operations: global.max_operations, base_dir, interrupt });
    let session = Session::new(runtime);
    Ok(if from_pipe { piped(session, std::io::stdin().lock()) } else { interactive(session) })
}
