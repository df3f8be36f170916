//! Every live subscription of every connection, and the outgoing queue of each connection.
//! Queues are bounded: a client that stops reading is disconnected when its queue is full,
//! so it never holds up the chain or the other subscribers, and the operator is told which
//! peer it was. Subscription ids are unique across connections and increase, as a validator's
//! do.

use crate::localnet::Localnet;
use crate::localnet::rpc::pubsub::requests::Kind;
use crate::localnet::rpc::pubsub::watchers::Watch;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Messages a connection may have waiting before it counts as a consumer that stopped reading.
pub const QUEUE_CAPACITY: usize = 4096;

/// Where the hub reports a connection it closed.
pub type Warn = Arc<dyn Fn(&str) + Send + Sync>;

struct Queue {
    sender: mpsc::Sender<String>,
    peer: SocketAddr,
}

struct Subscription {
    connection: u64,
    watch: Watch,
}

struct Inner {
    next_subscription: u64,
    next_connection: u64,
    subscriptions: BTreeMap<u64, Subscription>,
    queues: HashMap<u64, Queue>,
    /// The chain's state at the last poll: a poll with nothing new is skipped.
    polled: Option<(u64, u64)>,
    warn: Warn,
}

pub struct Hub {
    inner: Mutex<Inner>,
}

fn notification(kind: &Kind, subscription: u64, result: Value) -> String {
    json!({"jsonrpc": "2.0", "method": kind.notification(), "params": {"result": result, "subscription": subscription}})
        .to_string()
}

impl Inner {
    /// Queues `message`, or disconnects a connection whose queue is full.
    fn push(&mut self, connection: u64, message: String) {
        let Some(queue) = self.queues.get(&connection) else { return };
        match queue.sender.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                (self.warn)(&format!(
                    "PubSub: closed the connection from {}: it stopped reading ({QUEUE_CAPACITY} messages waiting)",
                    queue.peer
                ));
                self.drop_connection(connection);
            }
            // The writer is gone: the client closed, and its connection is on its way out.
            Err(mpsc::error::TrySendError::Closed(_)) => self.drop_connection(connection),
        }
    }

    /// Dropping the queue's sender ends the connection's writer, which closes the socket.
    fn drop_connection(&mut self, connection: u64) {
        self.queues.remove(&connection);
        self.subscriptions.retain(|_, s| s.connection != connection);
    }
}

impl Hub {
    pub fn new(warn: Warn) -> Self {
        let inner = Inner {
            next_subscription: 0,
            next_connection: 0,
            subscriptions: BTreeMap::new(),
            queues: HashMap::new(),
            polled: None,
            warn,
        };
        Self { inner: Mutex::new(inner) }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new connection's id and the queue its writer drains.
    pub fn connect(&self, peer: SocketAddr) -> (u64, mpsc::Receiver<String>) {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let mut inner = self.inner();
        let id = inner.next_connection;
        inner.next_connection += 1;
        inner.queues.insert(id, Queue { sender, peer });
        (id, receiver)
    }

    pub fn disconnect(&self, connection: u64) {
        self.inner().drop_connection(connection);
    }

    /// Sends an answer to one request.
    pub fn reply(&self, connection: u64, message: Value) {
        self.inner().push(connection, message.to_string());
    }

    /// Registers a subscription, answers the request `request_id` with its id, and sends
    /// what is already due (a signature settled before it was asked about).
    pub fn subscribe(&self, connection: u64, request_id: Value, kind: Kind, net: &Localnet) {
        let (watch, due) = Watch::start(kind, net);
        let mut inner = self.inner();
        let id = inner.next_subscription;
        inner.next_subscription += 1;
        inner.push(connection, json!({"jsonrpc": "2.0", "result": id, "id": request_id}).to_string());
        for result in due.results {
            let message = notification(watch.kind(), id, result);
            inner.push(connection, message);
        }
        if !due.done && inner.queues.contains_key(&connection) {
            inner.subscriptions.insert(id, Subscription { connection, watch });
        }
    }

    /// Ends a subscription of `connection`; false when it has none by that id.
    pub fn unsubscribe(&self, connection: u64, id: u64) -> bool {
        let mut inner = self.inner();
        let owned = inner.subscriptions.get(&id).is_some_and(|s| s.connection == connection);
        if owned {
            inner.subscriptions.remove(&id);
        }
        owned
    }

    pub fn subscription_count(&self) -> usize {
        self.inner().subscriptions.len()
    }

    /// Sends every notification due, unless nothing happened since the last poll.
    pub fn poll(&self, net: &Localnet) {
        let mut inner = self.inner();
        let state = (net.transaction_count(), net.slot());
        if inner.subscriptions.is_empty() || inner.polled == Some(state) {
            inner.polled = Some(state);
            return;
        }
        inner.polled = Some(state);
        let mut messages = Vec::new();
        let mut finished = Vec::new();
        for (id, subscription) in inner.subscriptions.iter_mut() {
            let due = subscription.watch.poll(net);
            for result in due.results {
                messages.push((subscription.connection, notification(subscription.watch.kind(), *id, result)));
            }
            if due.done {
                finished.push(*id);
            }
        }
        for id in finished {
            inner.subscriptions.remove(&id);
        }
        for (connection, message) in messages {
            inner.push(connection, message);
        }
    }
}
