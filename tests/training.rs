//! Live training on the localnet: simulated clients that keep a run training on the chain's
//! clock (`localnet serve --clients N`, and `train` inside an embedded runbook), so that the
//! example runbooks meet a run that is actually busy: `pause-update-resume.rhai` pauses an
//! active run, waits for the epoch's end with `wait_for`, updates the config and resumes.

mod common;

use common::{Runbook, Server, fast_config};
use psyche_runbook::localnet::Localnet;
use psyche_runbook::localnet::store::history::Page;
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::coordinator_account::{CoordinatorAccount, RunState};
use psyche_runbook::psyche::accounts::instance::CoordinatorInstance;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::pdas;
use solana_rpc_client::rpc_client::RpcClient;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn runbook(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

fn coordinator(client: &RpcClient, run_id: &str) -> CoordinatorAccount {
    let ids = ProgramIds::default();
    let instance = client.get_account(&pdas::coordinator_instance(&ids, run_id)).unwrap();
    let instance = CoordinatorInstance::decode(&instance.data).unwrap();
    CoordinatorAccount::decode(&client.get_account(&instance.coordinator_account).unwrap().data).unwrap()
}

/// Polls until `done` holds for the run (or fails after `seconds`).
fn wait_until(client: &RpcClient, run_id: &str, seconds: u64, what: &str, done: impl Fn(&CoordinatorAccount) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let acc = coordinator(client, run_id);
        if done(&acc) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {} at epoch {}", acc.run_state.display(), acc.progress.epoch);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A state a run is in once resumed: waiting for its clients or anywhere in an epoch. Live
/// clients move it on as fast as the machine lets them, so how far it got says nothing.
fn resumed(state: &serde_json::Value) -> bool {
    !matches!(state.as_str(), None | Some("Paused" | "Uninitialized" | "Finished"))
}

fn is_active(acc: &CoordinatorAccount) -> bool {
    matches!(acc.run_state, RunState::RoundTrain | RunState::RoundWitness)
}

/// The coordinator's log lines of every transaction that touched run `run_id`, oldest first,
/// by signature, as the chain in `rb`'s localnet directory holds them.
fn coordinator_history(rb: &Runbook, run_id: &str) -> Vec<(String, Vec<String>)> {
    let net = Localnet::load_read_only(&rb.path(".psyche-runbook/localnet")).unwrap();
    let ids = ProgramIds::default();
    let instance = net.account(&pdas::coordinator_instance(&ids, run_id)).expect("the run's instance");
    let address = CoordinatorInstance::decode(&instance.data).unwrap().coordinator_account;
    let mut history = Vec::new();
    let mut before = None;
    loop {
        let page = Page { address, before, until: None, limit: 1000, max_slot: i64::MAX as u64 };
        let found = net.store().history().signatures_for(&page).unwrap();
        let Some((last, _)) = found.last() else { break };
        before = Some(*last);
        history.extend(found.into_iter().map(|(signature, record)| (signature.to_string(), record.logs)));
    }
    history.reverse();
    history
}

/// The run state the coordinator logged a transaction finding the run in (`which` "Pre") or
/// leaving it in ("Post").
fn logged_state<'a>(logs: &'a [String], which: &str) -> Option<&'a str> {
    let marker = format!("{which}-tick run state: ");
    logs.iter().find_map(|l| l.split_once(marker.as_str()).map(|(_, state)| state.trim()))
}

/// The pause `signature` found the run mid-epoch and left it there, only pending, and a later
/// transaction paused the run as it ended the epoch: the pause waited for the epoch's end,
/// however fast or slow the machine ran it.
fn assert_pause_waited_for_the_epoch_end(rb: &Runbook, run_id: &str, signature: &serde_json::Value) {
    let history = coordinator_history(rb, run_id);
    let signature = signature.as_str().expect("the pause's signature");
    let at = history.iter().position(|(s, _)| s == signature).expect("the pause is in the run's history");
    let logs = &history[at].1;
    let found = logged_state(logs, "Pre");
    assert!(matches!(found, Some("Training" | "Witness" | "Cooldown")), "the pause found the run mid-epoch: {logs:?}");
    assert_eq!(logged_state(logs, "Post"), found, "the pause was only pending: {logs:?}");
    let (_, paused) = history[at + 1..]
        .iter()
        .find(|(_, logs)| logged_state(logs, "Post") == Some("Paused"))
        .expect("a later transaction paused the run");
    assert!(paused.iter().any(|l| l.contains("Epoch end")), "the run paused at the epoch's end: {paused:?}");
}

#[test]
fn serve_clients_keep_a_run_training_and_a_pause_waits_for_the_epoch_end() {
    let key = Keypair::new();
    let rb = Runbook::new()
        .file("id.json", &serde_json::to_string(&key.to_bytes().to_vec()).unwrap())
        .file("fast.toml", &fast_config(25_000))
        .file("fast-v2.toml", &fast_config(24_000));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = Server::start_with(&rb, &["--clients", "3", "--run", "live"]);
    let client = server.client();
    let airdrop = client.request_airdrop(&key.pubkey(), 10 * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    let url = server.url.clone();
    let rpc = |args: &[&str]| {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.extend(["-u", url.as_str(), "-k", "id.json", "--output", "json"]);
        rb.run_args(all).success().json()
    };

    // The example runbook creates the run, opens it and resumes it; the clients take it from there.
    let fast = rb.path("fast.toml").display().to_string();
    let created =
        rpc(&[&runbook("create-public-run.rhai"), "--set", "run_id=live", "--set", &format!("config={fast}")]);
    // Resumed: the clients may already have taken it on by the time the runbook reads it back.
    let state = created["outputs"]["state"].as_str().unwrap_or_default();
    assert!(
        ["Waiting for members", "Warmup", "Training", "Witness", "Cooldown"].contains(&state),
        "the run was resumed: {created}"
    );
    wait_until(&client, "live", 180, "an epoch completes", |acc| acc.progress.epoch >= 1);
    let acc = coordinator(&client, "live");
    assert_eq!(acc.clients.len(), 3, "the three clients joined");
    assert!(acc.progress.step > 1);

    // A pause while a round is training only takes effect at the end of the epoch.
    wait_until(&client, "live", 180, "training again", is_active);
    let v2 = rb.path("fast-v2.toml").display().to_string();
    let done = rpc(&[
        &runbook("pause-update-resume.rhai"),
        "--set",
        "run_id=live",
        "--set",
        &format!("config={v2}"),
        "--set",
        "timeout=60",
    ]);
    // Resumed: the clients may already be back in the next epoch, as far into it as the
    // machine's speed let them get.
    assert!(resumed(&done["outputs"]["state"]), "{done}");
    let acc = coordinator(&client, "live");
    assert_eq!(acc.config.total_steps, 24_000, "the new config is on chain");
    // The clients re-join after the resume and training goes on.
    let epoch = acc.progress.epoch;
    wait_until(&client, "live", 180, "training after the resume", |acc| acc.progress.epoch > epoch);
    assert_eq!(server.stop(), 0);
    // The runbook's first transaction is its pause; stopping saved the chain's history.
    assert_pause_waited_for_the_epoch_end(&rb, "live", &done["signatures"][0]);
}

#[test]
fn an_embedded_runbook_trains_its_run_in_the_background() {
    let rb = Runbook::new().file("fast.toml", &fast_config(25_000)).file("fast-v2.toml", &fast_config(24_000));
    let fast = rb.path("fast.toml").display().to_string();
    let created = rb
        .run_args([
            "run",
            &runbook("create-public-run.rhai"),
            "--set",
            "run_id=embedded-live",
            "--set",
            &format!("config={fast}"),
            "--output",
            "json",
        ])
        .success()
        .json();
    assert_eq!(created["outputs"]["state"], "Waiting for members");
    // The example runbook, unchanged, after starting background clients and waiting for a round.
    let example = std::fs::read_to_string(runbook("pause-update-resume.rhai")).unwrap();
    let body = example.split_once('\n').unwrap().1;
    let script = format!(
        "let trained = train(param(\"run_id\"), #{{clients: 3, unhealthy: 1}});\n\
         run(param(\"run_id\")).wait_for(\"Training\", 60);\n\
         output(\"trained\", trained.len());\n{body}"
    );
    let rb = rb.file("trained-pause.rhai", &script);
    let v2 = rb.path("fast-v2.toml").display().to_string();
    let done = rb
        .run_args([
            "run",
            "trained-pause.rhai",
            "--set",
            "run_id=embedded-live",
            "--set",
            &format!("config={v2}"),
            "--set",
            "timeout=60",
            "--output",
            "json",
        ])
        .success()
        .json();
    assert_eq!(done["outputs"]["trained"], 3);
    assert!(resumed(&done["outputs"]["state"]), "{done}");
    // The background clients do not sign for the runbook: its first transaction is the pause.
    assert_pause_waited_for_the_epoch_end(&rb, "embedded-live", &done["signatures"][0]);
    let info =
        rb.run_args(["run", &runbook("inspect.rhai"), "--set", "run_id=embedded-live", "--output", "json"]).success();
    assert!(info.stdout.contains("24000"), "{}", info.stdout);
}

#[test]
fn pause_update_resume_runs_unchanged_while_embedded_runs_train() {
    let rb = Runbook::new().file("fast.toml", &fast_config(25_000)).file("fast-v2.toml", &fast_config(24_000));
    let fast = format!("config={}", rb.path("fast.toml").display());
    let v2 = format!("config={}", rb.path("fast-v2.toml").display());
    let id = "run_id=embedded-busy";
    rb.run_args(["run", &runbook("create-public-run.rhai"), "--set", id, "--set", &fast]).success();
    // One invocation's clients bring the run into an epoch and leave it there, mid-round.
    let rb = rb.file("busy.rhai", "output(\"state\", run(param(\"run_id\")).wait_for(\"Training\", 60));");
    let busy = rb.run_args(["run", "--train", "3", "busy.rhai", "--set", id, "--output", "json"]).success().json();
    assert_eq!(busy["outputs"]["state"], "Training", "{busy}");
    // The example runbook, unchanged: its pause waits for the epoch the next invocation's
    // clients (the same keys) finish, then it updates and resumes.
    let done = rb
        .run_args([
            "run",
            "--train",
            "3",
            &runbook("pause-update-resume.rhai"),
            "--set",
            id,
            "--set",
            &v2,
            "--set",
            "timeout=60",
            "--output",
            "json",
        ])
        .success()
        .json();
    assert_pause_waited_for_the_epoch_end(&rb, "embedded-busy", &done["signatures"][0]);
    assert_ne!(done["outputs"]["state"], "Paused", "{done}");
    let info = rb.run_args(["run", &runbook("inspect.rhai"), "--set", id, "--output", "json"]).success();
    assert!(info.stdout.contains("24000"), "{}", info.stdout);
    // A served chain trains with `localnet serve --clients`; `--train` says so.
    let refused = rb.run_args(["-u", "http://127.0.0.1:1", "run", "--train", "3", "busy.rhai"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("localnet serve --clients"), "{}", refused.stderr);
}

#[test]
fn example_runbooks_pass_unchanged_against_a_serve_whose_runs_train() {
    let key = Keypair::new();
    let rb = Runbook::new()
        .file("id.json", &serde_json::to_string(&key.to_bytes().to_vec()).unwrap())
        .file("fast.toml", &fast_config(25_000))
        .file("fast-v2.toml", &fast_config(24_000));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    // Every run that can train gets the clients.
    let server = Server::start_with(&rb, &["--clients", "2"]);
    let client = server.client();
    let airdrop = client.request_airdrop(&key.pubkey(), 10 * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    let url = server.url.clone();
    let run = |args: &[String]| {
        let mut all: Vec<String> = vec!["run".into()];
        all.extend_from_slice(args);
        all.extend(["-u", url.as_str(), "-k", "id.json", "--output", "json"].map(String::from));
        let doc = rb.run_args(all).success().json();
        assert_eq!(doc["ok"], true, "{doc}");
        doc
    };
    let path = |name: &str| rb.path(name).display().to_string();
    run(&[runbook("create-public-run.rhai"), "--set".into(), format!("config={}", path("fast.toml"))]);
    wait_until(&client, "public-run", 180, "the public run trains", is_active);
    run(&[
        runbook("create-private-run.rhai"),
        "--set".into(),
        format!("users={}", runbook("users.example.txt")),
        "--set".into(),
        format!("config={}", path("fast.toml")),
    ]);
    let paused = run(&[
        runbook("pause-update-resume.rhai"),
        "--set".into(),
        format!("config={}", path("fast-v2.toml")),
        "--set".into(),
        "timeout=60".into(),
    ]);
    assert!(resumed(&paused["outputs"]["state"]), "{paused}");
    let info = run(&[runbook("inspect.rhai"), "--set".into(), "run_id=public-run".into()]);
    assert_eq!(info["outputs"]["run"]["coordinator_account"]["setup"]["config"]["total_steps"], 24_000, "{info}");
    // Both runs share the payer as join authority, so the public grant lets the clients into
    // the private run as well, as it would on a cluster.
    wait_until(&client, "private-run", 180, "the private run trains", |acc| acc.clients.len() == 2);
    assert_eq!(server.stop(), 0);
}

#[test]
fn the_quickstart_run_trains_under_serve_while_top_up_cron_keeps_it_funded() {
    // The quickstart on the embedded chain, then the same chain served with training clients.
    let rb = Runbook::new();
    let quick = rb.run_args(["run", &runbook("quickstart.rhai"), "--output", "json"]).success().json();
    assert_eq!(quick["ok"], true);
    let server = Server::start_with(&rb, &["--clients", "3", "--run", "quickstart"]);
    let client = server.client();
    wait_until(&client, "quickstart", 180, "the quickstart run trains", is_active);
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    let run = |name: &str| {
        let args = ["run", &runbook(name), "-u", &server.url, "-k", &payer, "--output", "json"];
        let doc = rb.run_args(args).success().json();
        assert_eq!(doc["ok"], true, "{name}: {doc}");
        doc
    };
    let topped = run("top-up-cron.rhai");
    assert!(topped["outputs"]["funded_epochs"].as_f64().unwrap() >= 10.0, "{topped}");
    let info = run("inspect.rhai");
    assert_eq!(info["outputs"]["run"]["coordinator_account"]["status"]["epoch"], 1);
    let acc = coordinator(&client, "quickstart");
    assert_eq!(acc.clients.len(), 6, "the quickstart's three clients and the three training ones");
    assert_eq!(server.stop(), 0);
}
