//! Runbooks speak pubkeys and runs as operators do: every pubkey parameter takes a base58
//! string or a signer, values print for people in text mode (JSON stays upstream-shaped),
//! unknown names get "did you mean", and long signature lists are summarized.

mod common;

use common::Runbook;
use std::path::Path;

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

#[test]
fn pubkey_parameters_take_strings_and_signers() {
    let script = r#"
let r = create_run(#{ run_id: "strings" }).run;
let user = new_keypair();
let key = user.pubkey.to_string();
let authority = payer().pubkey.to_string();
output("grant", grant(payer(), key).changed);
output("grant_again_by_signer", grant(payer(), user).changed);
output("can_join", r.can_join(key) && r.can_join(user));
output("active", authorization(authority, key).active);
output("same_address", join_authorization_address(payer(), key) == join_authorization_address(authority, user.pubkey));
output("grantees", active_grantees(authority).len());
output("sol", sol_balance(key) > 0.0);
output("pubkey_of_signer", pubkey(user) == user.pubkey);
output("revoke", revoke(payer(), key).changed);
"#;
    let rb = Runbook::new().file("strings.rhai", script);
    let doc = rb.run_args(["run", "strings.rhai", "--output", "json"]).success().json();
    let o = &doc["outputs"];
    for (name, expected) in [
        ("grant", true),
        ("grant_again_by_signer", false),
        ("can_join", true),
        ("active", true),
        ("same_address", true),
        ("sol", true),
        ("pubkey_of_signer", true),
        ("revoke", true),
    ] {
        assert_eq!(o[name], expected, "{name}: {doc}");
    }
    assert_eq!(o["grantees"], 1);
}

#[test]
fn an_invalid_pubkey_string_is_refused_where_it_is_passed() {
    let rb = Runbook::new().file("bad.rhai", "let me = payer();\ngrant(me, \"nope\");\n");
    let run = rb.run_args(["run", "bad.rhai"]).code(2);
    assert!(run.stderr.contains("bad.rhai:2:1: error: invalid pubkey \"nope\""), "{}", run.stderr);
    assert!(run.stderr.contains("2 | grant(me, \"nope\");\n  | ^"), "{}", run.stderr);
    assert!(run.stderr.ends_with("nothing was sent\n"), "{}", run.stderr);
    // The same message and position as `pubkey()` gives.
    let rb = rb.file("bad.rhai", "let me = payer();\npubkey(\"nope\");\n");
    let run = rb.run_args(["run", "bad.rhai"]).code(2);
    assert!(run.stderr.contains("bad.rhai:2:1: error: invalid pubkey \"nope\""), "{}", run.stderr);
    let rb = rb.file("bad.rhai", "grant(payer(), 42);\n");
    let run = rb.run_args(["run", "bad.rhai"]).code(2);
    assert!(
        run.stderr.contains("expected a pubkey (a Pubkey, a base58 string or a Signer), found i64"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_names_suggest_the_closest_ones() {
    let rb = Runbook::new().file("typo.rhai", "let r = create_run(#{ run_id: \"typo\" }).run;\nr.pasue();\n");
    let run = rb.run_args(["run", "typo.rhai"]).code(1);
    assert!(
        run.stderr.contains("typo.rhai:2:3: error: Function not found: pasue (Run) (did you mean `pause`?)"),
        "{}",
        run.stderr
    );
    let check = rb.run_args(["check", "typo.rhai"]).code(2);
    assert!(check.stderr.contains("unknown function `pasue` (did you mean `pause`?)"), "{}", check.stderr);

    let rb = rb.file("typo.rhai", "let r = run(\"typo\");\nr.run_di\n");
    let run = rb.run_args(["run", "typo.rhai"]).code(1);
    assert!(run.stderr.contains("(did you mean `run_id`?)"), "{}", run.stderr);
    let rb = rb.file("typo.rhai", "fn bump(x) { x + 1 }\nbmup(1);\n");
    let run = rb.run_args(["run", "typo.rhai"]).code(1);
    assert!(run.stderr.contains("Function not found: bmup (i64) (did you mean `bump`?)"), "{}", run.stderr);
    let rb = rb.file("typo.rhai", "let amount = 5;\noutput(\"a\", amuont);\n");
    let check = rb.run_args(["check", "typo.rhai"]).code(2);
    assert!(
        check.stderr.contains("typo.rhai:2:13: error: undefined variable `amuont` (did you mean `amount`?)"),
        "{}",
        check.stderr
    );
    let rb = rb.file("typo.rhai", "run(\"typo\").info().treasurer_rn\n");
    let run = rb.run_args(["run", "typo.rhai"]).code(2);
    assert!(
        run.stderr.contains("a run report has no `treasurer_rn` (did you mean `treasurer_run`?)"),
        "{}",
        run.stderr
    );
}

#[test]
fn text_output_is_for_people_and_json_output_for_machines() {
    let script = r#"
let r = create_run(#{ run_id: "shown" }).run;
output("run", r);
output("signer", payer());
output("key", payer().pubkey);
output("info", r.info());
output("outcome", #{ changed: false, signatures: [] });
let many = [];
for i in 0..30 { many.push(i); }
output("many", many);
"#;
    let rb = Runbook::new().file("show.rhai", script);
    let payer = rb.run_args(["run", "show.rhai", "--output", "json"]).success().json()["outputs"]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let text = rb.run_args(["run", "show.rhai"]).success().stdout;
    assert!(text.contains("run = Run(\"shown\", Uninitialized, epoch 0)\n"), "{text}");
    assert!(text.contains(&format!("signer = Signer({payer} from localnet payer ")), "{text}");
    assert!(text.contains(&format!("key = {payer}\n")), "{text}");
    assert!(text.contains("outcome = #{ changed: false, signatures: [] }\n"), "{text}");
    assert!(text.contains("many = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … and 20 more]\n"), "{text}");
    for line in [
        "info = run \"shown\": Uninitialized\n",
        "  epoch 0, step 0 of 0\n",
        "  clients: 0 registered, 0 in this epoch, 0 exited\n",
        "  rates: earning 0 points per epoch, slashing 0 points per ejected client\n",
        "  treasury: none (not a rewarded run)\n",
        "  pending pause: no\n",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    let json = rb.run_args(["run", "show.rhai", "--output", "json"]).success().json();
    let info = &json["outputs"]["info"];
    assert_eq!(info["coordinator_account"]["status"]["state"], "Uninitialized");
    assert_eq!(info["treasurer_run"], serde_json::Value::Null);
    assert_eq!(json["outputs"]["run"]["run_id"], "shown");
    assert_eq!(json["outputs"]["many"].as_array().unwrap().len(), 30);
}

#[test]
fn the_quickstart_reports_clients_by_pubkey_and_inspect_summarizes_the_run() {
    let rb = Runbook::new();
    let doc = rb.run_args(["run", &runbook("quickstart.rhai"), "--output", "json"]).success().json();
    let clients = doc["outputs"]["clients"].as_object().unwrap();
    assert_eq!(clients.len(), 3);
    for key in clients.keys() {
        assert!(key.parse::<solana_sdk::pubkey::Pubkey>().is_ok(), "client key {key:?} is not a pubkey");
    }
    let text = rb.run_args(["run", &runbook("inspect.rhai")]).success().stdout;
    for line in [
        "run = run \"quickstart\": Waiting for members\n",
        "  epoch 1, step ",
        " of 1000\n",
        "  clients: 3 registered, ",
        "  rates: earning 3 per epoch, slashing 0.5 per ejected client\n",
        "epochs of runway at 3 per epoch\n",
        "  pending pause: no\n",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
}

#[test]
fn a_long_list_of_signatures_is_summarized_in_text_and_kept_whole_in_json() {
    let script = "for i in 0..5 { airdrop(payer(), 0.001); }\nthrow \"stop\";\n";
    let rb = Runbook::new().file("many.rhai", script);
    let json = rb.run_args(["run", "many.rhai", "--output", "json"]).code(1).json();
    let all: Vec<String> =
        json["signatures"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    assert_eq!(all.len(), 5);
    let text = rb.run_args(["run", "many.rhai"]).code(1).stderr;
    let note = text.lines().last().unwrap();
    assert!(note.starts_with("5 transaction(s) were sent before the error, the last 3: "), "{note}");
    assert!(note.ends_with("(all of them: `psyche-runbook journal show --last`)"), "{note}");
    let listed = note.split("the last 3: ").nth(1).unwrap().split(" (all of them").next().unwrap();
    let listed: Vec<&str> = listed.split(", ").collect();
    assert_eq!(listed.len(), 3, "{note}");
    assert!(listed.iter().all(|s| s.parse::<solana_sdk::signature::Signature>().is_ok()), "{note}");
}

#[test]
fn docs_show_pubkey_parameters_readably() {
    let docs = Runbook::new().args(["docs"]).run().success().stdout;
    assert!(docs.contains("A Pubkey parameter also takes a base58 string or a Signer"), "{docs}");
    assert!(docs.contains("grant(join_authority: Signer, user: Pubkey) -> Map"), "{docs}");
    assert!(docs.contains("Run.user_info(user: Pubkey)") || docs.contains("user_info(r: Run, user: Pubkey)"), "{docs}");
    assert!(docs.contains("big_int(text: string) -> BigInt"), "{docs}");
}

#[test]
fn a_caught_error_shows_its_kind_and_message() {
    let script = "let e = ();\ntry { pubkey(\"nope\"); } catch (err) { e = err; }\noutput(\"error\", e);\n";
    let rb = Runbook::new().file("caught.rhai", script);
    let text = rb.run_args(["run", "caught.rhai"]).success().stdout;
    assert_eq!(text, "error = Error(input error: invalid pubkey \"nope\")\n");
    let json = rb.run_args(["run", "caught.rhai", "--output", "json"]).success().json();
    assert_eq!(json["outputs"]["error"], serde_json::json!({"kind": "input", "message": "invalid pubkey \"nope\""}));
}
