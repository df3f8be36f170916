//! RPC round trips of each example runbook, first run and re-run, counted by the client's own
//! transport (`rpc_round_trips_by_method` in `--output json`). The runbooks run once on the
//! embedded chain to set up what needs localnet services (minting), then over HTTP against
//! `localnet serve`, which takes the real-cluster path (priority fees, compute-unit simulation).
//! Prints a Markdown table for BENCHMARKS.md.
//!
//! Run: `cargo bench --bench round_trips`.

use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_psyche-runbook");

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

fn run(dir: &Path, args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["--output", "json"])
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("RPC")
        .env_remove("RUN_ID")
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).expect("a JSON document");
    assert_eq!(doc["ok"], true, "{args:?}: {doc}");
    doc
}

/// `total (method n, …)` for a table cell.
fn cell(doc: &Value) -> String {
    let by_method = doc["rpc_round_trips_by_method"].as_object().unwrap();
    let parts: Vec<String> = by_method.iter().map(|(m, n)| format!("{m} {n}")).collect();
    format!(
        "**{}** ({}); {} sent",
        doc["rpc_round_trips"],
        parts.join(", "),
        doc["signatures"].as_array().unwrap().len()
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let dir: PathBuf = dir.path().to_path_buf();
    let users: String = (0..5).map(|_| format!("{}\n", solana_sdk::pubkey::Pubkey::new_unique())).collect();
    std::fs::write(dir.join("users.txt"), users).unwrap();
    let users = dir.join("users.txt").display().to_string();

    println!("| runbook | where | first run | re-run |");
    println!("|---|---|---|---|");
    let quickstart =
        [run(&dir, &["run", &runbook("quickstart.rhai")]), run(&dir, &["run", &runbook("quickstart.rhai")])];
    println!("| quickstart.rhai | embedded | {} | {} |", cell(&quickstart[0]), cell(&quickstart[1]));

    let mut server = Command::new(BIN)
        .args(["localnet", "serve", "--port", "0"])
        .current_dir(&dir)
        .env("HOME", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stderr.as_mut().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    let payer = dir.join(".psyche-runbook/localnet/payer.json").display().to_string();

    // The first run through a URL asks the node for its genesis hash; later runs confirm it
    // inside their first request (a batch), at no extra round trip.
    std::fs::write(dir.join("exists.rhai"), "output(\"exists\", run_exists(\"quickstart\"));").unwrap();
    let contact = [
        run(&dir, &["-u", &url, "-k", &payer, "run", "exists.rhai"]),
        run(&dir, &["-u", &url, "-k", &payer, "run", "exists.rhai"]),
    ];
    println!(
        "| run_exists (a URL's first contact) | localnet serve (HTTP) | {} | {} |",
        cell(&contact[0]),
        cell(&contact[1])
    );

    let users_set = format!("users={users}");
    let cases: [(&str, Vec<&str>); 5] = [
        ("create-public-run.rhai", vec![]),
        ("create-private-run.rhai", vec!["--set", &users_set]),
        ("top-up-cron.rhai", vec!["--set", "epochs=10"]),
        ("pause-update-resume.rhai", vec!["--set", "config=configs/quickstart.toml"]),
        ("inspect.rhai", vec![]),
    ];
    for (name, extra) in cases {
        let path = runbook(name);
        let mut args = vec!["-u", &url, "-k", &payer, "run", &path];
        args.extend(extra.iter().copied());
        let first = run(&dir, &args);
        let again = run(&dir, &args);
        println!("| {name} | localnet serve (HTTP) | {} | {} |", cell(&first), cell(&again));
    }

    // Single operations, beside Psyche run-manager's counts for the same operation (measured
    // against `localnet serve` with a counting proxy; see BENCHMARKS.md).
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/configs/quickstart.toml"));
    std::fs::write(dir.join("changed.toml"), config.unwrap().replacen("warmup_time = 10", "warmup_time = 20", 1))
        .unwrap();
    let ops = [
        ("create-run", "create_run(#{ run_id: \"bench-direct\" });", 5),
        ("set-paused", "run(\"public-run\").pause();", 6),
        ("update-config", "run(\"public-run\").update_config(\"changed.toml\");", 7),
        ("set-future-epoch-rates", "run(\"quickstart\").set_rates(4.0, 0.5);", 8),
        ("treasurer top-up", "run(\"quickstart\").top_up(1.0);", 8),
    ];
    println!();
    println!("| operation | psyche-runbook | run-manager |");
    println!("|---|---|---|");
    for (name, script, run_manager) in ops {
        std::fs::write(dir.join("op.rhai"), script).unwrap();
        let doc = run(&dir, &["-u", &url, "-k", &payer, "run", "op.rhai"]);
        println!("| {name} | {} | {run_manager} |", cell(&doc));
    }
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}
