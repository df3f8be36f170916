//! Prometheus metrics: `run --metrics-file` (parsed with a Prometheus text-format parser and
//! compared with the execution's own JSON document and with `watch`), and
//! `watch --metrics-port` scraped over HTTP.

mod common;

use common::Runbook;
use prometheus_parse::{Sample, Scrape, Value as Metric};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::Stdio;

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format")
}

fn value(sample: &Sample) -> f64 {
    match sample.value {
        Metric::Gauge(v) | Metric::Untyped(v) | Metric::Counter(v) => v,
        ref other => panic!("unexpected metric type {other:?}"),
    }
}

/// The one sample of `name` whose labels include all of `labels`.
fn get(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == format!("psyche_runbook_{name}"))
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    value(found[0])
}

fn has(scrape: &Scrape, name: &str) -> bool {
    scrape.samples.iter().any(|s| s.metric == format!("psyche_runbook_{name}"))
}

/// Checks the per-run gauges against `watch --once --output json`'s row for the run.
fn assert_run_gauges(scrape: &Scrape, row: &Value) {
    let id = row["run_id"].as_str().unwrap();
    let run = [("run_id", id)];
    assert_eq!(get(scrape, "run_epoch", &run), row["epoch"].as_f64().unwrap());
    assert_eq!(get(scrape, "run_step", &run), row["step"].as_f64().unwrap());
    assert_eq!(get(scrape, "run_total_steps", &run), row["total_steps"].as_f64().unwrap());
    assert_eq!(get(scrape, "run_min_clients", &run), row["min_clients"].as_f64().unwrap());
    for status in ["joined", "healthy", "dropped"] {
        let expected = row["clients"][status].as_f64().unwrap();
        assert_eq!(get(scrape, "run_clients", &[("run_id", id), ("status", status)]), expected, "{status}");
    }
    let state = row["state"].as_str().unwrap();
    assert_eq!(get(scrape, "run_state", &[("run_id", id), ("state", state)]), 1.0);
    let states: Vec<&Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "psyche_runbook_run_state" && s.labels.get("run_id") == Some(id))
        .collect();
    assert_eq!(states.len(), 8, "one sample per run state");
    assert_eq!(states.iter().map(|s| value(s)).sum::<f64>(), 1.0);
    let treasury = &row["treasury"];
    assert_eq!(get(scrape, "run_treasury_funded", &run), treasury["funded"].as_f64().unwrap());
    assert_eq!(get(scrape, "run_treasury_unclaimed", &run), treasury["unclaimed"].as_f64().unwrap());
    assert_eq!(get(scrape, "run_runway_epochs", &run), treasury["runway_epochs"].as_f64().unwrap());
}

#[test]
fn metrics_file_carries_the_figures_of_the_execution() {
    let rb = Runbook::new();
    std::fs::create_dir(rb.path("textfile")).unwrap();
    let doc = rb
        .run_args([
            "run",
            &runbook("quickstart.rhai"),
            "--metrics-file",
            "textfile/quickstart.prom",
            "--output",
            "json",
        ])
        .success()
        .json();
    let text = std::fs::read_to_string(rb.path("textfile/quickstart.prom")).unwrap();
    let scrape = parse(&text);
    let cluster = [("cluster", "embedded")];
    assert_eq!(get(&scrape, "exit_code", &cluster), 0.0);
    assert_eq!(get(&scrape, "success", &cluster), 1.0);
    let landed = doc["signatures"].as_array().unwrap().len() as f64;
    assert!(landed > 10.0, "the quickstart sends its whole setup: {landed}");
    assert_eq!(get(&scrape, "transactions_landed", &cluster), landed);
    assert_eq!(get(&scrape, "transactions_sent", &cluster), landed);
    assert_eq!(get(&scrape, "transactions_failed", &cluster), 0.0);
    // At least a read before each transaction and its confirmation.
    assert!(get(&scrape, "rpc_round_trips", &cluster) > landed, "{text}");
    let duration = get(&scrape, "duration_seconds", &cluster);
    assert!(duration > 0.0 && duration < 600.0, "{duration}");
    assert!(scrape.docs.contains_key("psyche_runbook_exit_code"), "HELP lines are present");
    let runbook_label =
        scrape.samples.iter().find(|s| s.metric == "psyche_runbook_exit_code").unwrap().labels.get("runbook");
    assert!(runbook_label.unwrap().ends_with("quickstart.rhai"));

    // The run the runbook touched, as `watch` sees it.
    let watch = rb.run_args(["watch", "--once", "--output", "json", "quickstart"]).success().json();
    assert_run_gauges(&scrape, &watch["runs"][0]);
    // Written atomically: no temp file is left beside it.
    let files: Vec<String> = std::fs::read_dir(rb.path("textfile"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["quickstart.prom"]);

    // A re-run sends nothing, and the file says so.
    rb.run_args(["run", &runbook("quickstart.rhai"), "--metrics-file", "textfile/quickstart.prom"]).success();
    let again = parse(&std::fs::read_to_string(rb.path("textfile/quickstart.prom")).unwrap());
    assert_eq!(get(&again, "transactions_sent", &cluster), 0.0);
}

#[test]
fn failed_executions_report_their_exit_code() {
    let rb = Runbook::new().file("fail.rhai", "output(\"before\", 1);\nthrow \"boom\";\n");
    rb.run_args(["run", "fail.rhai", "--metrics-file", "fail.prom"]).code(1);
    let scrape = parse(&std::fs::read_to_string(rb.path("fail.prom")).unwrap());
    assert_eq!(get(&scrape, "exit_code", &[("cluster", "embedded")]), 1.0);
    assert_eq!(get(&scrape, "success", &[("cluster", "embedded")]), 0.0);
    // It never reached a chain: no round trips to report, no runs.
    assert!(!has(&scrape, "rpc_round_trips"));
    assert!(!has(&scrape, "run_state"));

    // A transaction that never lands (every blockhash expires): counted as failed, exit 3.
    std::fs::write(rb.path("grant.rhai"), "grant_public(payer());\n").unwrap();
    let mut cmd = rb.command();
    cmd.args(["run", "grant.rhai", "--metrics-file", "grant.prom"]).env("PSYCHE_RUNBOOK_FAULTS", "expire=1");
    assert_eq!(cmd.output().unwrap().status.code(), Some(3));
    let scrape = parse(&std::fs::read_to_string(rb.path("grant.prom")).unwrap());
    let cluster = [("cluster", "embedded")];
    assert_eq!(get(&scrape, "exit_code", &cluster), 3.0);
    assert_eq!(get(&scrape, "transactions_sent", &cluster), 1.0);
    assert_eq!(get(&scrape, "transactions_landed", &cluster), 0.0);
    assert_eq!(get(&scrape, "transactions_failed", &cluster), 1.0);
    assert!(get(&scrape, "rpc_round_trips", &cluster) > 1.0);

    // Stopped before running (no such runbook): exit 2, still reported.
    rb.run_args(["run", "missing.rhai", "--metrics-file", "missing.prom"]).code(2);
    let scrape = parse(&std::fs::read_to_string(rb.path("missing.prom")).unwrap());
    assert_eq!(get(&scrape, "exit_code", &[("runbook", "missing.rhai")]), 2.0);
}

#[test]
fn watch_serves_metrics_for_scraping() {
    let rb = Runbook::new();
    rb.run_args(["run", &runbook("quickstart.rhai")]).success();
    let watch = rb.run_args(["watch", "--once", "--output", "json"]).success().json();
    let mut child = rb
        .command()
        .args(["watch", "--metrics-port", "0", "--interval", "0.2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.as_mut().unwrap()).read_line(&mut line).unwrap();
    let address =
        line.trim().strip_prefix("serving metrics on http://").unwrap().strip_suffix("/metrics").unwrap().to_string();
    // Scrape until the first refresh is published.
    let started = std::time::Instant::now();
    let scrape = loop {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        if body.contains("run_state") {
            let scrape = parse(body);
            if get(&scrape, "watch_refreshes", &[("cluster", "embedded")]) >= 2.0 {
                break scrape;
            }
        }
        assert!(started.elapsed().as_secs() < 120, "no refresh published: {body:?}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_run_gauges(&scrape, &watch["runs"][0]);
    // From the second refresh on, the mint is known: two round trips per refresh.
    assert_eq!(get(&scrape, "watch_rpc_round_trips", &[("cluster", "embedded")]), 2.0);
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
