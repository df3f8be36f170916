//! `localnet serve`'s server run inside the test process on a clock the test holds, so tests
//! of slot timing move time by hand instead of sleeping and never depend on the machine's load.

use psyche_runbook::localnet::chain_params::DEFAULT_SLOT_MS;
use psyche_runbook::localnet::handle::Handle;
use psyche_runbook::localnet::time::ManualClock;
use std::path::Path;
use std::sync::Arc;

pub struct LocalServer {
    pub url: String,
    pub handle: Arc<Handle>,
    clock: ManualClock,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LocalServer {
    /// Serves the localnet in `dir` (400 ms slots) until dropped.
    pub fn start(dir: &Path) -> Self {
        let clock = ManualClock::default();
        let handle = Handle::open_on(dir, || {}, Arc::new(clock.clone())).expect("open the localnet");
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let served = Arc::clone(&handle);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                address_tx.send(listener.local_addr().unwrap()).unwrap();
                let stop = async {
                    let _ = stop.await;
                };
                psyche_runbook::localnet::server::serve(listener, served, stop, Arc::new(|_| {})).await.unwrap();
            });
        });
        let url = format!("http://{}", address_rx.recv().unwrap());
        Self { url, handle, clock, shutdown: Some(shutdown), thread: Some(thread) }
    }

    /// Moves the chain's clock on by `slots` slots.
    pub fn advance_slots(&self, slots: u64) {
        self.clock.advance_ms(slots * DEFAULT_SLOT_MS);
    }

    pub fn advance_ms(&self, ms: u64) {
        self.clock.advance_ms(ms);
    }

    pub fn clock(&self) -> ManualClock {
        self.clock.clone()
    }

    /// A Solana RPC client on the server (confirmed commitment).
    pub fn client(&self) -> solana_rpc_client::rpc_client::RpcClient {
        solana_rpc_client::rpc_client::RpcClient::new_with_commitment(
            self.url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        )
    }
}

impl Drop for LocalServer {
    /// Stops serving and saves the chain, as SIGTERM does to `localnet serve`.
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
