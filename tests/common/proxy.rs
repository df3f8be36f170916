//! A JSON-RPC proxy on loopback in front of a node (a validator or `localnet serve`): it counts
//! every method it forwards (each request of a batch), and can lose sends as a network does —
//! `sendTransaction` of a chosen transaction is answered with its signature but never
//! forwarded —, hold sends (forwarded, never answered: the client's transaction is in flight
//! for as long as the test likes), and answer `getGenesisHash` with a hash of its choosing (a
//! provider's URL in front of another cluster).

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    counts: BTreeMap<String, usize>,
    /// Lose every send of the first transaction sent through the proxy.
    lose_first_transaction: bool,
    /// Lose the next send only (its resends go through).
    lose_next_send: bool,
    lost: Option<String>,
    /// Sends forwarded but never answered.
    hold_sends: bool,
    /// Sends answered before they are held (`hold_sends_after`).
    answered_sends: Option<usize>,
    /// What `getGenesisHash` answers instead of the node's hash.
    genesis: Option<String>,
    /// Bodies of the HTTP requests received, in order.
    bodies: Vec<Value>,
}

pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    pub fn start(target: &str) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let (target, shared) = (target.to_string(), Arc::clone(&state));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let client = reqwest::Client::new();
                let app = axum::Router::new().fallback(axum::routing::post(move |body: axum::body::Bytes| {
                    let (client, target, state) = (client.clone(), target.clone(), Arc::clone(&shared));
                    async move { axum::Json(forward(&client, &target, &state, &body).await) }
                }));
                axum::serve(listener, app).await.unwrap();
            });
        });
        let address = rx.recv().unwrap();
        Self { url: format!("http://{address}"), state }
    }

    /// From now on, every send of the next transaction sent is lost (answered, not forwarded).
    pub fn lose_next_transaction(&self) {
        self.state.lock().unwrap().lose_first_transaction = true;
    }

    /// The signature whose sends were lost.
    pub fn lost(&self) -> Option<String> {
        self.state.lock().unwrap().lost.clone()
    }

    /// The next send is lost (answered, not forwarded); resends of the same bytes go through.
    pub fn lose_next_send(&self) {
        self.state.lock().unwrap().lose_next_send = true;
    }

    /// From now on, sends are forwarded to the node but never answered.
    pub fn hold_sends(&self) {
        self.state.lock().unwrap().hold_sends = true;
    }

    /// The next `n` sends are answered; every later one is forwarded but never answered.
    pub fn hold_sends_after(&self, n: usize) {
        let mut state = self.state.lock().unwrap();
        state.answered_sends = Some(n);
        state.hold_sends = false;
    }

    /// From now on, `getGenesisHash` answers `hash`.
    pub fn answer_genesis(&self, hash: &str) {
        self.state.lock().unwrap().genesis = Some(hash.to_string());
    }

    /// Every HTTP request body received so far (a batch is one).
    pub fn bodies(&self) -> Vec<Value> {
        self.state.lock().unwrap().bodies.clone()
    }

    pub fn count(&self, method: &str) -> usize {
        self.state.lock().unwrap().counts.get(method).copied().unwrap_or(0)
    }

    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.state.lock().unwrap().counts.clone()
    }
}

/// The first signature of a base58 or base64 wire transaction.
fn signature_of(request: &Value) -> Option<String> {
    use base64::Engine as _;
    let encoded = request["params"][0].as_str()?;
    let bytes = match request["params"][1]["encoding"].as_str() {
        Some("base64") => base64::engine::general_purpose::STANDARD.decode(encoded).ok()?,
        _ => bs58::decode(encoded).into_vec().ok()?,
    };
    let tx: solana_sdk::transaction::VersionedTransaction = bincode::deserialize(&bytes).ok()?;
    tx.signatures.first().map(ToString::to_string)
}

async fn forward(client: &reqwest::Client, target: &str, state: &Mutex<State>, body: &[u8]) -> Value {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    state.lock().unwrap().bodies.push(request.clone());
    match request {
        Value::Array(batch) => {
            let mut answers = Vec::new();
            for one in batch {
                answers.push(Box::pin(forward_one(client, target, state, one)).await);
            }
            Value::Array(answers)
        }
        one => forward_one(client, target, state, one).await,
    }
}

async fn forward_one(client: &reqwest::Client, target: &str, state: &Mutex<State>, request: Value) -> Value {
    let method = request["method"].as_str().unwrap_or("").to_string();
    let (lost, hold, genesis) = {
        let mut state = state.lock().unwrap();
        *state.counts.entry(method.clone()).or_default() += 1;
        let signature = (method == "sendTransaction").then(|| signature_of(&request)).flatten();
        let lost = match (&signature, state.lost.clone()) {
            (Some(_), _) if state.lose_next_send => {
                state.lose_next_send = false;
                true
            }
            (Some(s), Some(lost)) => *s == lost,
            (Some(s), None) if state.lose_first_transaction => {
                state.lost = Some(s.clone());
                true
            }
            _ => false,
        };
        let genesis = state.genesis.clone().filter(|_| method == "getGenesisHash");
        if method == "sendTransaction"
            && let Some(left) = state.answered_sends.as_mut()
        {
            match left.checked_sub(1) {
                Some(fewer) => *left = fewer,
                None => state.hold_sends = true,
            }
        }
        (lost.then_some(signature).flatten(), state.hold_sends && method == "sendTransaction", genesis)
    };
    if let Some(signature) = lost {
        return json!({"jsonrpc": "2.0", "id": request["id"], "result": signature});
    }
    if let Some(hash) = genesis {
        return json!({"jsonrpc": "2.0", "id": request["id"], "result": hash});
    }
    let response = client.post(target).header("content-type", "application/json").json(&request).send().await;
    if hold {
        // Landed on the node; the client never hears of it.
        std::future::pending::<()>().await;
    }
    match response {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(e) => json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32603, "message": e.to_string()}}),
    }
}
