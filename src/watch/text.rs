//! `watch` without a terminal (or with `--once`): the runs table as plain text, or one JSON
//! document with `--output json`. The live view draws the same columns (see `view`).

use crate::watch::model::Watch;
use crate::watch::row::{RunRow, client_rows};
use serde_json::{Value, json};

/// Version of the `watch --output json` document's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// Column headers of the runs table, shared with the live view.
pub const HEADERS: [&str; 9] =
    ["RUN", "STATE", "EPOCH", "STEP", "CLIENTS J/H/D", "PAUSE", "RATE", "TREASURY", "RUNWAY"];

/// A progress bar of `width` cells for `fraction` in [0, 1].
pub fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction * width as f64).round() as usize).min(width);
    format!("{}{}", "#".repeat(filled), ".".repeat(width - filled))
}

/// A number without trailing zeros ("3", "0.5", "117.25").
pub fn amount(value: f64) -> String {
    let text = format!("{value:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The cells of one row, in `HEADERS` order.
pub fn cells(row: &RunRow) -> [String; 9] {
    let rate = if row.rates.earning == row.rates.future_earning {
        amount(row.rates.earning)
    } else {
        format!("{} -> {}", amount(row.rates.earning), amount(row.rates.future_earning))
    };
    let (treasury, runway) = match &row.treasury {
        Some(t) => (amount(t.funded), t.runway_epochs.map_or("-".into(), |e| format!("{e:.1}"))),
        None => ("-".into(), "-".into()),
    };
    [
        row.run_id.clone(),
        row.state.to_string(),
        row.epoch.to_string(),
        format!("{}/{} [{}]", row.step, row.total_steps, bar(row.progress(), 10)),
        format!("{}/{}/{}", row.clients.joined, row.clients.healthy, row.clients.dropped),
        if row.pending_pause { "pending".into() } else { "-".into() },
        rate,
        treasury,
        runway,
    ]
}

/// The runs table as aligned text, with a header line naming the cluster and slot.
pub fn table(watch: &Watch, cluster: &str) -> String {
    let rows: Vec<[String; 9]> = watch.runs.iter().map(|r| cells(&r.row)).collect();
    let mut widths = HEADERS.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = format!("{cluster} · slot {} · {} run(s)\n", watch.slot, watch.runs.len());
    out += &line(&HEADERS.map(String::from));
    out.push('\n');
    for row in &rows {
        out += &line(row);
        out.push('\n');
    }
    for id in &watch.missing {
        out += &format!("run \"{id}\" does not exist\n");
    }
    for u in &watch.unreadable {
        out += &format!("run \"{}\": {}\n", u.run_id, u.error);
    }
    if let Some(notice) = &watch.notice {
        out += &format!("{notice}\n");
    }
    out
}

/// The `--output json` document: every run's row, its clients with their points, and what
/// the refresh cost.
pub fn document(watch: &Watch, cluster: &str) -> Value {
    let runs: Vec<Value> = watch
        .runs
        .iter()
        .map(|r| {
            let mut value = serde_json::to_value(&r.row).expect("rows serialize");
            value["progress"] = json!(r.row.progress());
            value["registered_clients"] = serde_json::to_value(client_rows(&r.account)).expect("clients serialize");
            value
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "cluster": cluster,
        "slot": watch.slot,
        "runs": runs,
        "missing": watch.missing,
        "unreadable": watch.unreadable,
        "notice": watch.notice,
        "rpc_round_trips": watch.round_trips,
    })
}
