//! Which cluster an execution talks to: its genesis hash, whatever URL reached it. Journal
//! settlement, the execution lock, `[programs.*]`/`[limits.*]` layers and the mainnet guard key
//! on it, so two providers' URLs of mainnet (or `localhost` and `127.0.0.1`) are one cluster,
//! and a proxy or provider URL without "mainnet" in it is still mainnet.
//!
//! Knowing it must not cost a round trip on every cron run: the genesis hash of each URL is
//! cached in the state directory (`clusters.json`, 0600, keyed by a hash of the URL, so no
//! credential is written), trusted for the lock and settlement, and confirmed inside the
//! execution's first request (`chain::http`). A URL seen for the first time is asked once.

use crate::chain::cluster::{Cluster, RpcUrl};
use crate::files::private::{Readers, private_dir, write_atomic};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Genesis hashes of Solana's public clusters, and the names they go by.
pub const KNOWN: [(&str, &str); 3] = [
    ("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d", "mainnet-beta"),
    ("EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG", "devnet"),
    ("4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY", "testnet"),
];

/// How long the first request to an unknown URL may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The genesis hash of Solana's public endpoint at `url` (`-u mainnet-beta`, `devnet`, `testnet`).
fn public_endpoint(url: &RpcUrl) -> Option<&'static str> {
    let moniker = url.legacy_name();
    KNOWN.iter().find(|(_, name)| *name == moniker).map(|(hash, _)| *hash)
}

/// The name of a well-known genesis hash.
pub fn moniker(genesis: &str) -> Option<&'static str> {
    KNOWN.iter().find(|(hash, _)| *hash == genesis).map(|(_, name)| *name)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// What journals and locks key on: `genesis:HASH`, or `embedded:DIR` for the embedded chain
    /// (`url:HASH` while an RPC cluster's genesis hash is not known, for offline commands).
    pub key: String,
    pub genesis: Option<String>,
    /// The name shown wherever the cluster is named: a moniker, `embedded`, or the URL's
    /// scheme, host and port.
    pub name: String,
    /// Which of the execution's URLs (0 the cluster's, then the fallbacks) answered the genesis
    /// hash while settings were resolved: its first request need not confirm it.
    pub read_from: Option<usize>,
    /// The names earlier releases keyed journals on for this cluster.
    legacy: Vec<String>,
    /// For a localnet forked from a cluster, that cluster's name and genesis hash: its
    /// `[programs.*]`/`[limits.*]` tables apply to the fork.
    pub origin: Option<(String, String)>,
}

impl Identity {
    /// The embedded chain in `localnet_dir`: each localnet directory is a cluster of its own,
    /// a fork of a cluster too (it is named after the cluster it forks).
    pub fn embedded(localnet_dir: &Path) -> Self {
        let dir = std::path::absolute(localnet_dir).unwrap_or_else(|_| localnet_dir.to_path_buf());
        let fork = crate::localnet::fork_file::ForkFile::read(localnet_dir);
        Self {
            key: format!("embedded:{}", dir.display()),
            genesis: None,
            name: fork.as_ref().map_or_else(|| "embedded".into(), |f| format!("fork of {}", f.name)),
            read_from: None,
            legacy: vec!["embedded".into()],
            origin: fork.map(|f| (f.name, f.genesis)),
        }
    }

    /// The cluster at `url`, with its genesis hash when known (and which URL it was just read
    /// from).
    pub fn rpc(url: &RpcUrl, genesis: Option<String>, read_from: Option<usize>) -> Self {
        let name = genesis.as_deref().and_then(moniker).map_or_else(|| url.display(), str::to_string);
        let key = match &genesis {
            Some(hash) => format!("genesis:{hash}"),
            None => format!("url:{}", url_key(url.expose())),
        };
        let mut legacy = vec![url.legacy_name().to_string(), url.expose().to_string()];
        // Earlier releases named the well-known URLs by moniker: any URL of that cluster now is.
        legacy.extend(genesis.as_deref().and_then(moniker).map(str::to_string));
        legacy.dedup();
        Self { key, genesis, name, read_from, legacy, origin: None }
    }

    /// The identity `settings` can know without a network call: the embedded directory, a
    /// cached genesis hash, or the genesis hash of Solana's public endpoint for that cluster
    /// (each is still confirmed by the first request).
    pub fn offline(cluster: &Cluster, localnet_dir: &Path, cache: &GenesisCache) -> Self {
        match cluster {
            Cluster::Embedded => Self::embedded(localnet_dir),
            Cluster::Rpc { url } => {
                let genesis = cache.get(url.expose()).or_else(|| public_endpoint(url).map(str::to_string));
                Self::rpc(url, genesis, None)
            }
        }
    }

    pub fn is_mainnet(&self) -> bool {
        self.moniker() == Some("mainnet-beta")
    }

    /// `mainnet-beta`, `devnet` or `testnet` for their genesis hashes.
    pub fn moniker(&self) -> Option<&'static str> {
        self.genesis.as_deref().and_then(moniker)
    }

    /// The names `[programs.NAME]` and `[limits.NAME]` tables may use for this cluster, most
    /// specific last: the URL's display, its legacy name (tables written under a URL keep
    /// working), then the moniker of its genesis hash.
    pub fn table_names(&self, cluster: &Cluster) -> Vec<String> {
        let mut names = match cluster {
            Cluster::Embedded => vec!["embedded".to_string()],
            Cluster::Rpc { url } => vec![url.display(), url.legacy_name().to_string()],
        };
        // A fork takes its cluster's tables, most specific of all.
        if let Some((name, genesis)) = &self.origin {
            names.push(name.clone());
            names.extend(moniker(genesis).map(str::to_string));
        }
        names.extend(self.moniker().map(str::to_string));
        names.dedup();
        names
    }

    /// True when a journal started under `key` (or, by an earlier release, under the name
    /// `legacy`) is this cluster's.
    pub fn owns(&self, key: Option<&str>, legacy: &str, cache: &GenesisCache) -> bool {
        match key {
            Some(key) => key == self.key,
            None => {
                self.legacy.iter().any(|name| name == legacy)
                    || (self.genesis.is_some() && cache.get(legacy) == self.genesis)
            }
        }
    }
}

/// The cached genesis hash of each URL seen: `STATE_DIR/clusters.json`, `{hash of URL: genesis}`.
#[derive(Debug, Clone)]
pub struct GenesisCache {
    path: PathBuf,
}

/// What the cache keys a URL by: a hash, so the file holds no credential.
fn url_key(url: &str) -> String {
    solana_sdk::hash::hashv(&[b"psyche-runbook cluster url", url.as_bytes()]).to_string()
}

impl GenesisCache {
    pub fn in_state_dir(dir: &Path) -> Self {
        Self { path: dir.join("clusters.json") }
    }

    fn entries(&self) -> BTreeMap<String, String> {
        std::fs::read(&self.path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
    }

    /// The genesis hash last seen at `url` (its text).
    pub fn get(&self, url: &str) -> Option<String> {
        self.entries().remove(&url_key(url))
    }

    /// Remembers `genesis` for `url`.
    pub fn put(&self, url: &str, genesis: &str) -> std::io::Result<()> {
        let mut entries = self.entries();
        if entries.get(&url_key(url)).map(String::as_str) == Some(genesis) {
            return Ok(());
        }
        entries.insert(url_key(url), genesis.to_string());
        if let Some(dir) = self.path.parent() {
            private_dir(dir)?;
        }
        let text = serde_json::to_vec_pretty(&entries).expect("a map of strings serializes");
        write_atomic(&self.path, &text, Readers::Owner)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Asks the node at `url` for its genesis hash (one request). Errors name the URL by its display.
pub fn fetch_genesis(url: &RpcUrl) -> Result<String, String> {
    let client = reqwest::blocking::Client::builder().timeout(FETCH_TIMEOUT).build().map_err(|e| e.to_string())?;
    let request = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getGenesisHash"});
    let response = client.post(url.expose()).json(&request).send().map_err(|e| e.without_url().to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("getGenesisHash: HTTP {status}"));
    }
    let answer: serde_json::Value = response.json().map_err(|e| e.without_url().to_string())?;
    genesis_of(&answer)
}

/// The genesis hash in a `getGenesisHash` response object.
pub fn genesis_of(answer: &serde_json::Value) -> Result<String, String> {
    match (answer["result"].as_str(), &answer["error"]) {
        (Some(hash), _) if hash.parse::<solana_sdk::hash::Hash>().is_ok() => Ok(hash.to_string()),
        (_, serde_json::Value::Object(error)) => Err(format!(
            "getGenesisHash: {}",
            error.get("message").and_then(serde_json::Value::as_str).unwrap_or("an error without a message")
        )),
        _ => Err("getGenesisHash: the answer holds no genesis hash".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> RpcUrl {
        RpcUrl::parse(text).unwrap()
    }

    #[test]
    fn well_known_genesis_hashes_name_their_cluster_whatever_the_url() {
        let mainnet = Identity::rpc(&url("https://x.rpcpool.com/tok"), Some(KNOWN[0].0.into()), None);
        assert!(mainnet.is_mainnet());
        assert_eq!(mainnet.name, "mainnet-beta");
        assert_eq!(mainnet.key, format!("genesis:{}", KNOWN[0].0));
        let local =
            Identity::rpc(&url("http://127.0.0.1:8899"), Some("11111111111111111111111111111111".into()), Some(0));
        assert!(!local.is_mainnet());
        assert_eq!(local.name, "http://127.0.0.1:8899");
        let unknown = Identity::rpc(&url("https://h.example/?api-key=SEKRET"), None, None);
        assert!(!unknown.key.contains("SEKRET") && !unknown.name.contains("SEKRET"));
        let cache = GenesisCache::in_state_dir(Path::new("/nonexistent"));
        let devnet = Identity::offline(&Cluster::parse("devnet").unwrap(), Path::new("x"), &cache);
        assert_eq!((devnet.name.as_str(), devnet.read_from), ("devnet", None));
    }

    #[test]
    fn journals_of_earlier_releases_are_owned_by_name_or_by_cached_url() {
        let dir = tempfile::tempdir().unwrap();
        let cache = GenesisCache::in_state_dir(dir.path());
        let hash = KNOWN[0].0;
        cache.put("https://old.provider/?k=SEKRET1234", hash).unwrap();
        let id = Identity::rpc(&url("https://new.provider/tok"), Some(hash.into()), None);
        assert!(id.owns(None, "mainnet-beta", &cache));
        assert!(id.owns(None, "https://old.provider/?k=SEKRET1234", &cache));
        assert!(id.owns(None, "https://new.provider/tok", &cache));
        assert!(!id.owns(None, "devnet", &cache));
        assert!(id.owns(Some(&id.key), "ignored", &cache));
        assert!(!id.owns(Some("genesis:other"), "mainnet-beta", &cache));
        let text = std::fs::read_to_string(cache.path()).unwrap();
        assert!(!text.contains("SEKRET") && !text.contains("provider"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(cache.path()).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
