//! Chain integers at and above 2^53 (where floats lose digits) and 2^63 (beyond Rhai's INT)
//! reach every report and decoder output exactly: as JSON integers, and in scripts as exact
//! values that print, compare and compute without rounding.

mod common;

use common::{Runbook, fixture};
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::coordinator_account::CoordinatorAccount;
use psyche_runbook::psyche::accounts::treasurer::{PARTICIPANT_SIZE, Participant, RUN_SIZE, TreasurerRun};
use solana_sdk::pubkey::Pubkey;

const ABOVE_2_53: u64 = (1 << 53) + 1;
const ABOVE_2_63: u64 = (1 << 63) + 1;
/// The treasurer index from the issue: upstream's json-dump-run prints it as this integer.
const INDEX: u64 = 11_211_467_328_114_996_294;

/// `"key": digits` appears in the raw JSON text (not a float, not a string).
fn has_integer(text: &str, key: &str, value: u64) {
    let pretty = format!("\"{key}\": {value}");
    let compact = format!("\"{key}\":{value}");
    assert!(text.contains(&pretty) || text.contains(&compact), "{key} = {value} not in:\n{text}");
}

fn decode(rb: &Runbook, kind: &str, file: &str, json: bool) -> String {
    let path = rb.path(file).display().to_string();
    let mut args = vec!["decode", kind, &path];
    if json {
        args.extend(["--output", "json"]);
    }
    rb.run_args(args).success().stdout
}

#[test]
fn the_decoder_prints_large_integers_exactly() {
    let mut account =
        CoordinatorAccount::decode(&std::fs::read(fixture("coordinator-account-v1.bin")).unwrap()).unwrap();
    account.nonce = ABOVE_2_63;
    account.future_epoch_rates.earning_rate_total_shared = ABOVE_2_53;
    account.current_epoch_rates.slashing_rate_per_client = u64::MAX;
    let run = TreasurerRun {
        bump: 255,
        index: INDEX,
        main_authority: Pubkey::new_unique(),
        join_authority: Pubkey::new_unique(),
        coordinator_account: Pubkey::new_unique(),
        coordinator_instance: Pubkey::new_unique(),
        collateral_mint: Pubkey::new_unique(),
        total_claimed_collateral_amount: ABOVE_2_53,
        total_claimed_earned_points: ABOVE_2_63,
    };
    let participant =
        Participant { bump: 254, claimed_collateral_amount: ABOVE_2_63, claimed_earned_points: ABOVE_2_53 };
    let rb = Runbook::new();
    std::fs::write(rb.path("coordinator.bin"), account.encode()).unwrap();
    std::fs::write(rb.path("run.bin"), run.encode(RUN_SIZE)).unwrap();
    std::fs::write(rb.path("participant.bin"), participant.encode(PARTICIPANT_SIZE)).unwrap();

    let json = decode(&rb, "coordinator-account", "coordinator.bin", true);
    has_integer(&json, "nonce", ABOVE_2_63);
    has_integer(&json, "earning_rate_total_shared", ABOVE_2_53);
    has_integer(&json, "slashing_rate_per_client", u64::MAX);
    let text = decode(&rb, "coordinator-account", "coordinator.bin", false);
    assert!(text.contains(&format!("nonce: {ABOVE_2_63}")), "{text}");
    assert!(text.contains(&format!("future {ABOVE_2_53}/")), "{text}");
    assert!(text.contains(&format!("/{}, future", u64::MAX)), "{text}");

    let json = decode(&rb, "treasurer-run", "run.bin", true);
    has_integer(&json, "index", INDEX);
    has_integer(&json, "total_claimed_collateral_amount", ABOVE_2_53);
    has_integer(&json, "total_claimed_earned_points", ABOVE_2_63);
    let json = decode(&rb, "participant", "participant.bin", true);
    has_integer(&json, "claimed_collateral_amount", ABOVE_2_63);
    has_integer(&json, "claimed_earned_points", ABOVE_2_53);
}

/// A rewarded run at the issue's treasurer index, with an earning rate above 2^63 (one client
/// earns all of it and claims it), a slashing rate above 2^53 and a treasury funded above 2^63
/// that keeps a surplus above 2^53 (a 0-decimal mint).
const LARGE_RUN: &str = r#"
let me = payer();
if !run_exists("large") {
    let mint = create_mint(0);
    let index = big_int("11211467328114996294");
    let r = create_run(#{ run_id: "large", mint: mint, treasurer_index: index }).run;
    grant_public(me);
    r.update_config(CONFIG);
    r.resume();
    r.set_rates(big_int("9223372036854775809"), 9007199254740993);
    let client = new_keypair();
    r.simulate_epoch([client]);
    // What the client claims, and a surplus above 2^53 that stays.
    let funds = big_int("9223372036854775809") + 9007199254740993;
    mint_tokens(mint, me, funds);
    r.top_up(funds);
    r.claim(client);
}
let r = run("large");
let info = r.info();
let index = info.treasurer_run.index;
output("index", index);
output("index_text", index.to_string());
output("index_type", type_of(index));
output("index_matches", index == big_int("11211467328114996294") && index > 9223372036854775807);
output("index_plus_one", index + 1);
output("index_minus_index", (index - index) == 0);
output("info", info);
let client = info.coordinator_account.clients.keys()[0];
output("user", r.user_info(client));
output("funding", r.funding().native);
output("earned", r.user_info(pubkey(client)).coordinator_account.client.earned);
output("default_index", treasurer_index("large"));
output("same_pda", treasurer_run_address(treasurer_index("large")) == treasurer_run_address("large"));
output("own_pda", treasurer_run_address(index) == r.treasurer);
"#;

#[test]
fn reports_and_scripts_keep_values_above_2_53_and_2_63_exact() {
    // Beside the runbook: a runbook reads configs within its own folder.
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/configs/quickstart.toml");
    let rb =
        Runbook::new().file("large.rhai", LARGE_RUN).file("quickstart.toml", &std::fs::read_to_string(config).unwrap());
    let run = rb.run_args(["run", "large.rhai", "--set", "CONFIG=quickstart.toml", "--output", "json"]).success();
    let doc = run.json();
    let o = &doc["outputs"];
    assert_eq!(o["index"], INDEX);
    has_integer(&run.stdout, "index", INDEX);
    assert_eq!(o["index_text"], INDEX.to_string());
    assert_eq!(o["index_type"], "BigInt");
    assert_eq!(o["index_matches"], true);
    assert_eq!(o["index_plus_one"], INDEX + 1);
    assert_eq!(o["index_minus_index"], true);

    let info = &o["info"];
    assert_eq!(info["treasurer_run"]["index"], INDEX);
    let rates = &info["coordinator_account"]["epoch"]["rates"];
    assert_eq!(rates["current"]["earning"], ABOVE_2_63);
    assert_eq!(rates["current"]["slashing"], ABOVE_2_53);
    has_integer(&run.stdout, "earning", ABOVE_2_63);
    has_integer(&run.stdout, "slashing", ABOVE_2_53);
    let clients = info["coordinator_account"]["clients"].as_object().unwrap();
    let (signer, client) = clients.iter().next().unwrap();
    assert_eq!(client["earned"], ABOVE_2_63);
    has_integer(&run.stdout, "sum_earned", ABOVE_2_63);
    has_integer(&run.stdout, "total_claimable_earned_points", ABOVE_2_63);

    let user = &o["user"];
    assert_eq!(&user["address"], signer);
    assert_eq!(user["coordinator_account"]["client"]["earned"], ABOVE_2_63);
    assert_eq!(user["treasurer_participant"]["claimed_earned_points"], ABOVE_2_63);
    has_integer(&run.stdout, "claimed_earned_points", ABOVE_2_63);
    assert_eq!(o["earned"], ABOVE_2_63);

    let default_index = psyche_runbook::psyche::pdas::treasurer_index("large");
    assert_eq!(o["default_index"], default_index);
    assert_eq!((o["same_pda"].clone(), o["own_pda"].clone()), (serde_json::json!(true), serde_json::json!(true)));

    let funding = &o["funding"];
    assert_eq!(funding["funded"], ABOVE_2_53);
    assert_eq!(funding["claimable"], ABOVE_2_63);
    assert_eq!(funding["claimed"], ABOVE_2_63);
    assert_eq!(funding["unclaimed"], 0);
    assert_eq!(funding["surplus"], ABOVE_2_53);
    assert_eq!(funding["burn_per_epoch"], ABOVE_2_63);
    has_integer(&run.stdout, "claimed", ABOVE_2_63);
    has_integer(&run.stdout, "surplus", ABOVE_2_53);
    has_integer(&run.stdout, "total_claimed_earned_points", ABOVE_2_63);

    // Text output prints the same digits.
    let text = rb.run_args(["run", "large.rhai", "--set", "CONFIG=quickstart.toml"]).success();
    assert!(text.stdout.contains(&format!("index = {INDEX}\n")), "{}", text.stdout);
    assert!(text.stdout.contains(&format!("earned = {ABOVE_2_63}\n")), "{}", text.stdout);
}

#[test]
fn set_constants_beyond_int_stay_exact() {
    let rb = Runbook::new().file("set.rhai", "output(\"index\", index);\noutput(\"next\", index + 1);\n");
    let run = rb.run_args(["run", "set.rhai", "--set", &format!("index={INDEX}"), "--output", "json"]).success();
    assert_eq!(run.json()["outputs"]["index"], INDEX);
    assert_eq!(run.json()["outputs"]["next"], INDEX + 1);
}

#[test]
fn arithmetic_beyond_the_exact_range_is_an_error_not_a_wrap() {
    let rb = Runbook::new().file("overflow.rhai", "let b = big_int(\"18446744073709551615\");\nlet c = b * b;\n");
    let run = rb.run_args(["run", "overflow.rhai"]).code(1);
    assert!(
        run.stderr.contains("overflow.rhai:2:11: error: integer overflow: 18446744073709551615 * 18446744073709551615"),
        "{}",
        run.stderr
    );
}
