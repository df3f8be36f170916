//! A cron invocation with nothing to do: `run top-up-cron.rhai` on the embedded chain when the
//! treasury is already funded, next to the plain start-up of the binary (`--version`). Reports
//! the median wall time and the peak resident memory of each.
//!
//! Run: `cargo bench --bench cron_noop` (optional argument: repetitions, default 20).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_psyche-runbook");

/// Runs `args` in `dir`; returns the wall time and the child's peak RSS in KiB.
fn measure(dir: &Path, args: &[&str]) -> (Duration, i64) {
    let started = Instant::now();
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also reports its memory
    let child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid out-pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    assert_eq!(status, 0, "{args:?} failed");
    (started.elapsed(), usage.ru_maxrss)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    let runs: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let quickstart = runbooks.join("quickstart.rhai").display().to_string();
    let cron = runbooks.join("top-up-cron.rhai").display().to_string();
    // State: the quickstart's run, funded 10 epochs ahead by one real cron run.
    measure(dir.path(), &["run", &quickstart]);
    measure(dir.path(), &["-q", "run", &cron]);

    let mut table = Vec::new();
    for (label, args) in
        [("--version", vec!["--version"]), ("no-op cron: -q run top-up-cron.rhai", vec!["-q", "run", cron.as_str()])]
    {
        let samples: Vec<(Duration, i64)> = (0..runs).map(|_| measure(dir.path(), &args)).collect();
        let peak = samples.iter().map(|(_, rss)| *rss).max().unwrap_or(0);
        table.push((label, median(samples.into_iter().map(|(t, _)| t).collect()), peak));
    }
    println!("| command | median wall time ({runs} runs) | peak RSS |");
    println!("|---|---|---|");
    for (label, time, rss) in table {
        println!("| {label} | {:.1} ms | {:.1} MiB |", time.as_secs_f64() * 1000.0, rss as f64 / 1024.0);
    }
}
