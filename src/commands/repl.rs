//! `psyche-runbook repl`: interactive on a terminal, statement-per-input from a pipe.

use crate::api::host::Host;
use crate::chain::settings::Settings;
use crate::cli::GlobalArgs;
use crate::engine::interrupt::Interrupt;
use crate::engine::repl::{Session, interactive, piped};
use crate::engine::{Options, Runtime};
use crate::exit::{ExitCode, Failure};
use crate::ui::Log;
use std::io::IsTerminal;

pub fn repl(global: &GlobalArgs, settings: Settings, log: Log) -> Result<ExitCode, Failure> {
    let interrupt = Interrupt::default();
    let base_dir = std::env::current_dir().unwrap_or_default();
    let runtime = Runtime::new(
        Host::new(settings, log, &[], &base_dir),
        Options { max_operations: global.max_operations, base_dir, interrupt },
    );
    let session = Session::new(runtime);
    Ok(if std::io::stdin().is_terminal() { interactive(session) } else { piped(session, std::io::stdin().lock()) })
}
