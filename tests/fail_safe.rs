//! Failing safely when the machine fails. A full disk (a small tmpfs mounted for the test, or,
//! where mounting is not allowed, the test build's injected full disk) under the embedded chain
//! and under `localnet serve`: a clear error and exit code, no panic, the lock free, every
//! journaled landing in the chain's history, and a re-run after space is freed reaching the
//! target exactly. Also: serve's unhealthy state, partial failures the runbook did not handle
//! (exit 5), a coordinator layout from the future, an execution stuck in a send ended by
//! SIGTERM, and the localnet directory's lock honouring `--lock-timeout`.

mod common;

use common::proxy::Proxy;
use common::{Runbook, Server};
use psyche_runbook::localnet::Localnet;
use psyche_runbook::psyche::accounts::BorshAccount;
use solana_sdk::signature::Signature;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A disk that fills on demand: a small tmpfs when the test may mount one, else the test
/// build's injected full disk (`PSYCHE_TEST_DISK_FULL`), which fails every write at once.
struct FullDisk {
    root: tempfile::TempDir,
    mounted: bool,
    flag: PathBuf,
}

impl FullDisk {
    fn new(megabytes: u64) -> Self {
        let root = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(root.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("no tmpfs can be mounted here: the test build's injected full disk stands in");
        }
        // One flag per disk: tests run side by side.
        let flag = root.path().join("disk-is-full");
        Self { root, mounted, flag }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    /// What a process writing to the disk needs in its environment.
    fn env(&self) -> Vec<(&'static str, String)> {
        if self.mounted { Vec::new() } else { vec![("PSYCHE_TEST_DISK_FULL", self.flag.display().to_string())] }
    }

    /// Fills the disk, leaving `room_kb` (a mounted one) or none at all (injected).
    fn fill(&self, room_kb: u64) {
        if !self.mounted {
            std::fs::write(&self.flag, "full").unwrap();
            return;
        }
        let out = Command::new("df").args(["--output=avail", "-k"]).arg(self.root.path()).output().unwrap();
        let avail: u64 = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().trim().parse().unwrap();
        let filler = std::fs::File::create(self.path("filler")).unwrap();
        filler.set_len(0).unwrap();
        use std::io::Write;
        let mut filler = std::io::BufWriter::new(filler);
        let block = vec![0u8; 1024];
        for _ in 0..avail.saturating_sub(room_kb) {
            if filler.write_all(&block).is_err() {
                break;
            }
        }
        let _ = filler.flush();
    }

    fn free(&self) {
        let _ = std::fs::remove_file(self.path("filler"));
        let _ = std::fs::remove_file(&self.flag);
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        self.free();
        if self.mounted {
            let _ = Command::new("umount").arg(self.root.path()).status();
        }
    }
}

/// 3,000 distinct users, one per line.
fn users() -> String {
    (0..3000u32)
        .map(|i| {
            let key = solana_sdk::hash::hashv(&[b"user", &i.to_le_bytes()]);
            format!("{}\n", solana_sdk::pubkey::Pubkey::new_from_array(key.to_bytes()))
        })
        .collect()
}

const GRANT: &str = "let r = grant_many(payer(), \"users.txt\");\noutput(\"created\", r.created);\noutput(\"unchanged\", r.unchanged);\n";

/// Runs `command` to its end, however long the machine takes, but not forever: a process that
/// hangs fails the test instead of hanging it.
fn finish(mut command: Command) -> common::Run {
    let child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let id = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let output = match finished.recv_timeout(Duration::from_secs(600)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &id.to_string()]).status();
            panic!("the process did not end");
        }
    };
    common::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Every signature the journals under `dir` record as landed.
fn journaled_landings(dir: &Path) -> Vec<Signature> {
    let mut landed = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let record: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            if record["event"] == "landed" {
                landed.push(record["signature"].as_str().unwrap().parse().unwrap());
            }
        }
    }
    landed
}

fn assert_in_history(localnet: &Path, landed: &[Signature]) {
    let net = Localnet::load_read_only(localnet).unwrap();
    for signature in landed {
        assert!(net.record(signature).is_some(), "{signature} was journaled as landed but is not in the history");
    }
}

#[test]
fn a_full_disk_under_the_embedded_chain_is_an_error_and_a_rerun_reaches_the_target() {
    let disk = FullDisk::new(64);
    let rb = Runbook::new().file("users.txt", &users()).file("grant.rhai", GRANT).file("setup.rhai", "payer();\n");
    let localnet = disk.path("ln").display().to_string();
    let command = |args: &[&str]| {
        let mut command = rb.command();
        command.args(["--localnet-dir", localnet.as_str()]).args(args);
        for (key, value) in disk.env() {
            command.env(key, value);
        }
        command
    };
    assert_eq!(finish(command(&["run", "setup.rhai"])).code, 0);
    disk.fill(3000);
    let failed = finish(command(&["run", "grant.rhai"]));
    assert_eq!(failed.code, 74, "{}", failed.stderr);
    assert!(!failed.stderr.contains("panicked"), "{}", failed.stderr);
    let named = failed.stderr.contains("chain.db: database or disk is full")
        || failed.stderr.contains("No space left on device");
    assert!(named && failed.stderr.contains(&disk.path("").display().to_string()), "{}", failed.stderr);
    disk.free();
    assert_in_history(Path::new(&localnet), &journaled_landings(&disk.path("journal")));
    // The lock went with the process; space is back: the grant completes, once.
    let rerun = finish(command(&["--lock-timeout", "0", "--output", "json", "run", "grant.rhai"]));
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert!(!rerun.stderr.contains("waiting for another"), "{}", rerun.stderr);
    let again = finish(command(&["--output", "json", "run", "grant.rhai"]));
    let doc = again.json();
    assert_eq!(doc["outputs"]["unchanged"], 3000, "every user granted: {doc}");
    assert_eq!(doc["signatures"].as_array().unwrap().len(), 0, "{doc}");
    let first = rerun.json()["outputs"]["created"].as_i64().unwrap();
    let earlier = journaled_landings(&disk.path("journal")).len();
    assert!(first > 0 || earlier > 0, "users were granted by one run or the other");
}

#[test]
fn serve_on_a_full_disk_refuses_writes_serves_reads_and_recovers() {
    let disk = FullDisk::new(64);
    let served = Runbook::new().file("setup.rhai", "payer();\n");
    let localnet = disk.path("ln").display().to_string();
    let mut setup = served.command();
    setup.args(["--localnet-dir", localnet.as_str(), "run", "setup.rhai"]);
    assert_eq!(finish(setup).code, 0);
    let mut served = served;
    for (key, value) in disk.env() {
        served = served.env(key, &value);
    }
    let server = Server::start_with(&served, &["--localnet-dir", &localnet, "--slot-ms", "50"]);
    let client = Runbook::new().file("users.txt", &users()).file("grant.rhai", GRANT);
    std::fs::copy(Path::new(&localnet).join("payer.json"), client.path("id.json")).unwrap();
    let grant = |extra: &[&str]| {
        let mut command = client.command();
        command
            .args(["-u", server.url.as_str(), "-k", "id.json", "--output", "json"])
            .args(extra)
            .args(["run", "grant.rhai"]);
        finish(command)
    };
    disk.fill(3000);
    let failed = grant(&[]);
    assert!(failed.code == 5 || failed.code == 3, "{}", failed.stderr);
    assert!(failed.stderr.contains("storage"), "{}", failed.stderr);
    // Unhealthy, with the reason; reads are served; sends are refused.
    let health = server.call("getHealth", serde_json::json!([]));
    assert_eq!(health["error"]["code"], -32005, "{health}");
    assert!(health["error"]["message"].as_str().unwrap().contains("storage cannot be written"), "{health}");
    assert!(server.call("getSlot", serde_json::json!([]))["result"].is_u64());
    assert!(server.call("getBalance", serde_json::json!([client_payer(&client)]))["result"]["value"].is_u64());
    assert!(server.logged("panicked").is_none());
    // Space is back: serve takes writes again, and the grant completes, once.
    disk.free();
    let deadline = Instant::now() + Duration::from_secs(120);
    while server.logged("can be written again").is_none() {
        assert!(Instant::now() < deadline, "serve did not recover");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(server.call("getHealth", serde_json::json!([]))["result"], "ok");
    let rerun = grant(&[]);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let again = grant(&[]).json();
    assert_eq!(again["outputs"]["unchanged"], 3000, "{again}");
    assert_eq!(again["signatures"].as_array().unwrap().len(), 0, "{again}");
    let landed = journaled_landings(&client.path(".psyche-runbook/journal"));
    assert_eq!(server.stop(), 0);
    assert_in_history(Path::new(&localnet), &landed);
}

fn client_payer(client: &Runbook) -> String {
    let bytes: Vec<u8> = serde_json::from_str(&std::fs::read_to_string(client.path("id.json")).unwrap()).unwrap();
    use solana_sdk::signer::Signer;
    solana_sdk::signature::Keypair::try_from(bytes.as_slice()).unwrap().pubkey().to_string()
}

#[test]
fn users_a_bulk_grant_left_unserved_fail_the_execution_unless_accepted() {
    let list: Vec<String> = (0..10).map(|_| format!("\"{}\"", solana_sdk::pubkey::Pubkey::new_unique())).collect();
    let grant = format!("let r = grant_many(payer(), [{}]);\noutput(\"failed\", r.failed.len());\n", list.join(", "));
    let accepted = format!("{grant}r.accept_failures();\n");
    let rb = Runbook::new().file("grant.rhai", &grant).file("accepted.rhai", &accepted);
    // Every blockhash expires as it is sent: no user can be served.
    let lossy = |file: &str| {
        let mut command = rb.command();
        command.env("PSYCHE_RUNBOOK_FAULTS", "expire=1.0").args(["-q", "run", file]);
        finish(command)
    };
    let failed = lossy("grant.rhai");
    assert_eq!(failed.code, 5, "{}", failed.stderr);
    assert!(failed.stderr.contains("grant_many: 10 user(s) unserved ("), "{}", failed.stderr);
    assert!(failed.stderr.contains("res.accept_failures()"), "{}", failed.stderr);
    let handled = lossy("accepted.rhai");
    assert_eq!(handled.code, 0, "{}", handled.stderr);
}

#[test]
fn a_coordinator_account_of_a_newer_layout_is_named_and_left_alone() {
    let v1 = std::fs::read(common::fixture("coordinator-account-v1.bin")).unwrap();
    // Upstream's pending layout: version 2, without the 360-byte metadata.
    let mut v2 = v1[..16].to_vec();
    v2[8..16].copy_from_slice(&2u64.to_le_bytes());
    v2.extend_from_slice(&v1[16 + 360..]);
    assert_eq!(v2.len(), 118_800);
    let expected = "coordinator account layout version 2 is newer than this release understands (1)";
    let rb =
        Runbook::new().file("create.rhai", "create_run(#{ run_id: \"new\" });\ncreate_run(#{ run_id: \"old\" });\n");
    std::fs::write(rb.path("v2.bin"), &v2).unwrap();
    let decoded = rb.run_args(["decode", "coordinator-account", "v2.bin"]);
    assert_ne!(decoded.code, 0);
    assert!(decoded.stderr.contains(expected), "{}", decoded.stderr);

    // A run whose coordinator account a newer program rewrote.
    rb.run_args(["run", "create.rhai"]).success();
    {
        let dir = rb.path(".psyche-runbook/localnet");
        let handle = psyche_runbook::localnet::handle::Handle::open(&dir, || {}).unwrap();
        let mut net = handle.lock();
        let ids = net.ids();
        let instance = psyche_runbook::psyche::pdas::coordinator_instance(&ids, "new");
        let instance = net.account(&instance).unwrap();
        let instance = psyche_runbook::psyche::accounts::instance::CoordinatorInstance::decode(&instance.data).unwrap();
        let mut account = net.account(&instance.coordinator_account).unwrap();
        account.data = v2.clone();
        net.set_account(instance.coordinator_account, account);
        net.flush().unwrap();
    }
    std::fs::write(rb.path("pause.rhai"), "run(\"new\").pause();\n").unwrap();
    let refused = rb.run_args(["--output", "json", "run", "pause.rhai"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains(expected), "{}", refused.stderr);
    assert_eq!(refused.json()["signatures"].as_array().unwrap().len(), 0);
    std::fs::write(rb.path("list.rhai"), "output(\"runs\", list_runs());\n").unwrap();
    let listed = rb.run_args(["--output", "json", "run", "list.rhai"]).success().json();
    let runs = listed["outputs"]["runs"].as_array().unwrap();
    let new = runs.iter().find(|r| r["run_id"] == "new").unwrap();
    assert_eq!(
        (new["state"].as_str(), new["error"].as_str().map(|e| e.contains(expected))),
        (Some("unreadable"), Some(true))
    );
    assert!(runs.iter().any(|r| r["run_id"] == "old" && r["state"] != "unreadable"), "{listed}");
    let watched = rb.run_args(["watch", "--once"]).success();
    assert!(watched.stdout.contains("old") && watched.stdout.contains("new"), "{}", watched.stdout);
}

#[test]
fn sigterm_ends_an_execution_stuck_in_a_send_with_what_it_sent() {
    let rb = Runbook::new().file("pause.rhai", "run(\"quickstart\").pause();\n");
    rb.run_args(["run", &Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/quickstart.rhai").display().to_string()])
        .success();
    let server = Server::start(&rb);
    let proxy = Proxy::start(&server.url);
    proxy.hold_sends();
    let payer = ".psyche-runbook/localnet/payer.json";
    let mut stuck = rb
        .command()
        .args(["-u", &proxy.url, "-k", payer, "run", "pause.rhai"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stuck once its send is held.
    let deadline = Instant::now() + Duration::from_secs(120);
    while proxy.count("sendTransaction") == 0 {
        assert!(stuck.try_wait().unwrap().is_none() && Instant::now() < deadline, "the send never came");
        std::thread::sleep(Duration::from_millis(10));
    }
    Command::new("kill").args(["-TERM", &stuck.id().to_string()]).status().unwrap();
    let mut said = String::new();
    use std::io::Read;
    stuck.stderr.take().unwrap().read_to_string(&mut said).unwrap();
    assert_eq!(stuck.wait().unwrap().code(), Some(130), "{said}");
    assert!(said.contains("interrupted while an operation was still under way"), "{said}");
    // Its lock went with it: the next run (through the node itself) settles and goes on.
    let next = rb.run_args(["-u", &server.url, "-k", payer, "--lock-timeout", "0", "run", "pause.rhai"]);
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert!(next.stderr.contains("left in flight"), "{}", next.stderr);
    assert_eq!(server.stop(), 0);
}

#[test]
fn the_localnet_lock_honours_lock_timeout() {
    let rb = Runbook::new().file("r.rhai", "payer();\n");
    rb.run_args(["run", "r.rhai"]).success();
    let server = Server::start(&rb);
    let waited = rb.run_args(["--lock-timeout", "1", "run", "r.rhai"]);
    assert_eq!(waited.code, 75, "{}", waited.stderr);
    assert!(waited.stderr.contains("is held by pid"), "{}", waited.stderr);
    assert!(waited.stderr.contains("nothing was sent"), "{}", waited.stderr);
    assert_eq!(server.stop(), 0);
}
