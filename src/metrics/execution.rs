//! The metrics of one `run` execution, for `run --metrics-file`: how it ended, how long it
//! took, what it sent and how many RPC round trips it made, plus the gauges of every run the
//! runbook touched, read once more at the end.

use crate::api::host::Host;
use crate::files::private::{Readers, write_atomic};
use crate::metrics::Exposition;
use crate::ui::Log;
use crate::watch::read::{Reader, Selection};
use crate::watch::row::RunRow;
use std::path::Path;
use std::time::Duration;

/// What the execution did, as counted by the host.
pub struct Execution<'a> {
    pub runbook: &'a str,
    pub cluster: &'a str,
    pub exit_code: i32,
    pub duration: Duration,
    pub landed: u64,
    pub failed: u64,
    /// `None` when the runbook never reached a chain.
    pub rpc_round_trips: Option<u64>,
    /// Unix seconds when it ended.
    pub finished_at: u64,
}

impl Execution<'_> {
    pub fn render(&self, runs: &[RunRow]) -> String {
        let mut e = Exposition::default();
        let labels = || vec![("runbook", self.runbook.to_string()), ("cluster", self.cluster.to_string())];
        let one = |value: f64| [(labels(), value)];
        e.gauge("exit_code", "Exit code of the last execution.", &one(self.exit_code.into()));
        e.gauge("success", "1 when the last execution exited 0.", &one(if self.exit_code == 0 { 1.0 } else { 0.0 }));
        e.gauge("duration_seconds", "Wall time of the last execution.", &one(self.duration.as_secs_f64()));
        e.gauge("last_run_timestamp_seconds", "Unix time the last execution ended.", &one(self.finished_at as f64));
        e.gauge(
            "transactions_sent",
            "Transactions the last execution sent (landed + failed).",
            &one((self.landed + self.failed) as f64),
        );
        e.gauge("transactions_landed", "Transactions of the last execution that landed.", &one(self.landed as f64));
        e.gauge(
            "transactions_failed",
            "Transactions of the last execution that failed or never landed.",
            &one(self.failed as f64),
        );
        if let Some(trips) = self.rpc_round_trips {
            e.gauge("rpc_round_trips", "RPC requests the last execution made.", &one(trips as f64));
        }
        e.runs(runs, self.cluster);
        e.text().to_string()
    }
}

/// The rows of the runs `host`'s runbook touched, read in one batch (none when it never
/// reached a chain); a failed read leaves them out rather than failing the execution.
pub fn touched_runs(host: &Host) -> Vec<RunRow> {
    let run_ids = host.touched_runs();
    let Some(chain) = host.opened_chain().filter(|_| !run_ids.is_empty()) else { return Vec::new() };
    let mut reader = Reader::new(host.settings.programs, Selection::Runs(run_ids));
    match reader.read(&chain) {
        Ok(snapshot) => snapshot.runs.iter().map(RunRow::new).collect(),
        Err(e) => {
            host.log.warn(&format!("metrics: could not read the runs: {e}"));
            Vec::new()
        }
    }
}

fn finished_at() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Writes the exposition, redacted (its labels hold names a runbook chose: run ids).
fn write_text(path: &Path, text: &str, log: &Log) {
    if let Err(e) = write_atomic(path, log.redactor.text(text).as_bytes(), Readers::Anyone) {
        log.warn(&format!("metrics: cannot write {}: {e}", path.display()));
    }
}

/// Writes the metrics of an execution that ran: counts from `host`, then the touched runs.
pub fn write(path: &Path, host: &Host, exit_code: i32, duration: Duration) {
    // Counted before the runs are read, so the figure is the runbook's own.
    let rpc_round_trips = host.rpc_round_trips();
    let cluster = host.settings.cluster_name().to_string();
    let execution = Execution {
        runbook: &host.runbook,
        cluster: &cluster,
        exit_code,
        duration,
        landed: host.sent().len() as u64,
        failed: host.failed(),
        rpc_round_trips,
        finished_at: finished_at(),
    };
    write_text(path, &execution.render(&touched_runs(host)), &host.log);
}

/// Writes the metrics of an execution that stopped before running (nothing sent, no runs).
pub fn write_early(path: &Path, runbook: &str, cluster: &str, exit_code: i32, duration: Duration, log: &Log) {
    let execution = Execution {
        runbook,
        cluster,
        exit_code,
        duration,
        landed: 0,
        failed: 0,
        rpc_round_trips: None,
        finished_at: finished_at(),
    };
    write_text(path, &execution.render(&[]), log);
}
