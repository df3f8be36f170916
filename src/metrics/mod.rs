//! Prometheus text-format metrics: an exposition built gauge by gauge, the per-run gauges
//! shared by `run --metrics-file` and `watch --metrics-port`, and the atomic write the
//! node_exporter textfile collector expects (temp file in the same directory, fsync, rename),
//! so the collector never scrapes a half-written file.

pub mod execution;
pub mod server;

use crate::watch::row::{RunRow, state_flags};
use std::fmt::Write as _;

/// Metric names start with this.
pub const PREFIX: &str = "psyche_runbook_";

/// Labels of one sample, in order.
pub type Labels<'a> = Vec<(&'a str, String)>;

/// A text exposition: gauges with their HELP and TYPE lines.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A sample value: integers without a fraction, the rest as Rust prints floats.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{}", value as i64) } else { format!("{value}") }
}

impl Exposition {
    /// Adds gauge `name` (without the prefix) with its samples; a gauge without samples is
    /// left out.
    pub fn gauge(&mut self, name: &str, help: &str, samples: &[(Labels, f64)]) {
        if samples.is_empty() {
            return;
        }
        let _ = writeln!(self.text, "# HELP {PREFIX}{name} {help}");
        let _ = writeln!(self.text, "# TYPE {PREFIX}{name} gauge");
        for (labels, value) in samples {
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
            let _ = writeln!(self.text, "{PREFIX}{name}{labels} {}", number(*value));
        }
    }

    /// The per-run gauges of `rows`, labelled with the run id and `cluster`.
    pub fn runs(&mut self, rows: &[RunRow], cluster: &str) {
        let labels = |row: &RunRow| vec![("cluster", cluster.to_string()), ("run_id", row.run_id.clone())];
        let each = |value: &dyn Fn(&RunRow) -> Option<f64>| -> Vec<(Labels, f64)> {
            rows.iter().filter_map(|r| value(r).map(|v| (labels(r), v))).collect()
        };
        let states: Vec<(Labels, f64)> = rows
            .iter()
            .flat_map(|r| {
                state_flags(r.state).map(move |(state, on)| {
                    let mut l = labels(r);
                    l.push(("state", state.to_string()));
                    (l, if on { 1.0 } else { 0.0 })
                })
            })
            .collect();
        self.gauge("run_state", "1 for the run's current state, 0 for the others.", &states);
        self.gauge("run_epoch", "The run's current epoch.", &each(&|r| Some(r.epoch.into())));
        self.gauge("run_step", "The run's current step.", &each(&|r| Some(r.step.into())));
        self.gauge("run_total_steps", "The run's configured total steps.", &each(&|r| Some(r.total_steps.into())));
        let clients: Vec<(Labels, f64)> = rows
            .iter()
            .flat_map(|r| {
                [("joined", r.clients.joined), ("healthy", r.clients.healthy), ("dropped", r.clients.dropped)].map(
                    |(status, n)| {
                        let mut l = labels(r);
                        l.push(("status", status.to_string()));
                        (l, n as f64)
                    },
                )
            })
            .collect();
        self.gauge("run_clients", "Clients of the current epoch by status (joined, healthy, dropped).", &clients);
        self.gauge("run_min_clients", "The run's configured min_clients.", &each(&|r| Some(r.min_clients.into())));
        self.gauge(
            "run_pending_pause",
            "1 when a pause is pending at the end of the epoch.",
            &each(&|r| Some(if r.pending_pause { 1.0 } else { 0.0 })),
        );
        self.gauge(
            "run_treasury_funded",
            "Collateral (UI units) in the run's treasury.",
            &each(&|r| r.treasury.as_ref().map(|t| t.funded)),
        );
        self.gauge(
            "run_treasury_unclaimed",
            "Collateral (UI units) earned by clients and not claimed yet.",
            &each(&|r| r.treasury.as_ref().map(|t| t.unclaimed)),
        );
        self.gauge(
            "run_runway_epochs",
            "Epochs the treasury funds beyond unclaimed rewards at the current rate (absent when nothing is earned).",
            &each(&|r| r.treasury.as_ref().and_then(|t| t.runway_epochs)),
        );
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_render_help_type_and_escaped_labels() {
        let mut e = Exposition::default();
        e.gauge("x", "An x.", &[(vec![("run_id", "a\"b\\c".to_string())], 2.0), (vec![], 0.25)]);
        e.gauge("empty", "Left out.", &[]);
        assert_eq!(
            e.text(),
            "# HELP psyche_runbook_x An x.\n# TYPE psyche_runbook_x gauge\npsyche_runbook_x{run_id=\"a\\\"b\\\\c\"} 2\npsyche_runbook_x 0.25\n"
        );
    }
}
