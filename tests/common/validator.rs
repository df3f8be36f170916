//! The real-validator lane: a `solana-test-validator` (agave 3.1.12), found through
//! `PSYCHE_TEST_VALIDATOR` (`.ci/run` unpacks it from `../shared/bin/` and sets it), started on
//! loopback with its own ledger and ports. Without the setting, lane tests say they were
//! skipped and pass: a clone with nothing beside it still passes its tests.
//!
//! Slots are shortened to 16 ticks (about 100 ms instead of 400 ms) so that 150-slot expiries
//! and 31-slot finality take seconds, unless the caller passes `--ticks-per-slot` (64 is the
//! validator's default); everything else is the validator's default.

use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const VARIABLE: &str = "PSYCHE_TEST_VALIDATOR";

/// The validator binary, or None (after saying the lane is skipped) when it is not configured.
pub fn binary() -> Option<PathBuf> {
    match std::env::var_os(VARIABLE).map(PathBuf::from) {
        Some(path) if path.is_file() => Some(path),
        Some(path) => panic!("{VARIABLE}={} is not a file", path.display()),
        None => {
            eprintln!("real-validator lane skipped: set {VARIABLE} to a solana-test-validator binary");
            None
        }
    }
}

/// A running validator; killed when dropped (and, as a child of the test process, when that
/// process dies: see `spawn`).
pub struct Validator {
    pub url: String,
    pub ws_url: String,
    /// The genesis mint: holds the cluster's SOL.
    pub mint: Keypair,
    child: Mutex<Child>,
    _ledger: tempfile::TempDir,
}

impl Drop for Validator {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Ports a validator needs: RPC (and PubSub on RPC + 1), faucet, gossip and a dynamic range.
fn free_base() -> u16 {
    for _ in 0..200 {
        let base = 20_000 + (rand_u16() % 400) * 100;
        let all_free = (base..base + 100)
            .step_by(1)
            .all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok() && UdpSocket::bind(("127.0.0.1", port)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no free block of 100 ports for a validator");
}

fn rand_u16() -> u16 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    (nanos ^ std::process::id().rotate_left(16)) as u16
}

/// Starts the child from a thread that lives as long as the process, with PR_SET_PDEATHSIG,
/// so a test binary that exits (or is killed) takes its validators with it.
fn spawn(mut command: Command) -> Child {
    use std::os::unix::process::CommandExt;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // SAFETY: prctl only sets this child's parent-death signal before it execs.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        tx.send(command.spawn()).unwrap();
        // The death signal follows the thread that spawned the child: this one never ends.
        loop {
            std::thread::park();
        }
    });
    rx.recv().unwrap().expect("start solana-test-validator")
}

impl Validator {
    /// Starts a validator of its own; None when the lane is skipped.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Option<Self> {
        let binary = binary()?;
        let ledger = tempfile::tempdir().unwrap();
        let mint = Keypair::new();
        let base = free_base();
        let port = |offset: u16| (base + offset).to_string();
        let mut command = Command::new(binary);
        command
            .args(["--ledger", &ledger.path().join("ledger").display().to_string(), "--quiet"])
            .args(["--rpc-port", &port(0), "--faucet-port", &port(2), "--gossip-port", &port(3)])
            .args(["--dynamic-port-range", &format!("{}-{}", base + 10, base + 99)])
            .args(["--mint", &mint.pubkey().to_string()])
            .args(extra)
            .current_dir(ledger.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if !extra.contains(&"--ticks-per-slot") {
            command.args(["--ticks-per-slot", "16"]);
        }
        let child = spawn(command);
        let validator = Validator {
            url: format!("http://127.0.0.1:{base}"),
            ws_url: format!("ws://127.0.0.1:{}", base + 1),
            mint,
            child: Mutex::new(child),
            _ledger: ledger,
        };
        validator.wait_until_ready();
        Some(validator)
    }

    /// The lane's shared validator (one per test binary), for tests that need nothing of
    /// their own; None when the lane is skipped.
    pub fn shared() -> Option<&'static Validator> {
        static SHARED: OnceLock<Option<Validator>> = OnceLock::new();
        SHARED.get_or_init(Validator::start).as_ref()
    }

    /// Healthy, and past a few slots (fees stabilised, a root to read).
    fn wait_until_ready(&self) {
        let client = self.client();
        let started = Instant::now();
        loop {
            if let Some(Ok(status)) = self.child.lock().unwrap().try_wait().transpose() {
                panic!("solana-test-validator exited at start: {status}");
            }
            if client.get_health().is_ok() && client.get_slot().is_ok_and(|s| s > 2) {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(180), "solana-test-validator did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A Solana RPC client on the validator (confirmed commitment).
    pub fn client(&self) -> solana_rpc_client::rpc_client::RpcClient {
        solana_rpc_client::rpc_client::RpcClient::new_with_commitment(
            self.url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        )
    }

    /// A fresh key holding `sol`, paid by the mint and confirmed.
    pub fn funded(&self, sol: u64) -> Keypair {
        let key = Keypair::new();
        let client = self.client();
        let ix = solana_system_interface::instruction::transfer(
            &self.mint.pubkey(),
            &key.pubkey(),
            sol * solana_sdk::native_token::LAMPORTS_PER_SOL,
        );
        let blockhash = client.get_latest_blockhash().unwrap();
        let tx = solana_sdk::transaction::Transaction::new_signed_with_payer(
            &[ix],
            Some(&self.mint.pubkey()),
            &[&self.mint],
            blockhash,
        );
        let signature = client.send_and_confirm_transaction(&tx).expect("fund a key from the mint");
        // Finalized: a client at `finalized` cannot pay with a balance the root has not seen.
        super::wait_until_finalized(&client, &signature);
        key
    }
}
