//! Solana PubSub on the embedded chain: the websocket endpoint a validator serves beside its
//! HTTP one (`accountSubscribe`, `programSubscribe`, `signatureSubscribe`, `slotSubscribe`,
//! `rootSubscribe`, `logsSubscribe` and their unsubscribes), for `localnet serve` and, on a
//! loopback port, for runbooks on the embedded chain, whose client then subscribes exactly as
//! it does on a cluster.
//!
//! A poller lets the chain follow its clock and polls every subscription (see `watchers`)
//! whenever the chain moved: a new slot, a new transaction, whoever sent it (HTTP clients,
//! simulated trainers, the runbook itself). Answers, notification shapes and error codes are a
//! solana-test-validator 3.1's.

mod connection;
mod hub;
mod requests;
mod watchers;

pub use hub::{QUEUE_CAPACITY, Warn};

use crate::localnet::handle::Handle;
use hub::Hub;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How often the poller looks at the chain: well inside a slot, so a change is told within
/// one slot of landing.
const POLL_EVERY: Duration = Duration::from_millis(25);

/// Serves PubSub on `listener` until `shutdown` completes; a consumer closed for not reading
/// is reported to `warn`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: Arc<Handle>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    warn: Warn,
) -> std::io::Result<()> {
    let hub = Arc::new(Hub::new(warn));
    let poller = tokio::spawn(poll_forever(Arc::clone(&handle), Arc::clone(&hub)));
    tokio::pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                // A failed accept (the peer reset first, descriptors short) ends one attempt.
                if let Ok((stream, _)) = accepted {
                    connections.spawn(connection::run(stream, Arc::clone(&handle), Arc::clone(&hub)));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    poller.abort();
    connections.abort_all();
    Ok(())
}

async fn poll_forever(handle: Arc<Handle>, hub: Arc<Hub>) {
    let mut every = tokio::time::interval(POLL_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if hub.subscription_count() == 0 {
            continue;
        }
        let (handle, hub) = (Arc::clone(&handle), Arc::clone(&hub));
        let _ = tokio::task::spawn_blocking(move || {
            let mut net = handle.lock();
            net.follow_clock();
            // What is told must be durable first: nothing is told from a store that failed.
            match net.flush() {
                Ok(()) => hub.poll(&net),
                Err(failure) => handle.failed(&mut net, failure.0),
            }
        })
        .await;
    }
}
