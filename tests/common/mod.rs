//! A builder over the real binary: files in a fresh directory (also its HOME, so no user
//! config leaks in), arguments, environment and stdin; then the exit code, stdout and stderr.

#![allow(dead_code)]

pub mod anchor_log;
pub mod local_server;
pub mod programs;
pub mod proxy;
pub mod shape;
pub mod validator;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_psyche-runbook");

/// Variables a developer's shell may set that would change what the binary resolves.
const CLEARED_ENV: &[&str] = &[
    "RPC",
    "WS_RPC",
    "RUN_ID",
    "WALLET_PRIVATE_KEY_PATH",
    "RAW_WALLET_PRIVATE_KEY",
    "PSYCHE_RUNBOOK_LOCALNET_DIR",
    "PSYCHE_COORDINATOR_PROGRAM_ID",
    "PSYCHE_AUTHORIZER_PROGRAM_ID",
    "PSYCHE_TREASURER_PROGRAM_ID",
    "PSYCHE_RUNBOOK_HISTORY",
    "XDG_STATE_HOME",
];

pub struct Runbook {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    pub fn success(self) -> Self {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "unexpected exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

impl Default for Runbook {
    fn default() -> Self {
        Self::new()
    }
}

impl Runbook {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir"), args: Vec::new(), env: Vec::new(), stdin: None }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn file(self, name: &str, contents: &str) -> Self {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn stdin(mut self, input: &str) -> Self {
        self.stdin = Some(input.into());
        self
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path()).env("HOME", self.dir.path()).env("NO_COLOR", "1");
        for var in CLEARED_ENV {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs with `args` instead of the builder's, keeping the directory for another run.
    pub fn run_args<I: IntoIterator<Item = S>, S: Into<String>>(&self, args: I) -> Run {
        let mut cmd = self.command();
        cmd.args(args.into_iter().map(Into::into).collect::<Vec<String>>());
        self.spawn(cmd)
    }

    pub fn run(&self) -> Run {
        let mut cmd = self.command();
        cmd.args(&self.args);
        self.spawn(cmd)
    }

    fn spawn(&self, mut cmd: Command) -> Run {
        cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn psyche-runbook");
        if let Some(input) = &self.stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

/// The fixture config with timings of a few seconds, so epochs pass quickly in real time.
pub fn fast_config(total_steps: u32) -> String {
    let base = std::fs::read_to_string(fixture("configs/config.toml")).unwrap();
    base.replace("warmup_time = 15", "warmup_time = 3")
        .replace("cooldown_time = 30", "cooldown_time = 2")
        .replace("epoch_time = 60", "epoch_time = 8")
        .replace("max_round_train_time = 15", "max_round_train_time = 3")
        .replace("waiting_for_members_extra_time = 3", "waiting_for_members_extra_time = 1")
        .replace("total_steps = 25000\nwaiting", &format!("total_steps = {total_steps}\nwaiting"))
}

/// The embedded chain's database files as bytes (the database and any write-ahead log
/// content), to check that something left the chain untouched.
pub fn chain_files(rb: &Runbook) -> Vec<Vec<u8>> {
    ["chain.db", "chain.db-wal"]
        .iter()
        .filter_map(|name| std::fs::read(rb.path(&format!(".psyche-runbook/localnet/{name}"))).ok())
        .filter(|bytes| !bytes.is_empty())
        .collect()
}

/// A file from `tests/fixtures` (upstream data kept in the repository; see its README).
pub fn fixture(relative: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(relative);
    assert!(path.exists(), "fixture missing: {}", path.display());
    path
}

/// `psyche-runbook localnet serve --port 0` in the runbook's directory, its URL read from stderr.
pub struct Server {
    pub child: std::process::Child,
    pub url: String,
    /// The PubSub websocket's URL (the second line serve prints).
    pub ws_url: String,
    /// Everything serve printed to stderr after its two URL lines, so far.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(rb: &Runbook) -> Self {
        Self::start_with(rb, &[])
    }

    /// `start` with more `localnet serve` arguments (for example `--clients 3`).
    pub fn start_with(rb: &Runbook, extra: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = rb
            .command()
            .args(["localnet", "serve", "--port", "0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn localnet serve");
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{line}");
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let ws_url = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(ws_url.starts_with("ws://127.0.0.1:"), "{line}");
        // Keep draining stderr, so a chatty server never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let kept = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            let mut line = String::new();
            while stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
                kept.lock().unwrap().push_str(&std::mem::take(&mut line));
            }
        });
        Self { child, url, ws_url, log }
    }

    /// The first line serve has printed so far that contains `needle`.
    pub fn logged(&self, needle: &str) -> Option<String> {
        self.log.lock().unwrap().lines().find(|line| line.contains(needle)).map(str::to_string)
    }

    /// One raw JSON-RPC exchange over loopback (HTTP/1.1, as any client sends it): the whole
    /// response document, errors included.
    pub fn post(&self, body: &serde_json::Value) -> serde_json::Value {
        use std::io::{Read, Write};
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to localnet serve");
        let payload = body.to_string();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            payload.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
    }

    /// `post` of one call.
    pub fn call(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.post(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    }

    /// A Solana RPC client on the server (confirmed commitment), once it answers.
    pub fn client(&self) -> solana_rpc_client::rpc_client::RpcClient {
        let client = solana_rpc_client::rpc_client::RpcClient::new_with_commitment(
            self.url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        );
        let started = std::time::Instant::now();
        while client.get_health().is_err() {
            assert!(started.elapsed() < std::time::Duration::from_secs(120), "server did not come up");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        client
    }

    /// SIGTERM, as an operator stops it; returns the exit code.
    pub fn stop(mut self) -> i32 {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

impl Drop for Server {
    /// A test that fails before `stop` must not leave its server running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Settings resolved from command-line flags alone (no environment, no Solana CLI config), as
/// the binary would resolve them: `settings(&["-u", url, "--commitment", "finalized"])`.
pub fn settings(flags: &[&str]) -> psyche_runbook::chain::settings::Settings {
    use clap::Parser;
    struct NoEnv;
    impl psyche_runbook::chain::settings::Env for NoEnv {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
    }
    let none = std::env::temp_dir().join("psyche-runbook-tests-no-solana-config.yml");
    let mut args = vec!["psyche-runbook", "-C", none.to_str().unwrap()];
    args.extend_from_slice(flags);
    args.push("check");
    args.push("none.rhai");
    let cli = psyche_runbook::cli::Cli::try_parse_from(args).expect("test flags parse");
    psyche_runbook::chain::settings::Settings::resolve(&cli.global, &NoEnv, &mut |_| {})
        .unwrap_or_else(|f| panic!("settings: {}", f.message))
}

/// Waits until `signature`'s status is finalized.
pub fn wait_until_finalized(
    client: &solana_rpc_client::rpc_client::RpcClient,
    signature: &solana_sdk::signature::Signature,
) {
    let finalized = solana_commitment_config::CommitmentConfig::finalized();
    let started = std::time::Instant::now();
    loop {
        let status = client.get_signature_statuses(&[*signature]).unwrap().value[0].clone();
        if status.is_some_and(|s| s.satisfies_commitment(finalized)) {
            return;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(120), "{signature} was not finalized");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
