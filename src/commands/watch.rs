//! `psyche-runbook watch [RUN_ID]...`: the live view at a terminal; the table once (text or
//! `--output json`) with `--once` or without a terminal; with `--metrics-port` and no
//! terminal, a metrics exporter refreshing until SIGINT/SIGTERM.

use crate::chain::settings::Settings;
use crate::cli::WatchArgs;
use crate::exit::{ExitCode, Failure};
use crate::metrics::Exposition;
use crate::metrics::server::{self, Published};
use crate::ui::Log;
use crate::watch::live::{self, Update, now};
use crate::watch::model::Watch;
use crate::watch::read::{Reader, Selection};
use crate::watch::source::Source;
use crate::watch::text;
use crate::watch::view::Theme;
use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Duration;

fn selection(args: &WatchArgs) -> Result<Selection, Failure> {
    if let Some(key) = &args.join_authority {
        let key = key.parse().map_err(|_| Failure::usage(format!("--join-authority: {key:?} is not a pubkey")))?;
        return Ok(Selection::JoinAuthority(key));
    }
    for id in &args.run_ids {
        crate::api::values::runs::check_run_id(id).map_err(|e| Failure::usage(e.message))?;
    }
    Ok(if args.run_ids.is_empty() { Selection::All } else { Selection::Runs(args.run_ids.clone()) })
}

/// Replaces the published metrics with the runs of `watch`.
fn publish(published: &Option<Published>, watch: &Watch, cluster: &str) {
    if let Some(published) = published {
        let mut e = Exposition::default();
        let rows: Vec<_> = watch.runs.iter().map(|r| r.row.clone()).collect();
        e.runs(&rows, cluster);
        let labels = || vec![("cluster", cluster.to_string())];
        e.gauge("watch_refreshes", "Refreshes watch has made.", &[(labels(), watch.refreshes as f64)]);
        e.gauge("watch_rpc_round_trips", "RPC requests of the last refresh.", &[(labels(), watch.round_trips as f64)]);
        *published.lock().expect("metrics lock") = e.text().to_string();
    }
}

pub fn watch(args: &WatchArgs, settings: Settings, log: Log) -> Result<ExitCode, Failure> {
    if !(args.interval.is_finite() && args.interval > 0.0) {
        return Err(Failure::usage(format!("--interval {}: must be a positive number of seconds", args.interval)));
    }
    let selection = selection(args)?;
    let cluster = settings.cluster_name().to_string();
    let source = Source::open(&settings).map_err(|e| Failure::new(ExitCode::Chain, e.to_string()))?;
    let mut reader = Reader::new(settings.programs, selection);
    let mut watch = Watch::default();
    let published = match args.metrics_port.filter(|_| !args.once) {
        Some(port) => {
            let published = Published::default();
            let address = server::start(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), Arc::clone(&published))
                .map_err(|e| Failure::usage(format!("--metrics-port {port}: {e}")))?;
            // Always printed (even with -q): scrapers and tests read the address from here.
            eprintln!("serving metrics on http://{address}/metrics");
            Some(published)
        }
        None => None,
    };
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let interval = Duration::from_secs_f64(args.interval);
    let live = terminal && !args.once && !log.json();
    if live || published.is_some() {
        let stop = Arc::new(AtomicBool::new(false));
        let refreshes = live::spawn_reader(source, reader, interval, Arc::clone(&stop));
        let on_refresh = |w: &Watch| publish(&published, w, &cluster);
        let result = if live {
            let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let theme = Theme { color, runway_warn: args.runway_warn };
            live::run(refreshes, &mut watch, &cluster, theme, &on_refresh)
                .map_err(|e| Failure::new(ExitCode::Chain, format!("terminal: {e}")))
        } else {
            export(refreshes, &mut watch, &on_refresh, &log)
        };
        stop.store(true, Ordering::Relaxed);
        result?;
        return Ok(ExitCode::Success);
    }
    let (snapshot, round_trips) =
        source.refresh(&mut reader).map_err(|e| Failure::new(ExitCode::Chain, e.to_string()))?;
    watch.update(snapshot, now(), round_trips);
    if let Some(note) = source.note() {
        log.warn(&note);
    }
    if log.json() {
        println!("{}", serde_json::to_string_pretty(&text::document(&watch, &cluster)).expect("JSON serializes"));
    } else {
        print!("{}", text::table(&watch, &cluster));
    }
    Ok(if watch.missing.is_empty() { ExitCode::Success } else { ExitCode::Usage })
}

/// No terminal and `--metrics-port`: take in refreshes (published by `on_refresh`) until
/// SIGINT/SIGTERM.
fn export(
    refreshes: Receiver<Update>,
    watch: &mut Watch,
    on_refresh: &dyn Fn(&Watch),
    log: &Log,
) -> Result<(), Failure> {
    let signalled = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&signalled)).map_err(|e| Failure::usage(e.to_string()))?;
    }
    while !signalled.load(Ordering::Relaxed) {
        if let Ok(refresh) = refreshes.recv_timeout(Duration::from_millis(100)) {
            live::apply(watch, refresh);
            if let Some(error) = &watch.error {
                log.warn(&format!("read failed: {error}"));
            }
            on_refresh(watch);
        }
    }
    Ok(())
}
