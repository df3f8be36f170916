//! `localnet serve`'s PubSub websocket answers as a real solana-test-validator 3.1.12's does,
//! while simulated clients train a run. Every recorded exchange in
//! `tests/fixtures/rpc/solana-test-validator-3.1.12-pubsub.json` is replayed over a raw
//! websocket on serve's chain: answers, notifications and unsubscribe answers compare by shape,
//! errors by code and message. The ecosystem's own client (`solana-pubsub-client`) then hears
//! every kind of subscription; 1,000 subscriptions on 50 connections are served at once, and a
//! consumer that stops reading is disconnected, and named to the operator, without holding up
//! the others.

mod common;

use common::shape::shape_differences;
use common::{Runbook, Server, fast_config, fixture};
use futures_util::{SinkExt, StreamExt};
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::instance::CoordinatorInstance;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::pdas;
use serde_json::{Value, json};
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSignatureSubscribeConfig, RpcTransactionLogsConfig,
    RpcTransactionLogsFilter,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous: a loaded machine may take seconds for what takes milliseconds.
const PATIENCE: Duration = Duration::from_secs(120);

fn recorded() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("rpc/solana-test-validator-3.1.12-pubsub.json")).unwrap())
        .unwrap()
}

fn assert_shape(expected: &Value, actual: &Value, what: &str) {
    let mut out = Vec::new();
    shape_differences(expected, actual, what, &mut out);
    assert!(out.is_empty(), "{what}: {out:?}\nvalidator: {expected}\nserve: {actual}");
}

/// A websocket spoken to frame by frame, notifications kept aside while waiting for answers.
struct Raw {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    notifications: VecDeque<Value>,
}

impl Raw {
    async fn open(url: &str) -> Self {
        let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("serve's websocket accepts");
        Self { socket, notifications: VecDeque::new() }
    }

    /// `open` on a socket with a small receive buffer (little of what it is sent can wait in
    /// the kernel), and the address the server sees it connect from.
    async fn open_small(url: &str) -> (Self, std::net::SocketAddr) {
        let address: std::net::SocketAddr = url.trim_start_matches("ws://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(address).await.unwrap();
        let local = stream.local_addr().unwrap();
        let (socket, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream)).await.unwrap();
        (Self { socket, notifications: VecDeque::new() }, local)
    }

    async fn frame(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.socket.next()).await.expect("a frame in time");
            match frame.expect("the socket stays open").expect("a good frame") {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Sends `text` and returns the answer to it (the next frame that is not a notification).
    async fn send_text(&mut self, text: String) -> Value {
        self.socket.send(Message::text(text)).await.unwrap();
        loop {
            let frame = self.frame().await;
            if frame.get("method").is_some() {
                self.notifications.push_back(frame);
            } else {
                return frame;
            }
        }
    }

    async fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send_text(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()).await
    }

    /// The next notification of `subscription`.
    async fn notification(&mut self, subscription: &Value) -> Value {
        loop {
            if let Some(i) = self.notifications.iter().position(|n| &n["params"]["subscription"] == subscription) {
                return self.notifications.remove(i).unwrap();
            }
            let frame = self.frame().await;
            self.notifications.push_back(frame);
        }
    }
}

/// A served chain with a run that three simulated clients train, and a funded key.
struct Training {
    rb: Runbook,
    server: Server,
    key: Keypair,
    client: RpcClient,
    coordinator_account: Pubkey,
}

fn training() -> Training {
    let key = Keypair::new();
    let rb = Runbook::new()
        .file("id.json", &serde_json::to_string(&key.to_bytes().to_vec()).unwrap())
        .file("fast.toml", &fast_config(25_000));
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = Server::start_with(&rb, &["--clients", "3", "--run", "live"]);
    let client = server.client();
    let airdrop = client.request_airdrop(&key.pubkey(), 10 * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    let create = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runbooks/create-public-run.rhai");
    let fast = rb.path("fast.toml").display().to_string();
    let created = rb
        .run_args([
            "-v",
            "run",
            &create.display().to_string(),
            "--set",
            "run_id=live",
            "--set",
            &format!("config={fast}"),
            "-u",
            &server.url,
            "--ws-url",
            &server.ws_url,
            "-k",
            "id.json",
        ])
        .success();
    // The product's own client confirmed what it sent through serve's websocket.
    assert!(created.stderr.contains("by signatureSubscribe, 0 by status polls"), "{}", created.stderr);
    let instance = client.get_account(&pdas::coordinator_instance(&ProgramIds::default(), "live")).unwrap();
    let coordinator_account = CoordinatorInstance::decode(&instance.data).unwrap().coordinator_account;
    Training { rb, server, key, client, coordinator_account }
}

fn transfer(t: &Training, to: &Pubkey) -> Transaction {
    let ix = solana_system_interface::instruction::transfer(&t.key.pubkey(), to, LAMPORTS_PER_SOL / 100);
    let blockhash = t.client.get_latest_blockhash().unwrap();
    Transaction::new_signed_with_payer(&[ix], Some(&t.key.pubkey()), &[&t.key], blockhash)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn serve_pubsub_answers_as_the_validator_does_while_a_run_trains() {
    let t = training();
    let recorded = recorded();
    let kinds = &recorded["subscriptions"];
    let payer = t.key.pubkey().to_string();
    let coordinator = t.coordinator_account.to_string();
    let program = ProgramIds::default().coordinator.to_string();
    let size = t.client.get_account(&t.coordinator_account).unwrap().data.len();
    runtime().block_on(async {
        let mut ws = Raw::open(&t.server.ws_url).await;
        // What a transfer from the payer makes heard: its account (jsonParsed), its logs (all and
        // mentions), its signature (processed only: the recorded validator sent no received
        // notification for a transaction submitted over HTTP, and neither does serve).
        let to = Pubkey::new_unique();
        let tx = transfer(&t, &to);
        let signature = tx.signatures[0].to_string();
        let subscriptions = [
            ("slotSubscribe", json!([])),
            ("rootSubscribe", json!([])),
            ("accountSubscribe base64", json!([coordinator, {"encoding": "base64", "commitment": "confirmed"}])),
            ("accountSubscribe jsonParsed", json!([payer, {"encoding": "jsonParsed", "commitment": "confirmed"}])),
            (
                "programSubscribe",
                json!([program, {"encoding": "base64", "commitment": "confirmed", "filters": [{"dataSize": size}]}]),
            ),
            (
                "signatureSubscribe received",
                json!([signature, {"commitment": "confirmed", "enableReceivedNotification": true}]),
            ),
            ("logsSubscribe all", json!(["all", {"commitment": "confirmed"}])),
            ("logsSubscribe mentions", json!([{"mentions": [payer]}, {"commitment": "confirmed"}])),
        ];
        let mut ids = Vec::new();
        for (i, (name, params)) in subscriptions.iter().enumerate() {
            let method = name.split(' ').next().unwrap();
            let answer = ws.call(i as u64 + 1, method, params.clone()).await;
            assert_shape(&kinds[*name]["answer"], &answer, &format!("{name} answer"));
            ids.push(answer["result"].clone());
        }
        t.client.send_and_confirm_transaction(&tx).unwrap();
        for ((name, _), id) in subscriptions.iter().zip(&ids) {
            let heard = ws.notification(id).await;
            let model = match *name {
                "rootSubscribe" => {
                    json!({"jsonrpc": "2.0", "method": "rootNotification", "params": {"result": 0, "subscription": 0}})
                }
                "signatureSubscribe received" => {
                    assert_ne!(heard["params"]["result"]["value"], "receivedSignature", "{heard}");
                    kinds[*name]["notifications"][0].clone()
                }
                _ => kinds[*name]["notifications"][0].clone(),
            };
            assert_shape(&model, &heard, name);
        }
        // Unsubscribing: true, except for a signature subscription, which ended with its result.
        for (i, ((name, _), id)) in subscriptions.iter().zip(&ids).enumerate() {
            let method = name.split(' ').next().unwrap().replace("Subscribe", "Unsubscribe");
            let answer = ws.call(100 + i as u64, &method, json!([id])).await;
            assert_shape(&kinds[*name]["unsubscribe"], &answer, &format!("{name} unsubscribe"));
            assert_eq!(answer.get("error"), kinds[*name]["unsubscribe"].get("error"), "{name}: {answer}");
        }
        // A signature settled before it was asked about is answered at once, then ended.
        let answer = ws.call(200, "signatureSubscribe", json!([signature, {"commitment": "confirmed"}])).await;
        let at_once = ws.notification(&answer["result"]).await;
        assert_shape(&kinds["signatureSubscribe"]["notifications"][0], &at_once, "settled signature");

        // Bad requests get the validator's codes and messages.
        let errors = &recorded["errors"];
        let bad = [
            ("unknown method", json!({"jsonrpc": "2.0", "id": 3, "method": "fooSubscribe", "params": []}).to_string()),
            (
                "bad pubkey",
                json!({"jsonrpc": "2.0", "id": 4, "method": "accountSubscribe", "params": ["not-a-key"]}).to_string(),
            ),
            (
                "missing params",
                json!({"jsonrpc": "2.0", "id": 5, "method": "accountSubscribe", "params": []}).to_string(),
            ),
            (
                "unsubscribe unknown id",
                json!({"jsonrpc": "2.0", "id": 6, "method": "accountUnsubscribe", "params": [987654]}).to_string(),
            ),
            ("not json", "{not json".to_string()),
            (
                "bad signature",
                json!({"jsonrpc": "2.0", "id": 7, "method": "signatureSubscribe", "params": ["xyz"]}).to_string(),
            ),
        ];
        for (name, text) in bad {
            let answer = ws.send_text(text).await;
            assert_eq!(answer, errors[name], "{name}");
        }
        // The connection survives bad frames.
        let answer = ws.call(300, "slotSubscribe", json!([])).await;
        assert!(answer["result"].is_u64(), "{answer}");
    });
    assert_eq!(t.server.stop(), 0);
    drop(t.rb);
}

#[test]
fn the_ecosystem_pubsub_client_hears_every_kind_on_serve() {
    let t = training();
    let to = Pubkey::new_unique();
    let tx = transfer(&t, &to);
    let coordinator_program = ProgramIds::default().coordinator;
    let size = t.client.get_account(&t.coordinator_account).unwrap().data.len() as u64;
    // The run id's bytes sit in the coordinator account right after its discriminator.
    let head = t.client.get_account(&t.coordinator_account).unwrap().data[..8].to_vec();
    runtime().block_on(async {
        let client = PubsubClient::new(t.server.ws_url.as_str()).await.unwrap();
        let confirmed = Some(CommitmentConfig::confirmed());
        let account_config = RpcAccountInfoConfig {
            encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
            commitment: confirmed,
            ..Default::default()
        };
        let (mut account, _) = client.account_subscribe(&t.coordinator_account, Some(account_config.clone())).await.unwrap();
        let program_config = RpcProgramAccountsConfig {
            filters: Some(vec![RpcFilterType::DataSize(size), RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, &head))]),
            account_config: account_config.clone(),
            ..Default::default()
        };
        let (mut program, _) = client.program_subscribe(&coordinator_program, Some(program_config)).await.unwrap();
        let signature_config =
            RpcSignatureSubscribeConfig { commitment: confirmed, enable_received_notification: Some(false) };
        let (mut signature, _) = client.signature_subscribe(&tx.signatures[0], Some(signature_config)).await.unwrap();
        let (mut slots, _) = client.slot_subscribe().await.unwrap();
        let (mut roots, _) = client.root_subscribe().await.unwrap();
        let logs_config = RpcTransactionLogsConfig { commitment: confirmed };
        let (mut all_logs, _) = client.logs_subscribe(RpcTransactionLogsFilter::All, logs_config.clone()).await.unwrap();
        let mentions = RpcTransactionLogsFilter::Mentions(vec![to.to_string()]);
        let (mut mention_logs, _) = client.logs_subscribe(mentions, logs_config).await.unwrap();
        let sent = tokio::task::spawn_blocking({
            let url = t.server.url.clone();
            move || RpcClient::new_with_commitment(url, CommitmentConfig::confirmed()).send_and_confirm_transaction(&tx)
        });
        let trained = heard("account", &mut account).await;
        assert_eq!(trained.value.owner, coordinator_program.to_string());
        let keyed = heard("program", &mut program).await;
        assert_eq!(keyed.value.pubkey, t.coordinator_account.to_string(), "the filters select the run's account");
        let settled = heard("signature", &mut signature).await;
        assert!(
            matches!(settled.value, solana_rpc_client_api::response::RpcSignatureResult::ProcessedSignature(ref r) if r.err.is_none()),
            "{settled:?}"
        );
        let slot = heard("slot", &mut slots).await;
        assert_eq!(slot.parent + 1, slot.slot);
        let root = heard("root", &mut roots).await;
        assert!(root < slot.slot + 1);
        let logs = heard("logs", &mut all_logs).await;
        assert!(!logs.value.logs.is_empty());
        let mentioned =
            heard("mentions", &mut mention_logs).await;
        assert_eq!(mentioned.value.signature, settled_signature(&sent.await.unwrap().unwrap()));
    });
    assert_eq!(t.server.stop(), 0);
}

/// The next item of a subscription's stream, within `PATIENCE`.
async fn heard<T>(what: &str, stream: &mut (impl futures_util::Stream<Item = T> + Unpin)) -> T {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(item)) => item,
        Ok(None) => panic!("{what}: the subscription ended"),
        Err(_) => panic!("{what}: nothing heard in time"),
    }
}

fn settled_signature(signature: &solana_sdk::signature::Signature) -> String {
    signature.to_string()
}

#[test]
fn a_thousand_subscriptions_on_fifty_connections_and_a_consumer_that_stops_reading() {
    let rb = Runbook::new();
    // Fast slots: every slot subscription hears hundreds of notifications a second.
    let server = Server::start_with(&rb, &["--slot-ms", "50"]);
    runtime().block_on(async {
        let mut connections = Vec::new();
        for c in 0..50 {
            let mut ws = Raw::open(&server.ws_url).await;
            let mut ids = Vec::new();
            for s in 0..20 {
                let answer = ws.call(c * 100 + s, "slotSubscribe", json!([])).await;
                ids.push(answer["result"].clone());
            }
            connections.push((ws, ids));
        }
        // A consumer that subscribes and never reads: not even its answers. The server may
        // drop it before the last request is written.
        let (mut stalled, stalled_from) = Raw::open_small(&server.ws_url).await;
        for s in 0..500 {
            let request = json!({"jsonrpc": "2.0", "id": 10_000 + s, "method": "slotSubscribe", "params": []});
            if stalled.socket.send(Message::text(request.to_string())).await.is_err() {
                break;
            }
        }
        // Every subscription on every other connection is served, while the stalled one's
        // queue fills.
        for round in 0..3 {
            for (ws, ids) in connections.iter_mut() {
                for id in ids.iter() {
                    let heard = ws.notification(id).await;
                    assert!(heard["params"]["result"]["slot"].is_u64(), "round {round}: {heard}");
                }
                ws.notifications.clear();
            }
        }
        // Its queue overflows only once the kernel's buffers and the websocket's are full too:
        // tens of thousands of notifications, seconds on a quiet machine and many more on a
        // busy one. The operator is told which peer was closed; until then the others are
        // read, as live consumers are, so only the stalled one falls behind.
        let deadline = std::time::Instant::now() + Duration::from_secs(600);
        let warning = loop {
            if let Some(line) = server.logged("stopped reading") {
                break line;
            }
            assert!(std::time::Instant::now() < deadline, "serve never closed the consumer that stopped reading");
            for (ws, ids) in connections.iter_mut() {
                ws.notification(&ids[0]).await;
                ws.notifications.clear();
            }
        };
        assert!(warning.contains(&format!("closed the connection from {stalled_from}")), "{warning}");
        // The stalled consumer was disconnected: reading what it was sent ends in a close.
        let closed = tokio::time::timeout(PATIENCE, async {
            loop {
                match stalled.socket.next().await {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the consumer that stopped reading was disconnected");
        // And the others still hear.
        let (ws, ids) = &mut connections[0];
        let heard = ws.notification(&ids[0]).await;
        assert!(heard["params"]["result"]["slot"].is_u64());
    });
    assert_eq!(server.stop(), 0);
}
