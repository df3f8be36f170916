//! One module per CLI command. `dispatch` resolves settings where a command needs them and
//! returns the exit code.

pub mod check;
pub mod config;
pub mod data;
pub mod decode;
pub mod docs;
pub mod follow;
pub mod fork;
pub mod localnet;
pub mod repl;
pub mod run;
pub mod test;
pub mod watch;

use crate::chain::settings::{ProcessEnv, Settings};
use crate::cli::{Cli, Command, ConfigCommand, JournalCommand, LocalnetCommand};
use crate::exit::{ExitCode, Failure};
use crate::ui::Log;
use clap::CommandFactory;

pub fn dispatch(cli: Cli, log: Log) -> Result<ExitCode, Failure> {
    let global = &cli.global;
    let settings = || {
        let settings = Settings::resolve(global, &ProcessEnv, &mut |note| log.warn(&note))?;
        // Whatever prints from here on knows the credentials of the URLs in use.
        for url in settings.urls() {
            log.redactor.learn_url(url);
        }
        Ok::<_, Failure>(settings)
    };
    // Commands that reach the cluster know which one it is before anything else.
    let identified = || {
        let mut settings = settings()?;
        settings.identify()?;
        Ok::<_, Failure>(settings)
    };
    match &cli.command {
        Command::Run(args) => {
            let started = std::time::Instant::now();
            let settings = settings();
            let cluster = settings.as_ref().map_or("unresolved".to_string(), |s| s.cluster_name().to_string());
            let result = settings.and_then(|s| run::run(global, args, s, log.clone()));
            // Executions that ended before running (bad flags, lock timeout) still report.
            if let (Err(failure), Some(path)) = (&result, &args.metrics_file) {
                let runbook = args.file.display().to_string();
                crate::metrics::execution::write_early(
                    path,
                    &runbook,
                    &cluster,
                    failure.code.code(),
                    started.elapsed(),
                    &log,
                );
            }
            result
        }
        Command::Check(args) => check::check(global, args, log),
        Command::Repl => repl::repl(global, identified()?, log),
        Command::Test(args) => test::test(global, args, log),
        Command::Docs { definitions: None } => docs::docs(global, log),
        Command::Docs { definitions: Some(dir) } => docs::definitions(global, dir, log),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "psyche-runbook", &mut std::io::stdout());
            Ok(ExitCode::Success)
        }
        Command::Decode { kind, file } => decode::decode(*kind, file, log),
        Command::Config(ConfigCommand::Check { file }) => config::check(file, log),
        Command::Localnet(LocalnetCommand::Serve {
            port,
            ws_port,
            bind,
            slot_ms,
            clients,
            runs,
            silent_clients,
            unhealthy_clients,
        }) => {
            let crew = crate::localnet::trainer::Crew {
                clients: *clients,
                silent: *silent_clients,
                unhealthy: *unhealthy_clients,
            };
            localnet::serve(&settings()?, *bind, (*port, *ws_port), *slot_ms, (runs.clone(), crew), log)
        }
        Command::Localnet(LocalnetCommand::Fork { url: Some(url), .. }) => fork::make(&settings()?, url, log),
        Command::Localnet(LocalnetCommand::Fork { url: None, drop_writes, .. }) => {
            fork::refresh(&settings()?, *drop_writes, log)
        }
        Command::Localnet(LocalnetCommand::Status) => localnet::status(&settings()?, log),
        Command::Localnet(LocalnetCommand::Reset) => localnet::reset(&settings()?, log),
        Command::Localnet(LocalnetCommand::PruneHistory { keep_transactions, keep_slots }) => {
            localnet::prune_history(&settings()?, (*keep_transactions, *keep_slots), log)
        }
        Command::Watch(args) => watch::watch(args, identified()?, log),
        Command::UploadData(args) => data::upload(args, identified()?, log),
        Command::DownloadResults(args) => data::download(args, identified()?, log),
        Command::Journal(JournalCommand::Show { last }) => {
            let settings = settings()?;
            let dir = settings.state_dir().join("journal");
            // The embedded chain's history, opened only if a journal names it.
            let localnet = std::cell::OnceCell::new();
            let on_chain = |cluster: &str, signature: &str| {
                if cluster != settings.identity.key && cluster != "embedded" {
                    return None;
                }
                let net = localnet
                    .get_or_init(|| crate::localnet::Localnet::load_read_only(&settings.localnet_dir).ok())
                    .as_ref()?;
                Some(net.record(&signature.parse().ok()?).is_some())
            };
            print!("{}", crate::chain::journal::show(&dir, *last, &on_chain));
            Ok(ExitCode::Success)
        }
    }
}
