//! The embedded chain as it grows: chains of 0, 20,000 and 200,000 granted users (one chain,
//! grown by `grant_many` from users files of 20,000), and at each size the no-op
//! `top-up-cron.rhai` (median wall time of 5, peak RSS), `localnet serve` start-up until it
//! answers `getHealth` (median of 3), `watch --once` (median of 3) and the database's size.
//! Each grant invocation reports its rate in transactions per second.
//!
//! Run: `cargo bench --bench localnet_store` (optional arguments: the sizes, default
//! `0 20000 200000`).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_psyche-runbook");
/// Users granted per invocation.
const GRANT_CHUNK: usize = 20_000;

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir).env("HOME", dir).stdin(Stdio::null());
    command
}

/// Runs `args` in `dir` to completion; its wall time, peak RSS in KiB and stdout.
fn measure(dir: &Path, args: &[&str]) -> (Duration, i64, String) {
    let started = Instant::now();
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also reports its memory
    let mut child = command(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
        text
    });
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid out-pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let stderr = stderr.join().unwrap();
    assert_eq!(status, 0, "{args:?} failed: {stderr}");
    (started.elapsed(), usage.ru_maxrss, stdout)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// `localnet serve --port 0` from spawn until `getHealth` answers "ok"; then SIGTERM.
fn serve_start(dir: &Path) -> Duration {
    let started = Instant::now();
    let mut child = command(dir, &["localnet", "serve", "--port", "0"]).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.find("http://").map(|at| line[at..].trim().to_string()))
        .expect("serve prints its address");
    // Keep reading what it says, so it never writes to a closed pipe.
    let drain = std::thread::spawn(move || lines.for_each(drop));
    let client = reqwest::blocking::Client::new();
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getHealth"});
    loop {
        let answer = client.post(&url).json(&body).send().and_then(|r| r.json::<serde_json::Value>());
        if answer.is_ok_and(|a| a["result"] == "ok") {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    drain.join().unwrap();
    elapsed
}

fn db_bytes(dir: &Path) -> u64 {
    ["chain.db", "chain.db-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(dir.join(".psyche-runbook/localnet").join(name)).ok())
        .map(|m| m.len())
        .sum()
}

struct Row {
    users: usize,
    cron: Duration,
    cron_rss: i64,
    serve: Duration,
    watch: Duration,
    db: u64,
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![0, 20_000, 200_000] } else { sizes };
    let dir = tempfile::tempdir().unwrap();
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let cron = runbooks.join("top-up-cron.rhai").display().to_string();
    // The quickstart's run, funded ten epochs ahead by one real cron run.
    measure(dir.path(), &["run", &runbooks.join("quickstart.rhai").display().to_string()]);
    measure(dir.path(), &["-q", "run", &cron]);
    std::fs::write(dir.path().join("grant.rhai"), "output(\"granted\", grant_many(payer(), param(\"users\")));\n")
        .unwrap();

    let mut rows = Vec::new();
    let mut grants = Vec::new();
    let mut granted = 0;
    for &size in &sizes {
        // Operators grant in files of a few ten thousand users: one invocation per 20,000.
        while size > granted {
            let chunk = (size - granted).min(GRANT_CHUNK);
            let mut file = std::fs::File::create(dir.path().join("users.txt")).unwrap();
            for _ in 0..chunk {
                writeln!(file, "{}", solana_sdk::pubkey::Pubkey::new_unique()).unwrap();
            }
            drop(file);
            let (time, rss, stdout) =
                measure(dir.path(), &["-q", "--output", "json", "run", "grant.rhai", "--set", "users=users.txt"]);
            let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            let sent = doc["signatures"].as_array().map_or(0, Vec::len);
            // A rate is only worth reporting for a grant that granted everyone.
            let outcome = &doc["outputs"]["granted"];
            assert_eq!(outcome["created"], chunk, "not every user was granted: {}", outcome["failed"]);
            grants.push((granted, granted + chunk, sent, time, rss));
            granted += chunk;
        }
        let samples: Vec<(Duration, i64, String)> =
            (0..5).map(|_| measure(dir.path(), &["-q", "run", &cron])).collect();
        let cron_rss = samples.iter().map(|(_, rss, _)| *rss).max().unwrap_or(0);
        let serve = median((0..3).map(|_| serve_start(dir.path())).collect());
        let watch = median((0..3).map(|_| measure(dir.path(), &["watch", "--once"]).0).collect());
        rows.push(Row {
            users: size,
            cron: median(samples.into_iter().map(|(t, _, _)| t).collect()),
            cron_rss,
            serve,
            watch,
            db: db_bytes(dir.path()),
        });
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| granted users | database | no-op cron (median of 5) | cron peak RSS | serve to getHealth | watch --once |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} MB | {:.1} ms | {:.1} MiB | {:.1} ms | {:.1} ms |",
            r.users,
            r.db as f64 / 1e6,
            ms(r.cron),
            r.cron_rss as f64 / 1024.0,
            ms(r.serve),
            ms(r.watch)
        );
    }
    println!();
    println!("| granting | transactions | wall time | rate | users a second | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for (from, to, sent, time, rss) in &grants {
        println!(
            "| {from} → {to} users | {sent} | {:.2} s | {:.0} tx/s | {:.0} | {:.1} MiB |",
            time.as_secs_f64(),
            *sent as f64 / time.as_secs_f64(),
            (to - from) as f64 / time.as_secs_f64(),
            *rss as f64 / 1024.0
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        println!();
        println!(
            "From {} to {} users: no-op cron {:.2}x the time, {:+.1} MiB RSS; serve starts in {:.1} ms.",
            first.users,
            last.users,
            last.cron.as_secs_f64() / first.cron.as_secs_f64(),
            (last.cron_rss - first.cron_rss) as f64 / 1024.0,
            ms(last.serve)
        );
    }
}
