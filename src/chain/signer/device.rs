//! Signing on a device that asks its owner to approve every signature (a Ledger). The device
//! lives on a thread of its own — agave's Ledger handle is not `Send`, and the engine runs with
//! Rhai's `sync` feature — and a `DeviceSigner` talks to it over a channel, so it is an
//! ordinary `Signer` to the transaction code.
//!
//! Before the device asks, the terminal says what it is asked to sign: the step a runbook is
//! taking and its decoded instructions (set with `expect` by whoever builds the step), and,
//! when the same step is signed again, why.

use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use solana_sdk::signer::{Signer, SignerError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// What a device does, on its own thread. Errors are worded for the operator.
pub trait Device {
    fn pubkey(&self) -> Pubkey;
    /// How the operator knows the device (`Ledger usb://ledger/…`).
    fn name(&self) -> String;
    fn sign(&mut self, message: &[u8]) -> Result<Signature, String>;
}

/// What the next signature is for.
#[derive(Debug, Clone)]
pub struct Approval {
    /// The runbook's step (`run "x": pause`).
    pub what: String,
    /// Its decoded instructions.
    pub instructions: Vec<String>,
}

struct Request {
    message: Vec<u8>,
    reply: mpsc::Sender<Result<Signature, String>>,
}

pub struct DeviceSigner {
    pubkey: Pubkey,
    name: String,
    requests: Mutex<mpsc::Sender<Request>>,
    /// The step being signed, and how many times it was already.
    approval: Mutex<Option<(Approval, usize)>>,
    tell: Arc<dyn Fn(String) + Send + Sync>,
    /// Signatures asked of the device so far.
    asked: AtomicUsize,
}

impl DeviceSigner {
    /// Starts the device's thread, where `open` finds the device and reads its key; an error
    /// (no device, locked, …) is returned before anything signs.
    pub fn open(
        open: impl FnOnce() -> Result<Box<dyn Device>, String> + Send + 'static,
        tell: Arc<dyn Fn(String) + Send + Sync>,
    ) -> Result<Self, String> {
        let (requests, incoming) = mpsc::channel::<Request>();
        let (ready, opened) = mpsc::channel();
        std::thread::Builder::new()
            .name("signing device".into())
            .spawn(move || {
                let mut device = match open() {
                    Ok(device) => device,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok((device.pubkey(), device.name())));
                for Request { message, reply } in incoming {
                    let _ = reply.send(device.sign(&message));
                }
            })
            .map_err(|e| format!("starting the signing device's thread: {e}"))?;
        let (pubkey, name) = opened.recv().map_err(|_| "the signing device's thread ended".to_string())??;
        Ok(Self {
            pubkey,
            name,
            requests: Mutex::new(requests),
            approval: Mutex::new(None),
            tell,
            asked: AtomicUsize::new(0),
        })
    }

    /// Says what the next signatures are for, so the operator reads it before approving.
    pub fn expect(&self, approval: Approval) {
        *self.approval.lock().expect("approval lock") = Some((approval, 0));
    }

    /// Signatures asked of the device so far.
    pub fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The line the operator reads before the device asks.
    fn announce(&self) -> String {
        let mut approval = self.approval.lock().expect("approval lock");
        match approval.as_mut() {
            Some((approval, times)) => {
                let again = match *times {
                    0 => String::new(),
                    _ => " again: its earlier signing expired without landing, so it is signed with a new blockhash"
                        .to_string(),
                };
                *times += 1;
                let instructions: String = approval.instructions.iter().map(|i| format!("\n  {i}")).collect();
                format!("approve on the {}{again}: {}{instructions}", self.name, approval.what)
            }
            None => format!("approve on the {}: a message", self.name),
        }
    }
}

impl Signer for DeviceSigner {
    fn try_pubkey(&self) -> Result<Pubkey, SignerError> {
        Ok(self.pubkey)
    }

    fn try_sign_message(&self, message: &[u8]) -> Result<Signature, SignerError> {
        (self.tell)(self.announce());
        self.asked.fetch_add(1, Ordering::SeqCst);
        let (reply, answer) = mpsc::channel();
        let request = Request { message: message.to_vec(), reply };
        self.requests
            .lock()
            .expect("device channel lock")
            .send(request)
            .map_err(|_| SignerError::Custom(format!("the {} is no longer connected", self.name)))?;
        answer
            .recv()
            .map_err(|_| SignerError::Custom(format!("the {} is no longer connected", self.name)))?
            .map_err(SignerError::Custom)
    }

    fn is_interactive(&self) -> bool {
        true
    }
}
