//! Follow mode (`run --follow`): a runbook's handlers called as its runs change, through the
//! real binary against `localnet serve` (with simulated clients training) and the embedded
//! chain. A pause sent by a handler lands once; a follower killed with SIGKILL in the middle of
//! a handler and restarted completes it without sending anything twice; a serve stopped and
//! restarted on the same state while the follower runs loses no transition; `--dry-run
//! --follow` prints what a handler would send and sends nothing.

mod common;

use common::webhook::Receiver as Webhook;
use common::{Runbook, Server, fast_config};
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::coordinator_account::CoordinatorAccount;
use psyche_runbook::psyche::accounts::instance::CoordinatorInstance;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::pdas;
use solana_rpc_client::rpc_client::RpcClient;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// Generous: epochs of the fast config take seconds, a loaded machine takes longer.
const PATIENCE: Duration = Duration::from_secs(180);

/// Pauses the run when an epoch ends, waits for the pause to land, and stops once it has.
const PAUSE_AT_EPOCH_END: &str = r#"
let r = run(param("run_id"));
r.on_transition(|from, to| print(`transition ${from} -> ${to}`));
r.on_epoch_end(|epoch| {
    print(`epoch ${epoch} ended`);
    let run = run(param("run_id"));
    run.pause();
    print("pause sent");
    run.wait_for("Paused", 150);
});
r.on_paused(|| { print("paused seen"); stop_following(); });
"#;

fn runbook(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

fn state(client: &RpcClient, run_id: &str) -> CoordinatorAccount {
    let instance = client.get_account(&pdas::coordinator_instance(&ProgramIds::default(), run_id)).unwrap();
    let instance = CoordinatorInstance::decode(&instance.data).unwrap();
    CoordinatorAccount::decode(&client.get_account(&instance.coordinator_account).unwrap().data).unwrap()
}

/// A follower process, its stderr lines delivered as they come.
struct Follower {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Follower {
    fn start(rb: &Runbook, args: &[&str]) -> Self {
        let mut child = rb
            .command()
            .args(["run", "--follow"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the follower");
        let (sender, lines) = channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines, seen: Vec::new() }
    }

    /// Waits for a line containing `text`.
    fn wait_for(&mut self, text: &str) {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(_) => panic!("{text:?} never came; stderr so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Waits for the follower to exit; its code and whole stderr.
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        self.seen.extend(self.lines.iter());
        (status.code().unwrap_or(-1), self.seen.join("\n"))
    }

    fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.seen.extend(self.lines.iter());
        self.seen.join("\n")
    }
}

/// A served chain with run "live" that three simulated clients train, its authority `id.json`.
fn training() -> (Runbook, Server, RpcClient) {
    let key = Keypair::new();
    let rb = Runbook::new()
        .file("id.json", &serde_json::to_string(&key.to_bytes().to_vec()).unwrap())
        .file("fast.toml", &fast_config(25_000))
        .file("follow.rhai", PAUSE_AT_EPOCH_END);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = Server::start_with(&rb, &["--clients", "3", "--run", "live"]);
    let client = server.client();
    let airdrop = client.request_airdrop(&key.pubkey(), 10 * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    let fast = rb.path("fast.toml").display().to_string();
    let args = ["run", &runbook("create-public-run.rhai"), "--set", "run_id=live", "--set", &format!("config={fast}")];
    rb.run_args(args.iter().copied().chain(["-u", &server.url, "--ws-url", &server.ws_url, "-k", "id.json"])).success();
    (rb, server, client)
}

/// Pause transactions the journals of every execution in `rb` record.
fn pauses_sent(rb: &Runbook) -> usize {
    let journal = rb.run_args(["journal", "show"]).success().stdout;
    journal.lines().filter(|l| l.contains("send run \"live\": pause")).count()
}

#[test]
fn a_handler_pauses_a_training_run_once_and_follow_mode_stops_when_it_landed() {
    let (rb, server, client) = training();
    let follower = Follower::start(
        &rb,
        &["follow.rhai", "--set", "run_id=live", "-u", &server.url, "--ws-url", &server.ws_url, "-k", "id.json"],
    );
    let (code, stderr) = follower.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("pause sent"), "{stderr}");
    assert!(stderr.contains("-> Paused"), "the transition was heard: {stderr}");
    assert_eq!(stderr.matches("paused seen").count(), 1, "{stderr}");
    assert!(state(&client, "live").run_state.display() == "Paused");
    assert_eq!(pauses_sent(&rb), 1, "one pause transaction");
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_follower_killed_inside_a_handler_completes_it_on_restart_without_sending_twice() {
    let (rb, server, client) = training();
    let args = ["follow.rhai", "--set", "run_id=live", "-u", &server.url, "--ws-url", &server.ws_url, "-k", "id.json"];
    let mut first = Follower::start(&rb, &args);
    // In the handler: the pause is sent and pending until the epoch ends.
    first.wait_for("pause sent");
    let before = first.kill();
    assert!(!before.contains("paused seen"), "killed before the pause landed: {before}");
    let (code, stderr) = Follower::start(&rb, &args).finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("paused seen"), "{stderr}");
    assert_eq!(state(&client, "live").run_state.display(), "Paused");
    assert_eq!(pauses_sent(&rb), 1, "the interrupted handler's pause was not sent again");
    assert_eq!(server.stop(), 0);
}

/// `localnet serve --port PORT` (its websocket on PORT + 1) in `rb`'s directory, once it answers.
fn serve_on(rb: &Runbook, port: u16) -> Child {
    let mut child = rb
        .command()
        .args(["localnet", "serve", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains(&format!(":{port}")), "{line}");
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    child
}

fn stop(mut serve: Child) {
    // SIGTERM: serve saves the chain and exits.
    assert_eq!(unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) }, 0);
    assert!(serve.wait().unwrap().success());
}

/// A port with the next one free too (serve's websocket), as far as can be told now.
fn free_port_pair() -> u16 {
    loop {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

#[test]
fn a_transition_while_serve_was_down_is_heard_once_it_is_back() {
    let rb = Runbook::new().file(
        "follow.rhai",
        r#"
let r = run(param("run_id"));
r.on_transition(|from, to| print(`transition ${from} -> ${to}`));
r.on_paused(|| { print("paused seen"); stop_following(); });
"#,
    );
    rb.run_args(["run", &runbook("create-public-run.rhai"), "--set", "run_id=public-run"]).success();
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    let port = free_port_pair();
    let url = format!("http://127.0.0.1:{port}");
    let serve = serve_on(&rb, port);
    let mut follower = Follower::start(&rb, &["follow.rhai", "--set", "run_id=public-run", "-u", &url, "-k", &payer]);
    // Its first sight of the run, the baseline of what is news.
    follower.wait_for("run \"public-run\": Waiting for members at epoch 0");
    // serve goes away (websocket and HTTP), the run is paused on the chain it left, and the
    // same chain is served again on the same port.
    stop(serve);
    std::fs::write(rb.path("pause.rhai"), "run(\"public-run\").pause();\n").unwrap();
    rb.run_args(["run", "pause.rhai"]).success();
    let serve = serve_on(&rb, port);
    let (code, stderr) = follower.finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("transition Waiting for members -> Paused"), "{stderr}");
    assert!(stderr.contains("paused seen"), "{stderr}");
    stop(serve);
}

#[test]
fn dry_run_follow_prints_what_a_handler_would_send_and_sends_nothing() {
    let rb = Runbook::new().file(
        "timer.rhai",
        r#"
let r = run("public-run");
every_slots(1, |slot| { r.pause(); stop_following(); });
"#,
    );
    rb.run_args(["run", &runbook("create-public-run.rhai"), "--set", "run_id=public-run"]).success();
    let dry = rb.run_args(["run", "--dry-run", "--follow", "timer.rhai"]).success();
    assert!(dry.stderr.contains("every_slots(1) would send"), "{}", dry.stderr);
    assert!(dry.stderr.contains("pause"), "{}", dry.stderr);
    let after = rb.run_args(["watch", "--once", "--output", "json"]).success().json();
    assert_eq!(after["runs"][0]["state"], "Waiting for members", "nothing was sent: {after}");
    // Without --follow, the handlers are only registered, and the run says so.
    let plain = rb.run_args(["run", "timer.rhai"]).success();
    assert!(plain.stderr.contains("run it with --follow"), "{}", plain.stderr);
}

#[test]
fn follow_alerts_raises_the_alert_the_moment_a_run_is_paused_behind_the_operators_back() {
    let hook = Webhook::start(Duration::ZERO, &[200]);
    let rb = Runbook::new()
        .file("psyche-runbook.toml", &format!("[notify]\nwebhook = \"{}\"\n", hook.url("/hook")))
        .file("pause.rhai", "run(\"quickstart\").pause();\n");
    rb.run_args(["run", &runbook("quickstart.rhai")]).success();
    let server = Server::start(&rb);
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    let alerts = runbook("follow-alerts.rhai");
    let mut follower = Follower::start(&rb, &[&alerts, "-u", &server.url, "--ws-url", &server.ws_url, "-k", &payer]);
    follower.wait_for("run \"quickstart\": Waiting for members at epoch 1");
    assert!(hook.received().is_empty(), "nothing is wrong yet");
    rb.run_args(["run", "pause.rhai", "-u", &server.url, "-k", &payer]).success();
    follower.wait_for("Waiting for members -> Paused: on_transition");
    let deadline = std::time::Instant::now() + PATIENCE;
    while hook.received().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SIGTERM ends following cleanly.
    assert_eq!(unsafe { libc::kill(follower.child.id() as i32, libc::SIGTERM) }, 0);
    let (code, stderr) = follower.finish();
    assert_eq!(code, 0, "{stderr}");
    let received = hook.received();
    assert_eq!(received.len(), 1, "{received:?}\n{stderr}");
    assert_eq!(received[0].body["message"], "run \"quickstart\" is Paused");
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_follower_killed_between_a_handlers_intent_and_its_landing_settles_it_on_restart() {
    let (rb, server, client) = training();
    // The follower's sends reach the node, but their answers never reach the follower.
    let proxy = common::proxy::Proxy::start(&server.url);
    proxy.hold_sends();
    let through = |url: &str| -> Vec<String> {
        ["follow.rhai", "--set", "run_id=live", "-u", url, "--ws-url", &server.ws_url, "-k", "id.json"]
            .map(String::from)
            .to_vec()
    };
    let held = through(&proxy.url);
    let mut first = Follower::start(&rb, &held.iter().map(String::as_str).collect::<Vec<_>>());
    first.wait_for("ended");
    let started = std::time::Instant::now();
    while proxy.count("sendTransaction") == 0 {
        assert!(started.elapsed() < PATIENCE, "the handler's pause was never sent");
        assert!(first.child.try_wait().unwrap().is_none(), "the follower ended");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Intent journaled, pause on its way, landing not recorded: killed.
    let before = first.kill();
    assert!(!before.contains("pause sent"), "killed before its landing was known: {before}");
    let direct = through(&server.url);
    let (code, stderr) = Follower::start(&rb, &direct.iter().map(String::as_str).collect::<Vec<_>>()).finish();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("left in flight"), "the restart settled the pause first: {stderr}");
    assert!(stderr.contains("paused seen"), "{stderr}");
    assert_eq!(state(&client, "live").run_state.display(), "Paused");
    assert_eq!(pauses_sent(&rb), 1, "the pause was sent once");
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_handler_that_fails_is_called_again_and_reported() {
    let rb = Runbook::new().file(
        "follow.rhai",
        r#"
let tries = 0;
let r = run(param("run_id"));
r.on_paused(|| {
    tries += 1;
    if tries < 2 { throw "not ready yet"; }
    print(`handled after ${tries} tries`);
    stop_following();
});
"#,
    );
    rb.run_args(["run", &runbook("create-public-run.rhai"), "--set", "run_id=public-run"]).success();
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    let server = Server::start(&rb);
    let args =
        ["follow.rhai", "--set", "run_id=public-run", "-u", &server.url, "--ws-url", &server.ws_url, "-k", &payer];
    let mut follower = Follower::start(&rb, &args);
    follower.wait_for("following 1 run(s)");
    follower.wait_for("public-run");
    std::fs::write(rb.path("pause.rhai"), "run(\"public-run\").pause();\n").unwrap();
    rb.run_args(["-u", &server.url, "-k", &payer, "run", "pause.rhai"]).success();
    follower.wait_for("not ready yet");
    follower.wait_for("a handler failed; it is called again in 2 s");
    let (code, stderr) = follower.finish();
    assert_eq!(code, 0, "the retried handler succeeded: {stderr}");
    assert!(stderr.contains("handled after 2 tries"), "{stderr}");
    assert_eq!(server.stop(), 0);
}
