//! A webhook receiver on 127.0.0.1 for `notify` tests: a real HTTP listener that records
//! each request and answers it, after a delay or once the test releases it, with a chosen
//! status.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A request a receiver got: its path and JSON body.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: Value,
}

/// A webhook receiver: answers each request after `delay` (or, holding, once released) with
/// the next of `statuses` (the last one repeats), and keeps what it received.
pub struct Receiver {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    gate: Arc<Gate>,
}

/// Holds a receiver's answers until the test releases them; counts the answers sent.
#[derive(Default)]
struct Gate {
    /// (released, answers sent)
    state: Mutex<(bool, usize)>,
    opened: Condvar,
}

/// How long a holding receiver waits to be released before it answers anyway, so a client
/// that waits for the answer ends (and the test says so) instead of hanging.
const HOLD_AT_MOST: Duration = Duration::from_secs(120);

impl Receiver {
    pub fn start(delay: Duration, statuses: &[u16]) -> Self {
        let gate = Gate { state: Mutex::new((true, 0)), opened: Condvar::new() };
        Self::serve(delay, statuses, gate)
    }

    /// A receiver that answers nothing until `release`: what a client does meanwhile cannot
    /// have waited for an answer, however long the machine took.
    pub fn holding(statuses: &[u16]) -> Self {
        Self::serve(Duration::ZERO, statuses, Gate::default())
    }

    fn serve(delay: Duration, statuses: &[u16], gate: Gate) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(gate);
        let (log, statuses, held) = (Arc::clone(&received), statuses.to_vec(), Arc::clone(&gate));
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let status = statuses[n.min(statuses.len() - 1)];
                let (log, gate) = (Arc::clone(&log), Arc::clone(&held));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream);
                    let mut request_line = String::new();
                    reader.read_line(&mut request_line).unwrap();
                    let path = request_line.split(' ').nth(1).unwrap_or_default().to_string();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    log.lock().unwrap().push(Received { path, body: serde_json::from_slice(&body).unwrap() });
                    std::thread::sleep(delay);
                    let state = gate.state.lock().unwrap();
                    let (mut state, _) = gate.opened.wait_timeout_while(state, HOLD_AT_MOST, |s| !s.0).unwrap();
                    state.1 += 1;
                    drop(state);
                    let mut stream = reader.into_inner();
                    let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                });
            }
        });
        Self { port, received, gate }
    }

    /// Lets a holding receiver answer what it holds and what comes later.
    pub fn release(&self) {
        self.gate.state.lock().unwrap().0 = true;
        self.gate.opened.notify_all();
    }

    /// How many answers it has sent (or is sending) so far.
    pub fn answered(&self) -> usize {
        self.gate.state.lock().unwrap().1
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
