//! What a fresh chain per test costs: twenty tests that each create a run (`psyche-runbook
//! test`, every test on a fresh chain in memory) against twenty `run` invocations of the same
//! body, each on a fresh `--localnet-dir`. Both sides run the release binary from a fresh
//! directory; the tests once on every core (the default) and once with `--jobs 1`.
//!
//! Run: `cargo bench --bench runbook_tests` (optional argument: repetitions, default 5).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_psyche-runbook");
const CASES: usize = 20;
const BODY: &str = r#"let r = create_run(#{ run_id: "bench", join_authority: payer().pubkey, client_version: "latest" }).run;
r.update_config("config.toml");"#;

fn timed(dir: &Path, args: &[String]) -> Duration {
    let started = Instant::now();
    let status = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{args:?} failed");
    started.elapsed()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    let repeats: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/configs/quickstart.toml");
    std::fs::copy(config, dir.path().join("config.toml")).unwrap();
    std::fs::write(dir.path().join("body.rhai"), BODY).unwrap();
    let tests: String = (0..CASES).map(|i| format!("fn test_{i:02}() {{\n{BODY}\n}}\n\n")).collect();
    std::fs::write(dir.path().join("bench.test.rhai"), tests).unwrap();

    let mut runs = Vec::new();
    let mut parallel = Vec::new();
    let mut single = Vec::new();
    for repeat in 0..repeats {
        let started = Instant::now();
        for i in 0..CASES {
            let localnet = format!("fresh-{repeat}-{i}");
            let args = ["run", "body.rhai", "--localnet-dir", &localnet].map(String::from);
            timed(dir.path(), &args);
        }
        runs.push(started.elapsed());
        parallel.push(timed(dir.path(), &["test".into(), "bench.test.rhai".into()]));
        single.push(timed(dir.path(), &["test", "bench.test.rhai", "--jobs", "1"].map(String::from)));
    }
    let (runs, parallel, single) = (median(runs), median(parallel), median(single));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "| {CASES} cases, each creating a run and uploading its config (median of {repeats}) | wall time | against `run` |"
    );
    println!("|---|---|---|");
    println!(
        "| {CASES} `run` invocations, each on a fresh --localnet-dir | {:.0} ms | 1.00 |",
        runs.as_secs_f64() * 1e3
    );
    for (label, took) in [(format!("`test`, {cores} jobs (the default)"), parallel), ("`test --jobs 1`".into(), single)]
    {
        println!("| {label} | {:.0} ms | {:.2} |", took.as_secs_f64() * 1e3, took.as_secs_f64() / runs.as_secs_f64());
    }
}
