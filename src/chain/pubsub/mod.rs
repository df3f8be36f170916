//! Pushes from the cluster: Solana PubSub subscriptions through the ecosystem's client
//! (`solana-pubsub-client`), on the chain client's runtime. Each subscription runs as a task
//! that forwards what it hears into a channel the caller reads synchronously, and unsubscribes
//! when the caller drops its `Stop`. The embedded chain serves the same PubSub on a loopback
//! port of its own, started on first use, so runbooks subscribe there exactly as on a cluster.
//!
//! Callers treat a push as a hint and the chain as the truth: a subscription that cannot be
//! opened, or whose connection drops, makes them poll (see `link` for reconnecting).

pub mod link;

use crate::chain::cluster::RpcUrl;
use crate::localnet::handle::Handle;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use link::{Link, Notes};
use solana_account_decoder_client_types::UiAccount;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSignatureSubscribeConfig};
use solana_rpc_client_api::response::{Response, RpcKeyedAccount, RpcSignatureResult};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use tokio::sync::{OnceCell, oneshot};

/// What to subscribe to.
pub enum What {
    Account(Pubkey, RpcAccountInfoConfig),
    Program(Pubkey, RpcProgramAccountsConfig),
    Signature(Signature, RpcSignatureSubscribeConfig),
}

/// What a subscription heard.
pub enum Pushed {
    Account(Response<UiAccount>),
    Keyed(Response<RpcKeyedAccount>),
    Signature(Response<RpcSignatureResult>),
    /// The connection is gone: nothing more will come (poll, and subscribe again later).
    Ended,
}

/// Ends its subscription when dropped.
pub struct Stop(Option<oneshot::Sender<()>>);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(stop) = self.0.take() {
            let _ = stop.send(());
        }
    }
}

/// Where the websocket is.
enum Endpoint {
    Url(Arc<Link>),
    /// The embedded chain: a loopback PubSub server on it, started on first use.
    Loopback {
        handle: Arc<Handle>,
        link: OnceCell<Arc<Link>>,
    },
}

pub struct Live {
    endpoint: Endpoint,
    runtime: tokio::runtime::Handle,
    notes: Notes,
}

impl Live {
    pub fn cluster(url: RpcUrl, runtime: tokio::runtime::Handle, notes: Notes) -> Self {
        let link = Arc::new(Link::new(url, Arc::clone(&notes)));
        Self { endpoint: Endpoint::Url(link), runtime, notes }
    }

    pub fn loopback(handle: Arc<Handle>, runtime: tokio::runtime::Handle, notes: Notes) -> Self {
        Self { endpoint: Endpoint::Loopback { handle, link: OnceCell::new() }, runtime, notes }
    }

    async fn link(&self) -> Option<Arc<Link>> {
        match &self.endpoint {
            Endpoint::Url(link) => Some(Arc::clone(link)),
            Endpoint::Loopback { handle, link } => link
                .get_or_try_init(|| async {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let url = RpcUrl::websocket(&format!("ws://{}", listener.local_addr()?));
                    // The one consumer is this client, whose link reports a lost connection.
                    let quiet: crate::localnet::rpc::pubsub::Warn = Arc::new(|_| {});
                    let served = crate::localnet::rpc::pubsub::serve(
                        listener,
                        Arc::clone(handle),
                        std::future::pending(),
                        quiet,
                    );
                    tokio::spawn(served);
                    Ok::<_, std::io::Error>(Arc::new(Link::new(url, Arc::clone(&self.notes))))
                })
                .await
                .ok()
                .cloned(),
        }
    }

    /// True while the websocket is open.
    pub fn is_up(&self) -> bool {
        match &self.endpoint {
            Endpoint::Url(link) => link.is_up(),
            Endpoint::Loopback { link, .. } => link.get().is_some_and(|l| l.is_up()),
        }
    }

    /// Subscribes, forwarding what it hears to `out`, once the node confirmed the subscription
    /// (so a read made after this returns cannot miss a change the subscription would report).
    /// None when the websocket is unavailable: poll instead.
    pub fn subscribe(&self, what: What, out: Sender<Pushed>) -> Option<Stop> {
        self.subscribe_tagged(what, out, |pushed| pushed)
    }

    /// `subscribe`, each push passed through `tag` (which says which subscription it came
    /// from, when several share one channel).
    pub fn subscribe_tagged<T: Send + 'static>(
        &self,
        what: What,
        out: Sender<T>,
        tag: impl Fn(Pushed) -> T + Send + 'static,
    ) -> Option<Stop> {
        let (ready, confirmed) = oneshot::channel();
        let (stop, stopped) = oneshot::channel();
        let opened = self.runtime.block_on(async {
            let link = self.link().await?;
            let client = link.client().await?;
            self.runtime.spawn(forward(link, client, what, (out, tag), ready, stopped));
            confirmed.await.ok()
        });
        opened.unwrap_or(false).then(|| Stop(Some(stop)))
    }
}

async fn open(client: &PubsubClient, what: What) -> Result<(BoxStream<'_, Pushed>, link::Unsubscribe), String> {
    let e = |e: solana_pubsub_client::nonblocking::pubsub_client::PubsubClientError| e.to_string();
    Ok(match what {
        What::Account(key, config) => {
            let (s, u) = client.account_subscribe(&key, Some(config)).await.map_err(e)?;
            (s.map(Pushed::Account).boxed(), u)
        }
        What::Program(key, config) => {
            let (s, u) = client.program_subscribe(&key, Some(config)).await.map_err(e)?;
            (s.map(Pushed::Keyed).boxed(), u)
        }
        What::Signature(signature, config) => {
            let (s, u) = client.signature_subscribe(&signature, Some(config)).await.map_err(e)?;
            (s.map(Pushed::Signature).boxed(), u)
        }
    })
}

async fn forward<T>(
    link: Arc<Link>,
    client: Arc<PubsubClient>,
    what: What,
    (out, tag): (Sender<T>, impl Fn(Pushed) -> T),
    ready: oneshot::Sender<bool>,
    mut stopped: oneshot::Receiver<()>,
) {
    let (mut stream, unsubscribe) = match open(&client, what).await {
        Ok(opened) => opened,
        Err(why) => {
            link.failed_subscription(&client, &why);
            let _ = ready.send(false);
            return;
        }
    };
    let _ = ready.send(true);
    loop {
        tokio::select! {
            pushed = stream.next() => match pushed {
                Some(pushed) => if out.send(tag(pushed)).is_err() { break },
                None => {
                    link.lost(&client);
                    let _ = out.send(tag(Pushed::Ended));
                    return;
                }
            },
            _ = &mut stopped => break,
        }
    }
    drop(stream);
    unsubscribe().await;
}
