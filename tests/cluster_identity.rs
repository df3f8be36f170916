//! A cluster is who it is, and its URL is a secret. Through the real binary and `localnet serve`
//! (which answers on any path, so it stands in for a provider's URL):
//! - provider URLs with an API key in the query, a token in the path, and `user:password@`
//!   leave no credential byte in anything the tool writes (stdout, stderr, the JSON document,
//!   `-v`, logs, the journal, metrics, webhooks, dry-run plans, `journal show`, `watch`, the REPL);
//! - a top-up killed with its transaction in flight, re-run through another URL of the same node,
//!   settles the earlier intent first, and the run is topped up once;
//! - one spelling of a node holding a runbook's lock makes the same runbook through another
//!   spelling wait;
//! - a URL whose node answers mainnet-beta's genesis hash is mainnet: the guard and
//!   `[limits.mainnet-beta]` apply, whatever the URL says;
//! - a cached identity that the node no longer has aborts before anything is sent.

mod common;

use base64::Engine as _;
use common::proxy::Proxy;
use common::webhook::{Receiver, closed_port};
use common::{Runbook, Server};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const MAINNET_GENESIS: &str = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d";
const PAYER: &str = ".psyche-runbook/localnet/payer.json";

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

/// The quickstart's rewarded run on the embedded chain, then served.
fn served_quickstart(rb: &Runbook) -> Server {
    rb.run_args(["run", &runbook("quickstart.rhai")]).success();
    Server::start(rb)
}

fn port_of(url: &str) -> &str {
    url.rsplit(':').next().unwrap().trim_end_matches('/')
}

/// Every form of `secret` that would give it away: as written, base64 (standard and URL-safe),
/// hex, and percent-encoded.
fn forms(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    let b64_url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let encoded: String = secret
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    vec![secret.to_string(), b64.trim_end_matches('=').to_string(), b64_url, hex.clone(), hex.to_uppercase(), encoded]
}

/// Everything under the state directory (logs, journal, caches, locks), and extra files.
fn written_files(rb: &Runbook, extra: &[&str]) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![rb.path(".psyche-runbook")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // The chain's own database is not an output.
                if !path.ends_with("localnet") {
                    dirs.push(path);
                }
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    for name in extra {
        if let Ok(bytes) = std::fs::read(rb.path(name)) {
            out.push((rb.path(name), bytes));
        }
    }
    out
}

fn assert_nothing_holds(outputs: &[(String, Vec<u8>)], secrets: &[&str]) {
    for secret in secrets {
        for form in forms(secret) {
            for (name, bytes) in outputs {
                assert!(
                    !bytes.windows(form.len()).any(|w| w == form.as_bytes()),
                    "{name} holds {form:?} (a form of a credential):\n{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}

const INSPECT: &str = r#"
let c = cluster();
print(c);
output("cluster", c);
let r = run("quickstart");
r.top_up(0.5);
output("funded", r.funding().funded);
notify(#{ message: `inspected on ${c.name}`, fields: #{ url: c.url } });
"#;

#[test]
fn provider_urls_leave_no_credential_anywhere() {
    let webhook = Receiver::start(Duration::ZERO, &[200]);
    let rb = Runbook::new()
        .file("psyche-runbook.toml", &format!("[notify]\nwebhook = \"{}\"\n", webhook.url("/hook")))
        .file("inspect.rhai", INSPECT);
    let server = served_quickstart(&rb);
    let (port, ws_port) = (port_of(&server.url).to_string(), port_of(&server.ws_url).to_string());
    let query = "SEKRETquery0123456789abcdef";
    let token = "SEKRETpath0123456789abcdef";
    let (user, password) = ("operator7", "SEKRETpass0123456789");
    let forms_of_urls = [
        (format!("http://127.0.0.1:{port}/?api-key={query}"), vec![query]),
        (format!("http://127.0.0.1:{port}/{token}/"), vec![token]),
        (format!("http://{user}:{password}@127.0.0.1:{port}/"), vec![user, password]),
    ];
    let ws_key = "SEKRETwebsocket0123456789";
    let ws = format!("ws://127.0.0.1:{ws_port}/?api-key={ws_key}");
    let dead = format!("http://127.0.0.1:{}/?api-key={query}", closed_port());
    for (url, secrets) in &forms_of_urls {
        let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
        let mut record = |what: &str, run: common::Run| {
            outputs.push((format!("{what}: stdout"), run.stdout.into_bytes()));
            outputs.push((format!("{what}: stderr"), run.stderr.into_bytes()));
        };
        let base = ["-v", "-u", url.as_str(), "--ws-url", ws.as_str(), "-k", PAYER];
        let with = |more: &[&str]| base.iter().chain(more).map(|s| s.to_string()).collect::<Vec<String>>();
        let run = rb.run_args(with(&["--output", "json", "run", "--metrics-file", "m.prom", "inspect.rhai"])).success();
        let doc = run.json();
        assert_eq!(doc["cluster"], format!("http://127.0.0.1:{port}"), "{doc}");
        assert_eq!(doc["outputs"]["cluster"]["url"], format!("http://127.0.0.1:{port}"), "{doc}");
        assert_eq!(doc["signatures"].as_array().unwrap().len(), 1, "{doc}");
        record("run", run);
        record("dry-run", rb.run_args(with(&["run", "--dry-run", "inspect.rhai"])).success());
        record("text run", rb.run_args(with(&["run", "inspect.rhai"])).success());
        record("journal show", rb.run_args(with(&["journal", "show"])).success());
        record("watch", rb.run_args(with(&["watch", "--once"])).success());
        let repl = Runbook::command(&rb)
            .args(with(&["repl"]))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = repl.stdin.as_ref().unwrap();
            writeln!(stdin, "cluster()").unwrap();
            writeln!(stdin, "run(\"nope\")").unwrap();
        }
        let out = repl.wait_with_output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(&format!("http://127.0.0.1:{port}")), "{stdout}\n{stderr}");
        record("repl", common::Run { code: 0, stdout: stdout.into_owned(), stderr: stderr.into_owned() });
        // A node that cannot be reached: the error that names it, and a fallback that fails.
        let unreachable = rb.run_args(["-v", "-u", &dead, "-k", PAYER, "run", "inspect.rhai"]);
        assert_eq!(unreachable.code, 3, "{}", unreachable.stderr);
        let shown = format!("cannot reach http://127.0.0.1:{}", port_of(&dead).split('/').next().unwrap());
        assert!(unreachable.stderr.contains(&shown), "{}", unreachable.stderr);
        record("unreachable", unreachable);
        for (path, bytes) in written_files(&rb, &["m.prom"]) {
            outputs.push((path.display().to_string(), bytes));
        }
        for hook in webhook.received() {
            outputs.push((format!("webhook {}", hook.path), hook.body.to_string().into_bytes()));
        }
        let mut all: Vec<&str> = secrets.clone();
        all.extend([ws_key, url.as_str(), ws.as_str(), dead.as_str()]);
        assert_nothing_holds(&outputs, &all);
    }
    assert!(webhook.received().len() >= 3, "the webhook was posted to");
    assert_eq!(server.stop(), 0);
}

/// The intents of the journals so far: (signature, whether an outcome followed).
fn intents(rb: &Runbook) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(rb.path(".psyche-runbook/journal")) else { return out };
    for entry in entries {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        let records: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        for intent in records.iter().filter(|r| r["event"] == "intent") {
            let settled = records.iter().any(|r| r["event"] != "intent" && r["id"] == intent["id"]);
            out.push((intent["signature"].as_str().unwrap().to_string(), settled));
        }
    }
    out
}

/// Waits (however long the machine takes) until `done` holds, while `child` lives.
fn wait_until(rb: &Runbook, child: &mut std::process::Child, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        if child.try_wait().unwrap().is_some() {
            let said = std::fs::read_to_string(rb.path("client.err")).unwrap_or_default();
            panic!("the client ended before {what}:\n{said}");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn landed(server: &Server, signature: &str) -> bool {
    let status =
        server.call("getSignatureStatuses", serde_json::json!([[signature], {"searchTransactionHistory": true}]));
    !status["result"]["value"][0].is_null()
}

#[test]
fn a_top_up_killed_in_flight_is_settled_through_another_url_of_the_node() {
    let rb = Runbook::new();
    let server = served_quickstart(&rb);
    let proxy = Proxy::start(&server.url);
    proxy.hold_sends();
    let top_up = ["run", &runbook("top-up-cron.rhai"), "--set", "epochs=30"];
    let mut client = rb
        .command()
        .args(["-u", &proxy.url, "-k", PAYER])
        .args(top_up)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(rb.path("client.err")).unwrap())
        .spawn()
        .unwrap();
    // The intent is journaled, the node has the transaction, the client waits for an answer.
    let mut signature = String::new();
    wait_until(&rb, &mut client, "an unsettled intent", || match intents(&rb).iter().find(|(_, settled)| !settled) {
        Some((s, _)) => {
            signature = s.clone();
            true
        }
        None => false,
    });
    wait_until(&rb, &mut client, "the landing on the node", || landed(&server, &signature));
    assert!(client.try_wait().unwrap().is_none(), "the kill hits a live client");
    client.kill().unwrap();
    client.wait().unwrap();

    // Through another spelling of the same node.
    let other = format!("http://localhost:{}/", port_of(&server.url));
    let rerun = rb.run_args(["-u", other.as_str(), "-k", PAYER, "--output", "json"].into_iter().chain(top_up));
    let rerun = rerun.success();
    let settled = rerun.stderr.find("checking 1 transaction(s) an earlier run left in flight");
    assert!(settled.is_some(), "{}", rerun.stderr);
    assert!(rerun.stderr.contains(&format!("{signature} (")) && rerun.stderr.contains("): landed"), "{}", rerun.stderr);
    let doc = rerun.json();
    assert_eq!(doc["signatures"].as_array().unwrap().len(), 0, "topped up once: {doc}");
    assert_eq!(doc["outputs"]["topped_up"], 0.0, "{doc}");
    assert!(intents(&rb).iter().all(|(_, settled)| *settled), "every intent is settled");
    assert_eq!(server.stop(), 0);
}

#[test]
fn one_spelling_of_a_node_holding_the_lock_makes_another_wait() {
    let rb = Runbook::new().file("pause.rhai", "run(\"quickstart\").pause();\n");
    let server = served_quickstart(&rb);
    let proxy = Proxy::start(&server.url);
    proxy.hold_sends();
    let mut holder = rb
        .command()
        .args(["-u", &proxy.url, "-k", PAYER, "run", "pause.rhai"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(rb.path("client.err")).unwrap())
        .spawn()
        .unwrap();
    wait_until(&rb, &mut holder, "an intent", || intents(&rb).iter().any(|(_, settled)| !settled));
    let other = format!("http://localhost:{}/", port_of(&server.url));
    let waiter = rb.run_args(["-u", other.as_str(), "-k", PAYER, "--lock-timeout", "1", "run", "pause.rhai"]);
    assert_eq!(waiter.code, 75, "{}", waiter.stderr);
    assert!(waiter.stderr.contains("another run of pause.rhai on http://localhost:"), "{}", waiter.stderr);
    assert!(holder.try_wait().unwrap().is_none(), "the holder was alive throughout");
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_node_that_answers_mainnet_genesis_is_mainnet_whatever_its_url() {
    let rb = Runbook::new().file("pause-resume.rhai", "let r = run(\"quickstart\");\nr.pause();\nr.resume();\n");
    let server = served_quickstart(&rb);
    let proxy = Proxy::start(&server.url);
    proxy.answer_genesis(MAINNET_GENESIS);
    let provider = format!("{}/0123456789abcdefTOKEN/", proxy.url);
    let refused = rb.run_args(["-u", provider.as_str(), "-k", PAYER, "--output", "json", "run", "pause-resume.rhai"]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert_eq!(refused.json()["cluster"], "mainnet-beta");
    assert!(refused.stderr.contains("refusing to send on mainnet-beta"), "{}", refused.stderr);
    assert_eq!(proxy.count("sendTransaction"), 0, "{:?}", proxy.counts());
    // The mainnet-beta limits of the project config apply there, --yes or not.
    std::fs::write(rb.path("psyche-runbook.toml"), "[limits.mainnet-beta]\nallowed_run_ids = [\"another-run\"]\n")
        .unwrap();
    let limited = rb.run_args(["-u", provider.as_str(), "-k", PAYER, "--yes", "run", "pause-resume.rhai"]);
    assert_eq!(limited.code, 4, "{}", limited.stderr);
    assert!(limited.stderr.contains("not in allowed_run_ids for mainnet-beta"), "{}", limited.stderr);
    assert_eq!(proxy.count("sendTransaction"), 0, "{:?}", proxy.counts());
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_cached_identity_the_node_no_longer_has_aborts_before_sending() {
    let rb = Runbook::new().file("pause.rhai", "run(\"quickstart\").pause();\n");
    let server = served_quickstart(&rb);
    let proxy = Proxy::start(&server.url);
    // Bad input is refused before any request.
    let missing = rb.run_args(["-u", &proxy.url, "-k", PAYER, "run", "missing.rhai"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(proxy.counts().is_empty(), "{:?}", proxy.counts());
    // The first run learns the node's identity (one request more than later runs).
    let read = "output(\"exists\", run_exists(\"quickstart\"));\n";
    std::fs::write(rb.path("read.rhai"), read).unwrap();
    let cold = rb.run_args(["-u", &proxy.url, "-k", PAYER, "--output", "json", "run", "read.rhai"]).success().json();
    let before = proxy.bodies().len();
    let warm = rb.run_args(["-u", &proxy.url, "-k", PAYER, "--output", "json", "run", "read.rhai"]).success().json();
    assert_eq!(cold["rpc_round_trips_by_method"]["getGenesisHash"], 1, "{cold}");
    assert_eq!(warm["rpc_round_trips_by_method"].get("getGenesisHash"), None, "{warm}");
    let trips = |doc: &serde_json::Value| doc["rpc_round_trips"].as_u64().unwrap();
    assert_eq!(trips(&cold), trips(&warm) + 1, "the identity is confirmed inside the first request: {warm}");
    let first = &proxy.bodies()[before];
    let batch = first.as_array().unwrap_or_else(|| panic!("the warm run's first request is a batch: {first}"));
    assert_eq!(batch.len(), 2, "{first}");
    assert_eq!(batch[0]["method"], "getGenesisHash", "{first}");
    // The node is reset (another genesis hash): nothing is sent, and the operator is told.
    proxy.answer_genesis(MAINNET_GENESIS);
    let sends = proxy.count("sendTransaction");
    let aborted = rb.run_args(["-u", &proxy.url, "-k", PAYER, "--yes", "run", "pause.rhai"]);
    assert_eq!(aborted.code, 3, "{}", aborted.stderr);
    assert!(aborted.stderr.contains("is not the cluster this execution is for"), "{}", aborted.stderr);
    assert!(aborted.stderr.contains("nothing was sent"), "{}", aborted.stderr);
    assert_eq!(proxy.count("sendTransaction"), sends);
    assert_eq!(server.stop(), 0);
}

#[test]
fn an_rpc_credential_is_never_written_on_chain_nor_notified() {
    let webhook = Receiver::start(Duration::ZERO, &[200]);
    let script = "notify(#{ message: \"m\", fields: #{ api: api } });\noutput(\"api\", api);\nprint(api);\n\
                  run(\"quickstart\").update_metadata(#{ description: `key ${api}` });\n";
    let rb = Runbook::new()
        .file("psyche-runbook.toml", &format!("[notify]\nwebhook = \"{}\"\n", webhook.url("/hook")))
        .file("leak.rhai", script);
    let server = served_quickstart(&rb);
    let key = "SEKRETonchain0123456789abcdef";
    let url = format!("{}/?api-key={key}", server.url);
    let set = format!("api={key}");
    let run = rb.run_args(["-u", url.as_str(), "-k", PAYER, "--output", "json", "run", "leak.rhai", "--set", &set]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("refusing to sign: its instruction data holds a secret"), "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["signatures"].as_array().unwrap().len(), 0, "{doc}");
    assert_eq!(doc["outputs"]["api"], "[redacted]", "{doc}");
    let mut outputs =
        vec![("stdout".to_string(), run.stdout.into_bytes()), ("stderr".to_string(), run.stderr.into_bytes())];
    outputs.extend(
        webhook.received().into_iter().map(|h| (format!("webhook {}", h.path), h.body.to_string().into_bytes())),
    );
    for (path, bytes) in written_files(&rb, &[]) {
        outputs.push((path.display().to_string(), bytes));
    }
    assert_eq!(webhook.received().len(), 1, "notified, redacted");
    assert_nothing_holds(&outputs, &[key]);
    assert_eq!(server.stop(), 0);
}
