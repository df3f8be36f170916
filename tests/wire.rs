//! The wire layer against upstream's real data: account dumps, run configs, and property tests
//! for the encodings.

mod common;

use common::{Runbook, fixture};
use psyche_runbook::psyche::accounts::coordinator_account::{self, CoordinatorAccount, RunState};
use psyche_runbook::psyche::checks::check_run_config;
use psyche_runbook::psyche::config::RunConfig;
use psyche_runbook::psyche::model::Checkpoint;

const CONFIGS: &[&str] =
    &["config.toml", "consilience-state.toml", "light-config-gcs.toml", "light-config.toml", "nano-config.toml"];

fn v1_account() -> (Vec<u8>, CoordinatorAccount) {
    let bytes = std::fs::read(fixture("coordinator-account-v1.bin")).unwrap();
    let account = CoordinatorAccount::decode(&bytes).expect("the v1 fixture decodes");
    (bytes, account)
}

#[test]
fn the_v1_fixture_decodes_to_the_known_run() {
    let (bytes, account) = v1_account();
    assert_eq!(bytes.len(), coordinator_account::SIZE);
    assert_eq!(account.run_id.as_str(), "test");
    match &account.model.llm().checkpoint {
        Checkpoint::Hub(hub) => {
            assert_eq!(hub.repo_id.as_str(), "emozilla/llama2-1.1b-gqa-init");
            assert_eq!(hub.revision, None);
        }
        other => panic!("expected a Hub checkpoint, found {other:?}"),
    }
    assert_eq!(account.future_epoch_rates.earning_rate_total_shared, 1_000_000);
    assert_eq!(account.nonce, 2);
    assert_eq!(account.version, 1);
}

#[test]
fn re_encoding_the_v1_fixture_reproduces_its_bytes() {
    let (bytes, account) = v1_account();
    let mut copy = bytes.clone();
    account.encode_into(&mut copy);
    assert!(copy == bytes, "encode_into changed bytes of the fixture");
    assert_eq!(CoordinatorAccount::decode(&account.encode()).unwrap(), account);
}

#[test]
fn decode_cli_shows_the_fixture_run() {
    let run = Runbook::new()
        .args([
            "decode",
            "coordinator-account",
            fixture("coordinator-account-v1.bin").to_str().unwrap(),
            "--output",
            "json",
        ])
        .run()
        .success();
    let doc = run.json();
    assert_eq!(doc["run_id"], "test");
    assert_eq!(doc["model"]["LLM"]["checkpoint"]["Hub"]["repo_id"], "emozilla/llama2-1.1b-gqa-init");
    assert_eq!(doc["future_epoch_rates"]["earning_rate_total_shared"], 1_000_000);
    assert_eq!(doc["nonce"], 2);
    let text = Runbook::new()
        .args(["decode", "coordinator-account", fixture("coordinator-account-v1.bin").to_str().unwrap()])
        .run()
        .success();
    assert!(
        text.stdout.contains("run_id: test\n") && text.stdout.contains("checkpoint: Hub emozilla/llama2-1.1b-gqa-init")
    );
}

#[test]
fn the_v0_fixture_is_refused_naming_the_layout_version() {
    let path = fixture("coordinator-account-v0.bin");
    let bytes = std::fs::read(&path).unwrap();
    let err = CoordinatorAccount::decode(&bytes).unwrap_err().to_string();
    assert!(err.contains("119160 bytes (layout version 1)") && err.contains("v0"), "{err}");
    let run = Runbook::new().args(["decode", "coordinator-account", path.to_str().unwrap()]).run().code(2);
    assert!(
        run.stderr.contains("found 119072 bytes") && run.stderr.contains("layout before version 1"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn wrong_discriminator_and_version_are_named() {
    let (bytes, _) = v1_account();
    let mut wrong = bytes.clone();
    wrong[0] ^= 0xff;
    let err = CoordinatorAccount::decode(&wrong).unwrap_err().to_string();
    assert!(err.contains("discriminator is"), "{err}");
    let mut v2 = bytes;
    v2[8] = 2;
    let err = CoordinatorAccount::decode(&v2).unwrap_err().to_string();
    assert_eq!(err, "coordinator account layout version 2 is newer than this release understands (1)");
}

#[test]
fn every_upstream_config_parses_and_passes_the_checks() {
    for name in CONFIGS {
        let path = fixture(&format!("configs/{name}"));
        let config = RunConfig::from_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_run_config(&config).unwrap_or_else(|e| panic!("{name}: {e}"));
        Runbook::new().args(["config", "check", path.to_str().unwrap()]).run().success();
    }
}

/// One broken rule per row (spec 4.1 and 4.2): a TOML edit of config.toml and the key the error
/// must name.
#[test]
fn each_rule_broken_once_names_its_key() {
    let base = std::fs::read_to_string(fixture("configs/config.toml")).unwrap();
    let set = |key: &str, value: &str| -> String {
        let mut doc: toml::Table = toml::from_str(&base).unwrap();
        let (table, field) = key.rsplit_once('.').unwrap();
        let mut cursor = &mut doc;
        for part in table.split('.') {
            cursor = cursor.get_mut(part).unwrap().as_table_mut().unwrap();
        }
        let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}")).unwrap()["v"].clone();
        cursor.insert(field.to_string(), value);
        toml::to_string(&doc).unwrap()
    };
    let cases: Vec<(String, &str)> = vec![
        (set("config.warmup_time", "60"), "config.warmup_time"),
        (set("config.cooldown_time", "0"), "config.cooldown_time"),
        (set("config.epoch_time", "0"), "config.epoch_time"),
        (set("config.max_round_train_time", "0"), "config.max_round_train_time"),
        (set("config.max_round_train_time", "60"), "config.max_round_train_time"),
        (set("config.round_witness_time", "0"), "config.round_witness_time"),
        (set("config.waiting_for_members_extra_time", "0"), "config.waiting_for_members_extra_time"),
        (set("config.min_clients", "0"), "config.min_clients"),
        (set("config.init_min_clients", "300"), "config.init_min_clients"),
        (set("config.witness_nodes", "40"), "config.witness_nodes"),
        (set("config.global_batch_size_start", "0"), "config.global_batch_size_start"),
        (set("config.global_batch_size_end", "1024"), "config.global_batch_size_end"),
        (set("config.total_steps", "0"), "config.total_steps"),
        (set("model.LLM.max_seq_len", "0"), "model.LLM.max_seq_len"),
        (set("model.LLM.cold_start_warmup_steps", "4"), "model.LLM.cold_start_warmup_steps"),
        (set("model.LLM.checkpoint", "\"Ephemeral\""), "model.LLM.checkpoint"),
        (set("model.LLM.checkpoint.Hub.repo_id", "\"\""), "model.LLM.checkpoint.Hub.repo_id"),
        (set("model.LLM.checkpoint", "{ Gcs = { bucket = \"\" } }"), "model.LLM.checkpoint.Gcs.bucket"),
        (set("model.LLM.data_location", "{ Server = \"\" }"), "model.LLM.data_location.Server"),
        (
            set("model.LLM.data_location.Http.location", "{ SingleUrl = \"\" }"),
            "model.LLM.data_location.Http.location.SingleUrl",
        ),
        (
            set(
                "model.LLM.data_location.Http.location",
                "{ NumberedFiles = { url_template = \"u\", start_index = 0, n_left_pad_zeros = 0, num_files = 0 } }",
            ),
            "model.LLM.data_location.Http.location.NumberedFiles.num_files",
        ),
        (
            set("model.LLM.data_location.Http.location.Gcp.bucket_name", "\"\""),
            "model.LLM.data_location.Http.location.Gcp.bucket_name",
        ),
        (set("model.LLM.optimizer", "\"Dummy\""), "model.LLM.optimizer"),
    ];
    for (text, key) in cases {
        let config = RunConfig::from_toml_str(&text, "config.toml").unwrap_or_else(|e| panic!("{key}: {e}"));
        let err = check_run_config(&config).expect_err(key);
        assert!(err.0.iter().any(|v| v.key == key), "{key} is not named in: {err}");
        assert!(err.to_string().contains(&format!("{key} = ")), "{err}");
    }
}

#[test]
fn config_check_cli_names_the_key_and_rule() {
    let base = std::fs::read_to_string(fixture("configs/consilience-state.toml")).unwrap();
    let broken = base.replace("witness_nodes = 0", "witness_nodes = 40");
    assert_ne!(base, broken, "the fixture sets witness_nodes = 0");
    let run = Runbook::new().file("c.toml", &broken).args(["config", "check", "c.toml"]).run().code(2);
    assert_eq!(run.stderr, "c.toml: config.witness_nodes = 40: must be <= min_clients (16) and <= 32\n");
}

#[test]
fn strings_that_would_be_truncated_on_chain_are_refused() {
    let base = std::fs::read_to_string(fixture("configs/config.toml")).unwrap();
    let long = base.replace("emozilla/llama2-1.1b-gqa-init", &"x".repeat(65));
    let err = RunConfig::from_toml_str(&long, "c.toml").unwrap_err().to_string();
    assert!(
        err.starts_with("c.toml:") && err.contains("65 bytes does not fit the on-chain field of 64 bytes"),
        "{err}"
    );
}

#[test]
fn unknown_run_state_is_a_layout_error_not_a_panic() {
    let (mut bytes, _) = v1_account();
    bytes[408] = 9;
    let err = CoordinatorAccount::decode(&bytes).unwrap_err().to_string();
    assert_eq!(err, "CoordinatorAccount: run_state at byte 408: unknown variant tag 9");
    assert_eq!(RunState::ALL.len(), 8);
}

#[test]
fn run_report_has_the_json_dump_run_shape() {
    use psyche_runbook::psyche::accounts::instance::CoordinatorInstance;
    use psyche_runbook::psyche::accounts::treasurer::TreasurerRun;
    use psyche_runbook::psyche::report::{run_report, user_report};
    use psyche_runbook::psyche::run_view::{RunView, TreasurerView};
    use solana_sdk::pubkey::Pubkey;

    let (_, mut account) = v1_account();
    account.current_epoch_rates.earning_rate_total_shared = 1_000;
    let instance = CoordinatorInstance {
        bump: 255,
        main_authority: Pubkey::new_unique(),
        join_authority: Pubkey::new_unique(),
        coordinator_account: Pubkey::new_unique(),
        run_id: "test".into(),
    };
    let run = TreasurerRun {
        bump: 254,
        index: 7,
        main_authority: instance.main_authority,
        join_authority: instance.join_authority,
        coordinator_account: instance.coordinator_account,
        coordinator_instance: Pubkey::new_unique(),
        collateral_mint: Pubkey::new_unique(),
        total_claimed_collateral_amount: 0,
        total_claimed_earned_points: 0,
    };
    let claimable: u64 = account.clients.iter().map(|c| c.earned).sum();
    let view = RunView {
        instance_address: Pubkey::new_unique(),
        instance: &instance,
        account_address: instance.coordinator_account,
        account: &account,
        treasurer: Some(TreasurerView {
            address: Pubkey::new_unique(),
            run: &run,
            collateral_amount: claimable + 5_000,
            mint_decimals: 3,
        }),
    };
    let report = run_report(&view).json;
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&report), ["coordinator_account", "coordinator_instance", "treasurer_run"]);
    let ca = &report["coordinator_account"];
    assert_eq!(keys(ca), ["accounting", "address", "clients", "epoch", "nonce", "run_id", "setup", "status"]);
    assert_eq!(ca["run_id"], "test");
    assert_eq!(keys(&ca["setup"]), ["client_version", "config", "metadata", "model"]);
    assert_eq!(ca["setup"]["config"].as_object().unwrap().len(), 14);
    assert_eq!(ca["setup"]["model"]["LLM"]["checkpoint"]["Hub"]["revision"], serde_json::Value::Null);
    assert_eq!(keys(&ca["status"]), ["epoch", "next_active", "state", "step"]);
    assert_eq!(ca["epoch"]["rates"]["future"]["earning"], 1_000_000);
    assert_eq!(ca["nonce"], 2);
    for (id, client) in ca["clients"].as_object().unwrap() {
        assert!(id.parse::<Pubkey>().is_ok(), "clients are keyed by their signer: {id}");
        assert_eq!(keys(client), ["active", "earned", "slashed"]);
    }
    let t = &report["treasurer_run"];
    assert_eq!(t["total_surplus_collateral_amount"], 5.0);
    assert_eq!(t["burn_collateral_amount_per_epoch"], 1.0);
    assert_eq!(t["estimated_funded_epochs_count"], 5.0);
    assert_eq!(t["total_missing_collateral_amount"], 0.0);

    let user = user_report(&Pubkey::new_unique(), 5, &account, None);
    assert_eq!(keys(&user), ["address", "coordinator_account", "lamports", "treasurer_participant"]);
    assert_eq!(user["coordinator_account"]["client"], serde_json::Value::Null);
}
