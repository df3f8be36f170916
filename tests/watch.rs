//! `watch` against a localnet whose runs have trained: `--once` as JSON (field by field,
//! against the runs' own reports) and as text, through `localnet serve`, and the live view
//! driven through a pseudo-terminal whose screen is rebuilt with a terminal emulator.

mod common;

use common::{Runbook, Server};
use rexpect::session::{PtySession, spawn_command};
use serde_json::Value;
use std::num::NonZeroU16;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ROWS: NonZeroU16 = NonZeroU16::new(40).unwrap();
const COLS: NonZeroU16 = NonZeroU16::new(160).unwrap();

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

/// A localnet with a rewarded run ("quickstart") that trained one epoch with three clients,
/// and a public run without rewards ("public-run").
fn trained() -> Runbook {
    let rb = Runbook::new().file(
        "facts.rhai",
        "let r = run(param(\"run_id\"));\noutput(\"info\", r.info());\noutput(\"funding\", if r.mint != () { r.funding() } else { () });\n",
    );
    for name in ["quickstart.rhai", "create-public-run.rhai"] {
        rb.run_args(["run", &runbook(name)]).success();
    }
    rb
}

/// The run's own reports (`r.info()`, `r.funding()`), to compare `watch` with.
fn facts(rb: &Runbook, run_id: &str) -> (Value, Value) {
    let doc =
        rb.run_args(["run", "facts.rhai", "--set", &format!("run_id={run_id}"), "--output", "json"]).success().json();
    (doc["outputs"]["info"].clone(), doc["outputs"]["funding"].clone())
}

fn assert_row_matches(row: &Value, info: &Value, funding: &Value) {
    let account = &info["coordinator_account"];
    let status = &account["status"];
    assert_eq!(row["run_id"], account["run_id"]);
    assert_eq!(row["instance"], info["coordinator_instance"]["address"]);
    assert_eq!(row["coordinator_account"], account["address"]);
    assert_eq!(row["join_authority"], info["coordinator_instance"]["join_authority"]);
    assert_eq!(row["state"], status["state"]);
    assert_eq!(row["epoch"], status["epoch"]);
    assert_eq!(row["step"], status["step"]);
    assert_eq!(row["total_steps"], account["setup"]["config"]["total_steps"]);
    assert_eq!(row["min_clients"], account["setup"]["config"]["min_clients"]);
    let alive = account["epoch"]["clients"]["alive"].as_object().unwrap();
    let exited = account["epoch"]["clients"]["exited"].as_object().unwrap();
    let healthy = alive.values().filter(|s| *s == "Healthy").count();
    assert_eq!(row["clients"]["joined"], alive.len() + exited.len());
    assert_eq!(row["clients"]["healthy"], healthy);
    assert_eq!(row["clients"]["dropped"], alive.len() - healthy + exited.len());
    let step = status["step"].as_f64().unwrap();
    let total = account["setup"]["config"]["total_steps"].as_f64().unwrap();
    assert_eq!(row["progress"].as_f64().unwrap(), step / total);
    // Every registered client with its points.
    let clients = account["clients"].as_object().unwrap();
    let listed = row["registered_clients"].as_array().unwrap();
    assert_eq!(listed.len(), clients.len());
    for client in listed {
        let id = client["id"].as_str().unwrap();
        assert_eq!(client["earned"], clients[id]["earned"], "client {id}");
        assert_eq!(client["slashed"], clients[id]["slashed"], "client {id}");
        assert_eq!(client["epoch_state"], alive.get(id).or(exited.get(id)).cloned().unwrap_or(Value::Null));
    }
    let rates = &account["epoch"]["rates"];
    match info["treasurer_run"].as_object() {
        Some(treasurer) => {
            // Rates are shown in collateral UI units (the quickstart's mint has 6 decimals).
            let ui = |native: &Value| native.as_f64().unwrap() / 1e6;
            assert_eq!(row["rates"]["earning"].as_f64().unwrap(), ui(&rates["current"]["earning"]));
            assert_eq!(row["rates"]["slashing"].as_f64().unwrap(), ui(&rates["current"]["slashing"]));
            assert_eq!(row["rates"]["future_earning"].as_f64().unwrap(), ui(&rates["future"]["earning"]));
            let t = &row["treasury"];
            assert_eq!(t["address"], treasurer["address"]);
            assert_eq!(t["mint"], treasurer["collateral_mint"]);
            assert_eq!(t["funded"], funding["funded"]);
            assert_eq!(t["unclaimed"], funding["unclaimed"]);
            assert_eq!(t["burn_per_epoch"], funding["burn_per_epoch"]);
            assert_eq!(t["runway_epochs"], funding["funded_epochs"]);
        }
        None => {
            assert_eq!(row["treasury"], Value::Null);
            // Without a mint, rates are points.
            assert_eq!(row["rates"]["earning"].as_f64(), rates["current"]["earning"].as_f64());
        }
    }
}

#[test]
fn once_prints_every_run_as_json_and_text() {
    let rb = trained();
    let doc = rb.run_args(["watch", "--once", "--output", "json"]).success().json();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["cluster"], "embedded");
    assert!(doc["slot"].as_u64().unwrap() > 0);
    // One getProgramAccounts, one getMultipleAccounts, and once per new rewarded run its mint
    // and treasury account.
    assert_eq!(doc["rpc_round_trips"], 3);
    assert_eq!((doc["missing"].clone(), doc["unreadable"].clone()), (serde_json::json!([]), serde_json::json!([])));
    let runs = doc["runs"].as_array().unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r["run_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["public-run", "quickstart"]);
    for row in runs {
        let (info, funding) = facts(&rb, row["run_id"].as_str().unwrap());
        assert_row_matches(row, &info, &funding);
    }
    // The quickstart's run trained: an epoch done, steps taken, clients paid.
    let quickstart = &runs[1];
    assert_eq!(quickstart["epoch"], 1);
    assert!(quickstart["step"].as_u64().unwrap() > 1, "{quickstart}");
    assert_eq!(quickstart["clients"]["healthy"], 3);
    assert!(quickstart["registered_clients"].as_array().unwrap().iter().all(|c| c["earned"].as_u64().unwrap() > 0));

    // The runs of one join authority (both runs have the payer's), and of another (none).
    let payer = runs[0]["join_authority"].as_str().unwrap();
    let mine = rb.run_args(["watch", "--once", "--output", "json", "--join-authority", payer]).success().json();
    assert_eq!(mine["runs"], doc["runs"]);
    let other = solana_sdk::pubkey::Pubkey::new_unique().to_string();
    let none = rb.run_args(["watch", "--once", "--output", "json", "--join-authority", &other]).success().json();
    assert_eq!(none["runs"], serde_json::json!([]));

    // Named runs only, and a run that does not exist exits 2 saying so.
    let one = rb.run_args(["watch", "--once", "--output", "json", "quickstart"]).success().json();
    assert_eq!(one["runs"].as_array().unwrap().len(), 1);
    assert_eq!(one["runs"][0], doc["runs"][1]);
    let missing = rb.run_args(["watch", "--once", "quickstart", "no-such-run"]).code(2);
    assert!(missing.stdout.contains("run \"no-such-run\" does not exist"), "{}", missing.stdout);

    // The text table: a header, then one line per run with the same figures.
    let text = rb.run_args(["watch", "--once"]).success().stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("embedded · slot "), "{text}");
    assert!(lines[1].starts_with("RUN") && lines[1].contains("RUNWAY"), "{text}");
    let q = quickstart;
    let step = format!("{}/{} [", q["step"], q["total_steps"]);
    let clients = format!("{}/{}/{}", q["clients"]["joined"], q["clients"]["healthy"], q["clients"]["dropped"]);
    let runway = format!("{:.1}", q["treasury"]["runway_epochs"].as_f64().unwrap());
    let row = lines.iter().find(|l| l.starts_with("quickstart")).expect("a quickstart line");
    for cell in [q["state"].as_str().unwrap(), &step, &clients, &runway] {
        assert!(row.contains(cell), "{cell:?} missing from {row:?}");
    }
}

#[test]
fn once_through_localnet_serve_matches_the_embedded_chain() {
    let rb = trained();
    let embedded = rb.run_args(["watch", "--once", "--output", "json"]).success().json();
    let server = Server::start(&rb);
    let served = rb.run_args(["watch", "--once", "--output", "json", "-u", &server.url]).success().json();
    assert_eq!(served["cluster"], server.url.as_str());
    assert_eq!(served["runs"], embedded["runs"]);
    assert_eq!(served["rpc_round_trips"], 3);
    // The embedded chain is still readable while the server holds it, with a note saying so.
    let busy = rb.run_args(["watch", "--once", "--output", "json"]).success();
    assert_eq!(busy.json()["runs"], embedded["runs"]);
    assert!(busy.stderr.contains("another process is using the localnet"), "{}", busy.stderr);
    assert_eq!(server.stop(), 0);
}

/// The live view in a pseudo-terminal of ROWS x COLS, its screen rebuilt by a terminal
/// emulator from everything the program wrote.
struct Live {
    session: PtySession,
    screen: vt100::Parser,
    raw: Vec<u8>,
}

impl Live {
    fn start(rb: &Runbook, args: &[&str], color: bool) -> Self {
        let base = rb.command();
        // The pty starts without a size: set one before the program starts.
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("stty rows {ROWS} cols {COLS} && exec \"$0\" \"$@\""))
            .arg(common::BIN)
            .arg("watch")
            .args(args)
            .current_dir(base.get_current_dir().unwrap());
        for (key, value) in base.get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd.env("TERM", "xterm-256color");
        if !color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let session = spawn_command(cmd, Some(30_000)).expect("spawn watch");
        Self { session, screen: vt100::Parser::new(ROWS, COLS, 0), raw: Vec::new() }
    }

    fn pump(&mut self) {
        while let Some(c) = self.session.try_read() {
            // The reader hands over each byte as a char.
            let byte = c as u32 as u8;
            self.raw.push(byte);
            self.screen.process(&[byte]);
        }
    }

    /// Waits until `text` is on screen; returns the screen.
    fn wait_for(&mut self, text: &str) -> String {
        let started = Instant::now();
        loop {
            self.pump();
            let contents = self.screen.screen().contents();
            if contents.contains(text) {
                return contents;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "{text:?} never appeared; screen:\n{contents}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resizes the terminal as a window manager would (the program gets SIGWINCH).
    fn resize(&mut self, rows: NonZeroU16, cols: NonZeroU16) {
        use std::os::fd::AsRawFd;
        let pty = self.session.process().get_file_handle().unwrap();
        let size = libc::winsize { ws_row: rows.get(), ws_col: cols.get(), ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer on an open pty descriptor.
        assert_eq!(unsafe { libc::ioctl(pty.as_raw_fd(), libc::TIOCSWINSZ, &size) }, 0);
        self.pump();
        self.screen.screen_mut().set_size(rows, cols);
    }

    fn key(&mut self, keys: &str) {
        self.session.send(keys).unwrap();
        self.session.flush().unwrap();
    }

    /// Waits for the program to exit; returns its exit code and what it wrote after `from`.
    fn exit(&mut self, from: usize) -> (i32, String) {
        let status = self.session.process().wait().unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(2) {
            self.pump();
            std::thread::sleep(Duration::from_millis(20));
        }
        let code = match status {
            rexpect::process::WaitStatus::Exited(_, code) => code,
            other => panic!("watch did not exit normally: {other:?}"),
        };
        (code, String::from_utf8_lossy(&self.raw[from..]).into_owned())
    }
}

/// Leaving the alternate screen and showing the cursor again: the terminal is restored.
fn assert_restored(tail: &str) {
    assert!(tail.contains("\x1b[?1049l"), "the alternate screen was not left: {tail:?}");
    assert!(tail.contains("\x1b[?25h"), "the cursor was not shown again: {tail:?}");
}

#[test]
fn live_view_follows_training_runs_and_keys_and_q_restores_the_terminal() {
    let rb = trained();
    let (info, _) = facts(&rb, "quickstart");
    let client_id = info["coordinator_account"]["clients"].as_object().unwrap().keys().next().unwrap().clone();
    let mut live = Live::start(&rb, &["--interval", "0.3", "--runway-warn", "10"], true);
    let screen = live.wait_for("run 1/2: public-run");
    for text in ["psyche-runbook watch · embedded", "RUNWAY", "quickstart", "public-run", "Waiting for members"] {
        assert!(screen.contains(text), "{text:?} not on screen:\n{screen}");
    }
    // The quickstart's runway (5 epochs) is under --runway-warn: drawn in colour.
    assert!(String::from_utf8_lossy(&live.raw).contains("\x1b[38;5;"), "no colour without NO_COLOR");

    live.key("j");
    live.wait_for("run 2/2: quickstart");
    live.key("k");
    live.wait_for("run 1/2: public-run");
    live.key("\x1b[B"); // arrow down
    live.wait_for("run 2/2: quickstart");
    live.key("\r");
    let detail = live.wait_for("transitions seen");
    for text in ["run quickstart", "phase Waiting for members", "CLIENT", &client_id, "healthy clients (3)"] {
        assert!(detail.contains(text), "{text:?} not in the detail:\n{detail}");
    }

    // The run trains another epoch, then pauses, while the view is up.
    std::fs::write(
        rb.path("move.rhai"),
        "let r = run(\"quickstart\");\nr.simulate_epoch([new_keypair(), new_keypair()]);\nr.pause();\nlet status = r.info().coordinator_account.status;\noutput(\"step\", status.step);\noutput(\"epoch\", status.epoch);\n",
    )
    .unwrap();
    let moved = rb.run_args(["run", "move.rhai", "--output", "json"]).success().json();
    let step = moved["outputs"]["step"].as_u64().unwrap();
    assert_eq!(moved["outputs"]["epoch"], 2);
    // The view may catch the run mid-epoch (each landed transaction is committed before the
    // next is reported), so the path into Paused is either straight or through Training.
    live.wait_for("-> Paused (epoch 2");
    let screen = live.wait_for(&format!("step ({step})"));
    assert!(screen.contains("phase Paused"), "{screen}");

    let before_quit = live.raw.len();
    live.key("q");
    let (code, tail) = live.exit(before_quit);
    assert_eq!(code, 0);
    assert_restored(&tail);
}

#[test]
fn resize_redraws_ctrl_c_restores_and_no_color_means_no_colour() {
    let rb = trained();
    let mut live = Live::start(&rb, &["--interval", "0.3", "--runway-warn", "10"], false);
    live.wait_for("run 1/2: public-run");
    live.key("\r");
    live.wait_for("transitions seen");
    assert!(!String::from_utf8_lossy(&live.raw).contains("\x1b[38;5;"), "colour despite NO_COLOR");
    // Smaller: the bottom rows are cut off until the view redraws itself at the new size.
    live.resize(NonZeroU16::new(24).unwrap(), NonZeroU16::new(120).unwrap());
    let screen = live.wait_for("up/down j/k select");
    let last = screen.lines().last().unwrap_or_default().to_string();
    assert!(last.starts_with("up/down j/k select"), "the key help is not on the last row:\n{screen}");
    assert!(screen.contains("RUNWAY") && screen.contains("transitions seen"), "{screen}");
    let before = live.raw.len();
    live.session.send_control('c').unwrap();
    let (code, tail) = live.exit(before);
    assert_eq!(code, 0);
    assert_restored(&tail);
}

#[test]
fn sigterm_restores_the_terminal() {
    let rb = Runbook::new();
    let mut live = Live::start(&rb, &[], false);
    live.wait_for("0 run(s)");
    let before = live.raw.len();
    live.session.process_mut().signal(rexpect::process::Signal::SIGTERM).unwrap();
    let (code, tail) = live.exit(before);
    assert_eq!(code, 0);
    assert_restored(&tail);
}

/// The run's authority (the localnet's payer) pauses "public-run" through the server; the view
/// shows it.
fn pause_and_see_it(rb: &Runbook, server: &Server, live: &mut Live) {
    std::fs::write(rb.path("pause.rhai"), "run(\"public-run\").pause();\n").unwrap();
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    rb.run_args(["run", "pause.rhai", "-u", &server.url, "-k", &payer]).success();
    let screen = live.wait_for("Waiting for members -> Paused");
    assert!(screen.contains("phase Paused"), "{screen}");
}

/// `q` quits with exit 0 and the terminal restored.
fn quit_restored(live: &mut Live) {
    let before = live.raw.len();
    live.key("q");
    let (code, tail) = live.exit(before);
    assert_eq!(code, 0);
    assert_restored(&tail);
}

#[test]
fn live_view_through_localnet_serve_sees_changes_as_they_land() {
    let rb = trained();
    let server = Server::start(&rb);
    let mut live = Live::start(&rb, &["-u", &server.url, "--interval", "0.3"], false);
    live.wait_for("run 1/2: public-run");
    live.key("\r");
    live.wait_for("transitions seen");
    pause_and_see_it(&rb, &server, &mut live);
    quit_restored(&mut live);
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_view_kept_by_pushes_makes_no_request_from_its_first_read_to_a_pause_landing() {
    let rb = trained();
    let server = Server::start(&rb);
    // HTTP through a counting proxy; the websocket straight to serve.
    let proxy = common::proxy::Proxy::start(&server.url);
    let requests = || proxy.counts().values().sum::<usize>();
    let args = ["-u", proxy.url.as_str(), "--ws-url", server.ws_url.as_str(), "--interval", "0.3"];
    let mut live = Live::start(&rb, &args, false);
    live.wait_for("run 1/2: public-run");
    live.key("\r");
    live.wait_for("transitions seen");
    let first_read = requests();
    assert!(first_read > 0, "the first refresh reads the cluster");
    // Polling every 0.3 s would have read again by now; a followed view has not.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(requests(), first_read, "a steady view makes no request: {:?}", proxy.counts());
    pause_and_see_it(&rb, &server, &mut live);
    assert_eq!(requests(), first_read, "the change came by push: {:?}", proxy.counts());
    quit_restored(&mut live);
    assert_eq!(server.stop(), 0);
}
