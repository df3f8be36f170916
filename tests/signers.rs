//! Signers as the Solana CLI knows them. Seed phrases are typed at a pseudo-terminal (the
//! statements reach the REPL through a pipe, as `echo 'payer().pubkey' | … repl` does) and must
//! give exactly the keys the Solana CLI derives — vectors computed apart from this code (a
//! Python SLIP-0010 implementation, checked against agave's crates). A missing Ledger is said
//! before anything runs. Device signing goes through the Ledger's seam with a test device that
//! counts its approvals (built into test builds only): one approval per transaction, none for
//! simulations or resends, bulk work refused up front, and `--fee-payer` keeping the device to
//! what it is the authority of.

mod common;

use common::proxy::Proxy;
use common::validator::Validator;
use common::{BIN, Runbook, Server};
use rexpect::session::spawn_command;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::process::Command;

const PHRASE: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// (source, passphrase, the key the Solana CLI derives).
const VECTORS: [(&str, &str, &str); 9] = [
    ("prompt://", "", "D2PPQSYFe83nDzk96FqGumVU8JA7J8vj2Rhjc2oXzEi5"),
    ("prompt://?key=0/0", "", "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk"),
    ("prompt://?full-path=m/44'/501'/1'/0'", "", "Hh8QwFUA6MtVu1qAoq12ucvFHNwCcVTV7hpWjeY1Hztb"),
    ("ASK", "", "EHqmfkN89RJ7Y33CXM6uCzhVeuywHoJXZZLszBHHZy7o"),
    ("prompt://", "TREZOR", "BwwLFb2UdANxF9FUtE56vVEnyScBYrbijgyJBrBRjMkW"),
    ("prompt://?key=0/0", "TREZOR", "7zSmbu6gKkb6HB7UDPtHYjwCWuBHU1D4TpNZFm4sndQe"),
    ("prompt://?full-path=m/44'/501'/1'/0'", "TREZOR", "8CW93AFYFKj2rKZRq3YjLesb4XbgtAiq8k2FgfruVZL5"),
    ("ASK", "TREZOR", "6UChi37U4BGomEQR665JZNjTM2PiHcUmBCD3e7TD366v"),
    ("prompt:", "psyche", "2Zq5L6WRqpZ33bjdKk7DypsGiwQ3uEkqM7Pok6Yi9zDz"),
];

/// `echo 'payer().pubkey' | psyche-runbook -k SOURCE repl` at a pseudo-terminal: types the
/// phrase (and the passphrase, when asked), returns everything the terminal showed.
fn typed(source: &str, phrase: &str, passphrase: Option<&str>) -> String {
    let rb = Runbook::new();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo 'payer().pubkey' | \"$BIN\" -u devnet -k \"$SOURCE\" repl; echo \"exit $?\""])
        .current_dir(rb.dir())
        .env("HOME", rb.dir())
        .env("BIN", BIN)
        .env("SOURCE", source);
    let mut pty = spawn_command(cmd, Some(60_000)).expect("spawn at a pseudo-terminal");
    pty.exp_string("Seed phrase: ").expect("asked for the seed phrase");
    pty.send_line(phrase).unwrap();
    if let Some(passphrase) = passphrase {
        pty.exp_string("Passphrase (empty for none): ").expect("asked for the passphrase");
        pty.send_line(passphrase).unwrap();
    }
    pty.exp_eof().expect("the REPL ends")
}

#[test]
fn typed_seed_phrases_give_the_keys_the_solana_cli_derives() {
    for (source, passphrase, expected) in VECTORS {
        let shown = typed(source, PHRASE, Some(passphrase));
        assert!(shown.contains(&format!("the seed phrase gives {expected}")), "{source} {passphrase:?}:\n{shown}");
        assert!(shown.contains(&format!("\n{expected}")), "payer().pubkey: {source} {passphrase:?}:\n{shown}");
        assert!(shown.contains("exit 0"), "{shown}");
        assert!(!shown.contains("abandon abandon"), "the phrase is never shown:\n{shown}");
        if !passphrase.is_empty() {
            assert!(!shown.contains(passphrase), "nor the passphrase:\n{shown}");
        }
    }
}

#[test]
fn a_phrase_whose_checksum_fails_is_refused_unless_validation_is_skipped() {
    let bad = PHRASE.replace("about", "abandon");
    let shown = typed("prompt://", &bad, None);
    assert!(shown.contains("the seed phrase is not a BIP39 phrase"), "{shown}");
    assert!(shown.contains("--skip-seed-phrase-validation") && shown.contains("exit 2"), "{shown}");
    assert!(!shown.contains("the seed phrase gives"), "{shown}");
}

#[test]
fn a_missing_ledger_is_named_before_anything_runs() {
    let rb = Runbook::new()
        .file("r.rhai", "print(\"ran\");\ncreate_run(#{ run_id: \"x\" });\n")
        .file("s.rhai", "print(\"ran\");\nlet l = signer(\"usb://ledger\");\ncreate_run(#{ run_id: \"y\" });\n");
    let what_to_do = "no Ledger was found (usb://ledger): connect it by USB, unlock it and open the Solana app";
    let run = rb.run_args(["-k", "usb://ledger", "run", "r.rhai"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(what_to_do) && !run.stderr.contains("ran"), "{}", run.stderr);
    assert!(run.stderr.ends_with("nothing was sent\n"), "{}", run.stderr);
    let repl = rb.run_args(["-u", "devnet", "-k", "usb://ledger/11111111111111111111111111111112", "repl"]);
    assert_eq!(repl.code, 2, "{}", repl.stderr);
    assert!(repl.stderr.contains("no Ledger was found") && repl.stderr.contains("nothing was sent"), "{}", repl.stderr);
    let in_runbook = rb.run_args(["run", "s.rhai"]);
    assert_eq!(in_runbook.code, 2, "{}", in_runbook.stderr);
    assert!(in_runbook.stderr.contains(what_to_do), "{}", in_runbook.stderr);
    assert!(in_runbook.stderr.contains("s.rhai:2:9"), "{}", in_runbook.stderr);
    assert!(in_runbook.stderr.ends_with("nothing was sent\n"), "{}", in_runbook.stderr);
}

/// A key file for the test device, and the approvals it counted so far.
struct TestDevice {
    key: Keypair,
    path: String,
}

impl TestDevice {
    fn new(rb: &Runbook, name: &str) -> Self {
        let key = Keypair::new();
        std::fs::write(rb.path(name), serde_json::to_string(&key.to_bytes().to_vec()).unwrap()).unwrap();
        Self { key, path: rb.path(name).display().to_string() }
    }

    fn source(&self) -> String {
        format!("test-device:{}", self.path)
    }

    fn approvals(&self) -> usize {
        std::fs::read_to_string(format!("{}.approvals", self.path)).map_or(0, |t| t.lines().count())
    }
}

fn keyfile(rb: &Runbook, name: &str) -> Keypair {
    let key = Keypair::new();
    std::fs::write(rb.path(name), serde_json::to_string(&key.to_bytes().to_vec()).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    key
}

fn users(n: usize) -> String {
    let list: Vec<String> = (0..n).map(|_| format!("\"{}\"", Pubkey::new_unique())).collect();
    format!("[{}]", list.join(", "))
}

#[test]
fn a_device_approves_each_transaction_once_and_only_where_it_signs() {
    let rb = Runbook::new();
    let device = TestDevice::new(&rb, "device.json");
    let hot = keyfile(&rb, "hot.json");
    keyfile(&rb, "join.json");
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/configs/quickstart.toml");
    std::fs::copy(config, rb.path("config.toml")).unwrap();
    // On the embedded chain: a collateral mint, tokens and SOL for the device's key.
    let setup = format!(
        "let mint = create_mint(6);\nmint_tokens(mint, pubkey(\"{d}\"), 100.0);\nairdrop(pubkey(\"{d}\"), 10.0);\nairdrop(pubkey(\"{h}\"), 10.0);\noutput(\"mint\", mint);\n",
        d = device.key.pubkey(),
        h = hot.pubkey()
    );
    std::fs::write(rb.path("setup.rhai"), setup).unwrap();
    let mint = rb.run_args(["--output", "json", "run", "setup.rhai"]).success().json()["outputs"]["mint"].clone();
    let server = Server::start(&rb);
    let client = server.client();
    let source = device.source();
    let on_server = |args: &[&str]| {
        let mut all = vec!["-u", server.url.as_str(), "-k", source.as_str(), "--output", "json"];
        all.extend_from_slice(args);
        rb.run_args(all)
    };

    // Creating a run, updating its config and topping it up: one approval per transaction.
    let lifecycle = format!(
        "let r = create_run(#{{ run_id: \"dev\", mint: pubkey(\"{}\") }}).run;\nr.update_config(\"config.toml\");\nr.top_up(5.0);\n",
        mint.as_str().unwrap()
    );
    std::fs::write(rb.path("lifecycle.rhai"), lifecycle).unwrap();
    let run = on_server(&["run", "lifecycle.rhai"]).success();
    let sent = run.json()["signatures"].as_array().unwrap().len();
    assert!(sent >= 3, "{}", run.stdout);
    assert_eq!(device.approvals(), sent, "one approval per transaction:\n{}", run.stderr);
    assert!(run.stderr.contains("approve on the test device"), "{}", run.stderr);
    assert!(run.stderr.contains("coordinator.update") || run.stderr.contains("treasurer.run_update"), "{}", run.stderr);

    // A bulk grant the device would sign 13 times is refused before anything is signed.
    std::fs::write(rb.path("bulk.rhai"), format!("grant_many(payer(), {});\n", users(100))).unwrap();
    let before = device.approvals();
    let refused = on_server(&["run", "bulk.rhai"]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(refused.stderr.contains("takes up to 13 transactions"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--fee-payer"), "{}", refused.stderr);
    assert_eq!(device.approvals(), before, "nothing was signed");

    // A hot key pays: the device approves only what it is the authority of, and pays nothing.
    let device_sol = client.get_balance(&device.key.pubkey()).unwrap();
    let hot_sol = client.get_balance(&hot.pubkey()).unwrap();
    let mixed = format!(
        "run(\"dev\").update_metadata(#{{ description: \"rehearsed\" }});\ngrant_many(signer(\"join.json\"), {});\n",
        users(24)
    );
    std::fs::write(rb.path("mixed.rhai"), mixed).unwrap();
    let run = on_server(&["--fee-payer", "hot.json", "run", "mixed.rhai"]).success();
    let sent = run.json()["signatures"].as_array().unwrap().len();
    assert_eq!(sent, 4, "the metadata update and three grant transactions: {}", run.stdout);
    assert_eq!(device.approvals(), before + 1, "only the metadata update:\n{}", run.stderr);
    assert_eq!(client.get_balance(&device.key.pubkey()).unwrap(), device_sol, "the device paid nothing");
    assert!(client.get_balance(&hot.pubkey()).unwrap() < hot_sol, "the hot key paid");
    assert_eq!(server.stop(), 0);
}

/// The device as the fee payer of a plain transfer on the real validator: its simulation runs
/// unsigned (the device is not asked for it), a lost send is resent with the same bytes, and the
/// device approves once.
#[test]
fn a_device_transfer_on_the_real_validator_is_approved_once_even_when_resent() {
    let Some(validator) = Validator::shared() else { return };
    let rb = Runbook::new();
    let device = TestDevice::new(&rb, "device.json");
    let client = validator.client();
    let funder = validator.funded(3);
    let fund = solana_system_interface::instruction::transfer(&funder.pubkey(), &device.key.pubkey(), LAMPORTS_PER_SOL);
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = solana_sdk::transaction::Transaction::new_signed_with_payer(
        &[fund],
        Some(&funder.pubkey()),
        &[&funder],
        blockhash,
    );
    client.send_and_confirm_transaction(&tx).unwrap();

    let proxy = Proxy::start(&validator.url);
    proxy.lose_next_send();
    let chain = psyche_runbook::chain::client::Chain::connect(&common::settings(&["-u", &proxy.url]), || {}).unwrap();
    let source = psyche_runbook::chain::signer::SignerSource::parse(&device.source()).unwrap();
    let tell: std::sync::Arc<dyn Fn(String) + Send + Sync> = std::sync::Arc::new(|_| {});
    let redactor = psyche_runbook::secrets::redact::Redactor::default();
    let signer = source.load(Default::default(), &mut |_| {}, tell, &redactor).unwrap();
    let to = Pubkey::new_unique();
    let ix = solana_system_interface::instruction::transfer(&device.key.pubkey(), &to, 1_000_000);
    psyche_runbook::chain::landing::send(&chain, "transfer", &[ix], &signer, &[]).expect("the transfer lands");
    assert_eq!(client.get_balance(&to).unwrap(), 1_000_000);
    assert!(proxy.count("simulateTransaction") >= 1, "{:?}", proxy.counts());
    assert!(proxy.count("sendTransaction") >= 2, "the lost send was resent: {:?}", proxy.counts());
    assert_eq!(device.approvals(), 1, "asked once, for the one signing");
}
