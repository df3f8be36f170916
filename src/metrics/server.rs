//! `watch --metrics-port`: the latest refresh's metrics served at `/metrics` over HTTP, for a
//! Prometheus server to scrape while `watch` runs.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The exposition being served; `watch` replaces it after each refresh.
pub type Published = Arc<Mutex<String>>;

async fn metrics(State(published): State<Published>) -> ([(&'static str, &'static str); 1], String) {
    let text = published.lock().map(|t| t.clone()).unwrap_or_default();
    ([("content-type", "text/plain; version=0.0.4")], text)
}

/// Binds `address` and serves on a background thread for the rest of the process; returns
/// the bound address (port 0 picks a free one).
pub fn start(address: SocketAddr, published: Published) -> std::io::Result<SocketAddr> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(address))?;
    let bound = listener.local_addr()?;
    std::thread::spawn(move || {
        let app = Router::new().route("/metrics", get(metrics)).with_state(published);
        let _ = runtime.block_on(async move { axum::serve(listener, app).await });
    });
    Ok(bound)
}
