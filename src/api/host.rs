//! The state host functions share during one execution: resolved settings, the payer (loaded
//! on first use), the outputs a runbook emits and the signatures it sent. The engine stores an
//! `Arc<Host>` as its default tag; host functions reach it through their call context.

use crate::api::error::HostError;
use crate::api::keys::SignerHandle;
use crate::chain::settings::Settings;
use crate::ui::Log;
use rhai::{Dynamic, NativeCallContext};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

pub struct Host {
    pub settings: Settings,
    pub log: Log,
    /// `--set` values (and `$RUN_ID`), also pushed into the script scope as constants.
    pub params: BTreeMap<String, Dynamic>,
    outputs: Mutex<BTreeMap<String, Value>>,
    sent: Mutex<Vec<String>>,
    payer: OnceLock<Result<SignerHandle, String>>,
}

impl Host {
    pub fn new(settings: Settings, log: Log, params: &[(String, Dynamic)]) -> Arc<Self> {
        Arc::new(Self {
            settings,
            log,
            params: params.iter().cloned().collect(),
            outputs: Mutex::default(),
            sent: Mutex::default(),
            payer: OnceLock::new(),
        })
    }

    /// The host behind a native call.
    pub fn of(ctx: &NativeCallContext) -> Arc<Host> {
        ctx.tag()
            .and_then(|tag| tag.read_lock::<Arc<Host>>().map(|host| Arc::clone(&host)))
            .expect("the engine's tag holds its Host")
    }

    /// The default signer, loaded (and on the embedded chain, generated) on first use.
    pub fn payer(&self) -> Result<SignerHandle, HostError> {
        self.payer
            .get_or_init(|| {
                let source = &self.settings.signer;
                let keypair = source.load(&mut |warning| self.log.warn(&warning))?;
                Ok(SignerHandle::new(keypair, source.describe()))
            })
            .clone()
            .map_err(HostError::input)
    }

    pub fn set_output(&self, name: String, value: Value) {
        self.outputs.lock().expect("outputs lock").insert(name, value);
    }

    pub fn outputs(&self) -> BTreeMap<String, Value> {
        self.outputs.lock().expect("outputs lock").clone()
    }

    /// Records a signature the moment it is sent, so an interrupted or failed run still
    /// reports it.
    pub fn record_sent(&self, signature: String) {
        self.sent.lock().expect("sent lock").push(signature);
    }

    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().expect("sent lock").clone()
    }
}
