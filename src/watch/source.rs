//! Where `watch` reads from. A cluster (`localnet serve` included) is one RPC client kept for
//! the whole session, and when its websocket is known, a mirror its pushes keep current (a
//! steady view then makes no request). The embedded localnet is read from its database without
//! taking the localnet's lock — each transaction is committed whole, so a read never sees half
//! of one and never makes a runbook wait — through the same JSON-RPC dispatcher as any cluster.

use crate::chain::client::{Chain, ChainError};
use crate::chain::cluster::Cluster;
use crate::chain::settings::Settings;
use crate::cli::Commitment;
use crate::localnet::Localnet;
use crate::localnet::handle::Handle;
use crate::localnet::upstream::Upstream;
use crate::watch::mirror::Mirror;
use crate::watch::read::{Reader, Snapshot};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use std::fs::{OpenOptions, TryLockError};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often a wait checks whether the view is closing.
const TICK: Duration = Duration::from_millis(100);

pub enum Source {
    Embedded {
        dir: PathBuf,
        commitment: CommitmentConfig,
        /// On a fork: what this view read from the cluster (a reader cannot keep it in the
        /// fork's database), so no refresh asks it again.
        read: std::sync::Mutex<ForkReads>,
    },
    /// Boxed: a client is much larger than a directory name.
    Cluster(Box<Chain>, Mirror),
}

impl Source {
    pub fn open(settings: &Settings) -> Result<Self, ChainError> {
        Ok(match &settings.cluster {
            Cluster::Embedded => {
                let commitment = match settings.commitment {
                    Commitment::Processed => CommitmentConfig::processed(),
                    Commitment::Confirmed => CommitmentConfig::confirmed(),
                    Commitment::Finalized => CommitmentConfig::finalized(),
                };
                Source::Embedded { dir: settings.localnet_dir.clone(), commitment, read: Default::default() }
            }
            Cluster::Rpc { .. } => Source::Cluster(Box::new(Chain::connect(settings, || {})?), Mirror::default()),
        })
    }

    /// One refresh: the snapshot and the RPC round trips it took.
    pub fn refresh(&self, reader: &mut Reader) -> Result<(Snapshot, u64), ChainError> {
        match self {
            Source::Embedded { dir, commitment, read } => {
                let mut net = Localnet::load_read_only(dir).map_err(|e| ChainError::Localnet(e.to_string()))?;
                // A fork reads what it lacks from its cluster: once for this view, through one
                // client (its identity is confirmed once).
                let mut kept = read.lock().unwrap_or_else(|p| p.into_inner());
                if let (None, Some(origin)) = (&kept.upstream, net.origin()) {
                    kept.upstream = Some(Upstream::to(&origin.url, &origin.genesis).map_err(ChainError::Localnet)?);
                }
                let upstream = kept.upstream.clone();
                kept.restore(&mut net);
                // A private copy: never locked, never saved.
                let handle = Handle::fork_of(net, dir, upstream);
                let chain = Chain::embedded(Arc::clone(&handle), *commitment);
                let snapshot = reader.read(&chain)?;
                kept.keep(&handle.lock());
                Ok((snapshot, round_trips(&chain)))
            }
            Source::Cluster(chain, mirror) => {
                let before = round_trips(chain);
                let snapshot = reader.read_from(chain, &mirror.on(chain))?;
                Ok((snapshot, round_trips(chain) - before))
            }
        }
    }

    /// Waits until the next refresh is due: the next push on a followed cluster, else
    /// `interval`; returns early once `stop` is set.
    pub fn wait(&self, interval: Duration, stop: &AtomicBool) {
        match self {
            Source::Cluster(_, mirror) => mirror.wait(interval, stop),
            Source::Embedded { .. } => {
                let started = Instant::now();
                while started.elapsed() < interval && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK.min(interval));
                }
            }
        }
    }

    /// Said when another process holds the embedded localnet (a runbook, `localnet serve`):
    /// what it has not saved yet is not visible here.
    pub fn note(&self) -> Option<String> {
        let Source::Embedded { dir, .. } = self else { return None };
        let file = OpenOptions::new().write(true).open(dir.join("lock")).ok()?;
        match file.try_lock() {
            Err(TryLockError::WouldBlock) => Some(format!(
                "another process is using the localnet at {}: showing its last saved state (watch `localnet serve` with -u URL to see it live)",
                dir.display()
            )),
            _ => None,
        }
    }
}

/// Requests the client has made so far.
fn round_trips(chain: &Chain) -> u64 {
    chain.round_trips().total()
}

/// What a view of a fork read from the cluster (the accounts and the query shapes), and its
/// client of the cluster.
#[derive(Default)]
pub struct ForkReads {
    upstream: Option<Upstream>,
    accounts: Vec<(Pubkey, Option<Account>)>,
    shapes: Vec<String>,
}

impl ForkReads {
    /// Gives a fresh read of the fork what this view read before (the fork's own, stored
    /// since, wins).
    fn restore(&self, net: &mut Localnet) {
        let missing: Vec<_> = self.accounts.iter().filter(|(key, _)| net.needs_fetch(key)).cloned().collect();
        net.insert_fetched(missing);
        for shape in &self.shapes {
            net.asked(shape);
        }
    }

    fn keep(&mut self, net: &Localnet) {
        let (accounts, shapes) = net.read_this_session();
        self.accounts = accounts;
        self.shapes = shapes;
    }
}
