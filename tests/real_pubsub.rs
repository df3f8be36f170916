//! The product's PubSub client on real websockets: a solana-test-validator 3.1.12's own (the
//! real-node lane, see `common::validator`; skipped without `PSYCHE_TEST_VALIDATOR`) and
//! `localnet serve`'s. Transfers sent through the product's landing are confirmed by
//! `signatureSubscribe`, an account is followed by `accountSubscribe`, and with the websocket
//! unreachable the same sends land by status polls.

mod common;

use common::validator::Validator;
use common::{Runbook, Server, settings};
use psyche_runbook::chain::client::Chain;
use psyche_runbook::chain::landing;
use psyche_runbook::chain::pubsub::{Pushed, What};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::RpcAccountInfoConfig;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::time::Duration;

fn chain(url: &str, ws_url: &str) -> Chain {
    Chain::connect(&settings(&["-u", url, "--ws-url", ws_url, "--commitment", "confirmed"]), || {}).expect("connect")
}

fn send_transfer(chain: &Chain, payer: &Keypair, to: &Pubkey, lamports: u64) {
    let ix = solana_system_interface::instruction::transfer(&payer.pubkey(), to, lamports);
    landing::send(chain, "transfer", &[ix], payer, &[]).expect("the transfer lands");
}

/// Confirmations by push, an account followed by push, and polling when the websocket is gone.
fn pushes_confirm_and_follow(url: &str, ws_url: &str, payer: &Keypair) {
    let live = chain(url, ws_url);
    for _ in 0..2 {
        send_transfer(&live, payer, &Pubkey::new_unique(), LAMPORTS_PER_SOL / 100);
    }
    assert_eq!(live.confirmations(), (2, 0), "both confirmed by signatureSubscribe");

    let followed = Pubkey::new_unique();
    let (sender, pushes) = std::sync::mpsc::channel();
    let config = RpcAccountInfoConfig {
        encoding: Some(UiAccountEncoding::Base64),
        commitment: Some(CommitmentConfig::confirmed()),
        ..Default::default()
    };
    let _subscribed = live.live().unwrap().subscribe(What::Account(followed, config), sender).expect("subscribed");
    send_transfer(&live, payer, &followed, 1_234_567);
    match pushes.recv_timeout(Duration::from_secs(120)) {
        Ok(Pushed::Account(update)) => assert_eq!(update.value.lamports, 1_234_567),
        _ => panic!("no account notification"),
    }

    // Nothing listens there: the same send lands by status polls.
    let unreachable = chain(url, "ws://127.0.0.1:9");
    send_transfer(&unreachable, payer, &Pubkey::new_unique(), LAMPORTS_PER_SOL / 100);
    assert_eq!(unreachable.confirmations(), (0, 1), "confirmed by polling");
}

#[test]
fn the_validator_websocket_confirms_and_follows_and_polling_takes_over_without_it() {
    let Some(validator) = Validator::shared() else { return };
    let payer = validator.funded(5);
    pushes_confirm_and_follow(&validator.url, &validator.ws_url, &payer);
}

#[test]
fn serve_websocket_confirms_and_follows_and_polling_takes_over_without_it() {
    let rb = Runbook::new();
    let server = Server::start_with(&rb, &["--slot-ms", "50"]);
    let client = server.client();
    let payer = Keypair::new();
    let airdrop = client.request_airdrop(&payer.pubkey(), 5 * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    pushes_confirm_and_follow(&server.url, &server.ws_url, &payer);
    assert_eq!(server.stop(), 0);
}
