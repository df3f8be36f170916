//! Two run-manager commands as runbook functions, on the embedded chain: `switch_to_hub`
//! (from P2P and from Dummy, byte for byte the `update` run-manager's `update-config
//! --switch-to-hub` builds) and `list_runs(#{ joinable_by })` (upstream's joinable runs:
//! public, personal and delegate authorizations, paused and finished runs left out).

mod common;

use common::{Runbook, fixture};
use psyche_runbook::localnet::handle::Handle;
use psyche_runbook::psyche::config::RunConfig;
use psyche_runbook::psyche::encoding::borsh_bytes;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::model::Checkpoint;
use psyche_runbook::psyche::pdas;
use serde_json::{Value, json};
use solana_sdk::signature::Signature;
use solana_sdk::transaction::VersionedTransaction;
use std::str::FromStr;

/// The fixture config with its Hub checkpoint turned into `variant` (same repo).
fn config_with(variant: &str) -> String {
    let base = std::fs::read_to_string(fixture("configs/config.toml")).unwrap();
    base.replace("[model.LLM.checkpoint.Hub]", &format!("[model.LLM.checkpoint.{variant}]"))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// The transaction `signature` landed as, from the runbook's localnet.
fn landed(rb: &Runbook, signature: &Value) -> VersionedTransaction {
    let handle = Handle::open(&rb.path(".psyche-runbook/localnet"), || {}).unwrap();
    let net = handle.lock();
    let record = net.record(&Signature::from_str(signature.as_str().unwrap()).unwrap()).expect("landed");
    assert!(record.err.is_none(), "{:?}", record.err);
    bincode::deserialize(&record.transaction).unwrap()
}

const SWITCH: &str = r#"
let spec = #{ run_id: RUN };
if REWARDED { spec.mint = create_mint(6); }
let r = create_run(spec).run;
r.update_config("run.toml");
output("first", r.switch_to_hub());
output("second", r.switch_to_hub());
output("checkpoint", r.info().coordinator_account.setup.model.LLM.checkpoint);
output("payer", payer().pubkey);
"#;

/// From `variant`, the run's checkpoint becomes Hub with the same repo, in one instruction whose
/// bytes are what run-manager sends. A direct run: `update` with no metadata, no config, the
/// model, no progress; accounts authority (signer), instance, coordinator account (writable).
/// A rewarded run: the treasurer's `run_update` with only the model set; accounts authority,
/// treasurer run, instance, coordinator account, coordinator program.
fn switches_from(variant: &str, rewarded: bool) {
    let rb = Runbook::new().file("run.toml", &config_with(variant)).file("switch.rhai", SWITCH);
    let run_id = format!("from-{}{}", variant.to_lowercase(), if rewarded { "-rewarded" } else { "" });
    let sets = [format!("RUN={run_id}"), format!("REWARDED={rewarded}")];
    let doc =
        rb.run_args(["run", "switch.rhai", "--set", &sets[0], "--set", &sets[1], "--output", "json"]).success().json();
    let out = &doc["outputs"];
    assert_eq!(out["first"]["changed"], true);
    assert_eq!(out["first"]["signatures"].as_array().unwrap().len(), 1);
    assert_eq!(out["second"], json!({"changed": false, "signatures": []}), "a second switch is a no-op");
    assert_eq!(out["checkpoint"], json!({"Hub": {"repo_id": "emozilla/llama2-1.1b-gqa-init", "revision": null}}));

    // What run-manager builds for the same change: the model read from the config, its
    // P2P/Dummy checkpoint turned into Hub, as the only field of the update.
    let mut model = RunConfig::from_toml_str(&config_with(variant), "run.toml").unwrap().model;
    let llm = model.llm_mut();
    llm.checkpoint = match &llm.checkpoint {
        Checkpoint::P2P(repo) | Checkpoint::Dummy(repo) => Checkpoint::Hub(repo.clone()),
        other => panic!("the config holds {other:?}"),
    };
    let ids = ProgramIds::default();
    let instance = pdas::coordinator_instance(&ids, &run_id);
    let (program, mut expected, trailing_nones) = if rewarded {
        (ids.treasurer, hex("33562e740d42149d"), 5)
    } else {
        (ids.coordinator, hex("dbc858b09e3ffd7f"), 1)
    };
    expected.extend([0, 0, 1]);
    expected.extend(borsh_bytes(&model));
    expected.extend(std::iter::repeat_n(0, trailing_nones));

    let tx = landed(&rb, &out["first"]["signatures"][0]);
    let keys = tx.message.static_account_keys();
    let instructions = tx.message.instructions();
    assert_eq!(instructions.len(), 1, "one instruction, no compute budget or other step");
    let ix = &instructions[0];
    assert_eq!(keys[ix.program_id_index as usize], program);
    assert!(ix.data == expected, "the update differs from run-manager's:\n{:?}\n{:?}", ix.data, expected);
    let accounts: Vec<_> = ix.accounts.iter().map(|i| keys[*i as usize]).collect();
    let flags: Vec<_> = ix
        .accounts
        .iter()
        .map(|i| (tx.message.is_signer(*i as usize), tx.message.is_maybe_writable(*i as usize, None)))
        .collect();
    assert_eq!(accounts[0].to_string(), out["payer"].as_str().unwrap());
    // The authority pays the fee here, so it is writable as the fee payer.
    if rewarded {
        let run = pdas::treasurer_run(&ids, pdas::treasurer_index(&run_id));
        assert_eq!(accounts[1..], [run, instance, accounts[3], ids.coordinator]);
        assert_eq!(flags, [(true, true), (false, false), (false, false), (false, true), (false, false)]);
    } else {
        assert_eq!(accounts[1..2], [instance]);
        assert_eq!(flags, [(true, true), (false, false), (false, true)]);
    }
}

#[test]
fn switch_to_hub_from_p2p_sends_run_managers_update() {
    switches_from("P2P", false);
}

#[test]
fn switch_to_hub_from_dummy_sends_run_managers_update() {
    switches_from("Dummy", false);
}

#[test]
fn switch_to_hub_of_a_rewarded_run_sends_run_managers_treasurer_update() {
    switches_from("P2P", true);
}

#[test]
fn switch_to_hub_is_a_no_op_on_hub_and_gcs_and_refused_while_running() {
    let gcs = std::fs::read_to_string(fixture("configs/light-config-gcs.toml")).unwrap();
    let hub = std::fs::read_to_string(fixture("configs/config.toml")).unwrap();
    let rb = Runbook::new().file("gcs.toml", &gcs).file("hub.toml", &hub).file("p2p.toml", &config_with("P2P")).file(
        "t.rhai",
        r#"
let g = create_run(#{ run_id: "gcs" }).run;
g.update_config("gcs.toml");
output("gcs", g.switch_to_hub());
let h = create_run(#{ run_id: "hub" }).run;
h.update_config("hub.toml");
output("hub", h.switch_to_hub());
let p = create_run(#{ run_id: "p2p" }).run;
p.update_config("p2p.toml");
p.resume();
p.switch_to_hub();
"#,
    );
    let run = rb.run_args(["run", "t.rhai", "--output", "json"]).code(2);
    let doc = run.json();
    assert_eq!(doc["outputs"]["gcs"], json!({"changed": false, "signatures": []}));
    assert_eq!(doc["outputs"]["hub"], json!({"changed": false, "signatures": []}));
    assert!(
        run.stderr
            .contains("run \"p2p\" is Waiting for members: switching the checkpoint to the Hub needs it paused first"),
        "{}",
        run.stderr
    );
}

/// Runs of several join authorities, each in the state and with the authorizations the test
/// needs; outputs the users' keys and what `list_runs` answers for each filter.
const JOINABLE: &str = r#"
let user = new_keypair();
let master = new_keypair();
let stranger = new_keypair();
let open = new_keypair();
let personal = new_keypair();
let delegated = new_keypair();
let closed = new_keypair();
grant_public(open);
grant(personal, user);
grant(delegated, master);
set_delegates(master, delegated, [user]);
grant(closed, stranger);
fn start(id, authority, config) {
    let r = create_run(#{ run_id: id, join_authority: authority.pubkey }).run;
    r.update_config(config);
    r.resume();
    r
}
start("open", open, "run.toml");
start("personal", personal, "run.toml");
start("delegated", delegated, "run.toml");
start("closed", closed, "run.toml");
let paused = start("paused", open, "run.toml");
paused.pause();
paused.wait_for("Paused", 60);
let finished = start("finished", open, "short.toml");
finished.simulate_epoch([new_keypair()]);
output("finished_state", finished.state());
create_run(#{ run_id: "new", join_authority: open.pubkey });

output("keys", #{ user: user.pubkey, master: master.pubkey, stranger: stranger.pubkey });
output("all", list_runs());
output("user", list_runs(#{ joinable_by: user }));
output("user_as_delegate", list_runs(#{ joinable_by: user, authorizer: master }));
output("stranger", list_runs(#{ joinable_by: stranger }));
output("user_of_personal", list_runs(#{ joinable_by: user, join_authority: personal }));
"#;

/// `run_id → authorizer` of a `list_runs` answer.
fn by_run(rows: &Value) -> std::collections::BTreeMap<String, String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| (r["run_id"].as_str().unwrap().to_string(), r["authorizer"].as_str().unwrap_or("-").to_string()))
        .collect()
}

#[test]
fn list_runs_joinable_by_counts_public_personal_and_delegate_authorizations_in_joinable_states() {
    let short = config_with("Hub").replace("total_steps = 25000\nwaiting", "total_steps = 2\nwaiting");
    let rb = Runbook::new().file("run.toml", &config_with("Hub")).file("short.toml", &short).file("t.rhai", JOINABLE);
    let doc = rb.run_args(["run", "t.rhai", "--output", "json"]).success().json();
    let out = &doc["outputs"];
    assert_eq!(out["finished_state"], "Finished");
    let keys = &out["keys"];
    let (user, master) = (keys["user"].as_str().unwrap(), keys["master"].as_str().unwrap());
    let public = "11111111111111111111111111111111";

    let all = by_run(&out["all"]);
    assert_eq!(
        all.keys().collect::<Vec<_>>(),
        ["closed", "delegated", "finished", "new", "open", "paused", "personal"]
    );
    let pairs = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(by_run(&out["user"]), pairs(&[("open", public), ("personal", user)]));
    assert_eq!(by_run(&out["user_as_delegate"]), pairs(&[("delegated", master), ("open", public), ("personal", user)]));
    let stranger = keys["stranger"].as_str().unwrap();
    assert_eq!(by_run(&out["stranger"]), pairs(&[("closed", stranger), ("open", public)]));
    assert_eq!(by_run(&out["user_of_personal"]), pairs(&[("personal", user)]));
    for row in out["user"].as_array().unwrap() {
        assert_eq!(row["state"], "Waiting for members", "{row}");
    }

    // In one batch: the instances in one request, every run's accounts and candidate
    // authorizations in one more.
    std::fs::write(rb.path("list.rhai"), "output(\"rows\", list_runs(#{ joinable_by: USER, authorizer: MASTER }));")
        .unwrap();
    let (user_set, master_set) = (format!("USER={user}"), format!("MASTER={master}"));
    let doc = rb
        .run_args(["run", "list.rhai", "--set", &user_set, "--set", &master_set, "--output", "json"])
        .success()
        .json();
    assert_eq!(by_run(&doc["outputs"]["rows"]).len(), 3);
    let trips = &doc["rpc_round_trips_by_method"];
    assert_eq!(trips["getProgramAccounts"], 1, "{doc}");
    assert_eq!(trips["getMultipleAccounts"], 1, "{doc}");
    assert!(trips["getAccountInfo"].is_null(), "{doc}");
}

#[test]
fn list_runs_refuses_a_filter_it_does_not_know() {
    let rb = Runbook::new()
        .file("a.rhai", "list_runs(#{ authorizer: payer() });")
        .file("b.rhai", "list_runs(#{ joinable: payer() });");
    let run = rb.run_args(["run", "a.rhai"]).code(2);
    assert!(run.stderr.contains("list_runs: authorizer needs joinable_by"), "{}", run.stderr);
    let run = rb.run_args(["run", "b.rhai"]).code(2);
    assert!(
        run.stderr.contains("list_runs: unknown filter `joinable` (joinable_by, authorizer, join_authority)"),
        "{}",
        run.stderr
    );
}
