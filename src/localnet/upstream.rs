//! Reads of the cluster a fork follows (a dry-run's fork, or one made by `localnet fork`):
//! before a call is answered, the accounts it will read or write that the fork lacks are read
//! from the cluster, a hundred a request, and programs with their programdata. A
//! program-account query is asked of the cluster once per shape (owner and filters); the
//! fork's own accounts and indexes answer it afterwards.

use crate::chain::cluster::RpcUrl;
use crate::chain::http::{Expected, HttpTransport};
use crate::chain::programs::program_data_address;
use crate::localnet::Localnet;
use serde_json::Value;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::RpcClientConfig;
use solana_rpc_client_api::client_error::Result as ClientResult;
use solana_rpc_client_api::config::RpcProgramAccountsConfig;
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use std::sync::Arc;

/// Accounts per `getMultipleAccounts`, as a validator allows.
const PER_REQUEST: usize = 100;

/// The chain a fork's reads go into (its handle).
pub trait Forked: Sync {
    fn lock(&self) -> std::sync::MutexGuard<'_, Localnet>;
}

#[derive(Clone)]
pub struct Upstream {
    client: Arc<RpcClient>,
}

impl Upstream {
    pub fn new(client: Arc<RpcClient>) -> Self {
        Self { client }
    }

    /// The cluster at `url`, whose genesis hash must be `genesis` (the first request confirms
    /// it: a URL that now reaches another cluster is refused).
    pub fn to(url: &str, genesis: &str) -> Result<Self, String> {
        let url = RpcUrl::parse(url)?;
        let expected = Expected { genesis: Some(genesis.to_string()), confirmed: false, cache: None };
        let transport = HttpTransport::new(url, expected);
        let config = RpcClientConfig::with_commitment(CommitmentConfig::confirmed());
        Ok(Self::new(Arc::new(RpcClient::new_sender(transport, config))))
    }

    pub fn client(&self) -> &RpcClient {
        &self.client
    }

    /// Reads from the cluster what `method` with `params` will need that the fork lacks.
    pub async fn prefetch(&self, handle: &dyn Forked, method: &str, params: &Value) -> ClientResult<()> {
        let key = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|k| k.parse::<Pubkey>().ok());
        let keys: Vec<Pubkey> = match method {
            "getAccountInfo" | "getBalance" | "getTokenAccountBalance" | "requestAirdrop" => {
                key(params.get(0)).into_iter().collect()
            }
            "getMultipleAccounts" => params
                .get(0)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|k| k.as_str()?.parse().ok()).collect())
                .unwrap_or_default(),
            "sendTransaction" | "simulateTransaction" => {
                transaction_of(params).map(|tx| tx.message.static_account_keys().to_vec()).unwrap_or_default()
            }
            "getProgramAccounts" => match key(params.get(0)) {
                Some(owner) => return self.program_accounts(handle, &owner, params.get(1)).await,
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        self.fetch(handle, keys).await?;
        // A token balance needs its mint too.
        if method == "getTokenAccountBalance" {
            let mint = key(params.get(0)).and_then(|k| handle.lock().token_balance(&k)).map(|(_, mint)| mint);
            self.fetch(handle, mint.into_iter().collect()).await?;
        }
        Ok(())
    }

    /// Reads `keys` the fork lacks, and the programdata of upgradeable programs among them.
    pub async fn fetch(&self, handle: &dyn Forked, mut keys: Vec<Pubkey>) -> ClientResult<()> {
        keys.retain(|k| handle.lock().needs_fetch(k));
        self.read(handle, keys).await
    }

    /// Reads `keys` from the cluster whatever the fork holds of them (a refresh).
    pub async fn read(&self, handle: &dyn Forked, mut keys: Vec<Pubkey>) -> ClientResult<()> {
        keys.sort();
        keys.dedup();
        for chunk in keys.chunks(PER_REQUEST) {
            let accounts = self.client.get_multiple_accounts(chunk).await?;
            let mut read: Vec<_> = chunk.iter().copied().zip(accounts).collect();
            let programdata: Vec<Pubkey> = read
                .iter()
                .filter_map(|(_, a)| a.as_ref().and_then(program_data_address))
                .filter(|p| handle.lock().needs_fetch(p))
                .collect();
            if !programdata.is_empty() {
                let data = self.client.get_multiple_accounts(&programdata).await?;
                read.extend(programdata.into_iter().zip(data));
            }
            handle.lock().insert_fetched(read);
        }
        Ok(())
    }

    /// `fetch` outside an async context (localnet services, simulated clients); asks nothing
    /// when the fork holds every key already.
    pub fn fetch_now(&self, handle: &dyn Forked, mut keys: Vec<Pubkey>) -> Result<(), String> {
        keys.retain(|k| handle.lock().needs_fetch(k));
        if keys.is_empty() {
            return Ok(());
        }
        block_on(self.fetch(handle, keys))
    }

    /// Every account `owner` holds on the cluster, outside an async context, the first time
    /// a fork asks (a query of that shape).
    pub fn program_accounts_now(&self, handle: &dyn Forked, owner: &Pubkey) -> Result<(), String> {
        if handle.lock().was_asked(&shape(owner, None)) {
            return Ok(());
        }
        block_on(self.program_accounts(handle, owner, None))
    }

    /// The accounts a program-account query of this shape finds on the cluster, the first
    /// time it is asked.
    async fn program_accounts(&self, handle: &dyn Forked, owner: &Pubkey, config: Option<&Value>) -> ClientResult<()> {
        let shape = shape(owner, config);
        if handle.lock().was_asked(&shape) {
            return Ok(());
        }
        let mut config: RpcProgramAccountsConfig =
            config.cloned().map(serde_json::from_value).transpose().ok().flatten().unwrap_or_default();
        // Whole accounts, whatever the caller asked to see of them.
        config.account_config.encoding = Some(UiAccountEncoding::Base64);
        config.account_config.data_slice = None;
        let found = self.client.get_program_ui_accounts_with_config(owner, config).await?;
        let mut net = handle.lock();
        let read: Vec<_> = found
            .into_iter()
            .filter(|(key, _)| net.needs_fetch(key))
            .filter_map(|(key, ui)| ui.decode::<Account>().map(|account| (key, Some(account))))
            .collect();
        net.insert_fetched(read);
        net.asked(&shape);
        Ok(())
    }
}

/// Runs a read of the cluster on a runtime of its own, for callers outside an async context.
fn block_on(read: impl std::future::Future<Output = ClientResult<()>>) -> Result<(), String> {
    let failed = |e: &dyn std::fmt::Display| format!("reading the forked cluster: {e}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| failed(&e))?;
    runtime.block_on(read).map_err(|e| failed(&e))
}

/// What tells program-account queries apart: the owner and the filters.
fn shape(owner: &Pubkey, config: Option<&Value>) -> String {
    format!("{owner} {}", config.map(strip_encoding).unwrap_or_default())
}

/// A query's config without what only changes how accounts are encoded.
fn strip_encoding(config: &Value) -> String {
    let mut config = config.clone();
    if let Some(map) = config.as_object_mut() {
        map.remove("encoding");
        map.remove("commitment");
        map.remove("withContext");
        map.remove("dataSlice");
    }
    config.to_string()
}

/// The transaction in `sendTransaction`/`simulateTransaction` params.
pub fn transaction_of(params: &Value) -> Option<solana_sdk::transaction::VersionedTransaction> {
    use base64::Engine as _;
    let text = params.get(0)?.as_str()?;
    let base64 = params.get(1).and_then(|c| c.get("encoding")).and_then(Value::as_str) == Some("base64");
    let bytes = if base64 {
        base64::engine::general_purpose::STANDARD.decode(text).ok()?
    } else {
        bs58::decode(text).into_vec().ok()?
    };
    bincode::deserialize(&bytes).ok()
}
