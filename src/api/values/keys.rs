//! Keys: pubkeys and signer handles. Scripts see a signer's public key and can ask it to sign,
//! but no function returns secret key material. Loading signers is an operation
//! (`ops::runbook::signers`).

use crate::api::values::error::HostError;
use crate::chain::signer::{DeviceSigner, Held};
use crate::psyche::pdas::PERMISSIONLESS_GRANTEE;
use rhai::plugin::*;
use rhai::{Engine, EvalAltResult};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::sync::Arc;

/// A loaded signer: a key in memory or a device. Cloning shares it; printing shows only the
/// public key.
#[derive(Clone)]
pub struct SignerHandle {
    held: Arc<Held>,
    source: String,
}

impl SignerHandle {
    pub fn new(keypair: Keypair, source: String) -> Self {
        Self::held(Held::Key(keypair), source)
    }

    pub fn held(held: Held, source: String) -> Self {
        Self { held: Arc::new(held), source }
    }

    pub fn pubkey(&self) -> Pubkey {
        self.held.pubkey()
    }

    /// For transaction signing inside host functions; never handed to scripts.
    pub fn signer(&self) -> &dyn Signer {
        self.held.as_ref()
    }

    /// The key in memory, for what only a key can do (simulated clients, signed requests to
    /// a service); `what` names it in the refusal a device gets.
    pub fn keypair(&self, what: &str) -> Result<&Keypair, HostError> {
        self.held.keypair().ok_or_else(|| {
            HostError::input(format!(
                "{what} needs a key in memory, and {} holds none: use a keypair file (-k, signer(PATH))",
                self.source
            ))
        })
    }

    /// The device that holds this signer's key, if one does.
    pub fn device(&self) -> Option<&DeviceSigner> {
        self.held.device()
    }
}

impl SignerHandle {
    /// The signer as the REPL shows it: its public key and where it came from.
    pub fn describe(&self) -> String {
        format!("Signer({} from {})", self.pubkey(), self.source)
    }
}

impl std::fmt::Debug for SignerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.pubkey())
    }
}

/// Parses a base58 pubkey, naming the bad input.
pub fn parse_pubkey(text: &str) -> Result<Pubkey, HostError> {
    text.trim().parse().map_err(|_| HostError::input(format!("invalid pubkey \"{text}\"")))
}

/// A parameter that names a public key: a `Pubkey`, a base58 string or a `Signer` (its public
/// key). Rhai hands it over untyped; the alias is what `psyche-runbook docs` shows as `Pubkey`.
pub type PubkeyArg = Dynamic;

/// The public key a `PubkeyArg` names; a bad string is `invalid pubkey "…"`, as for `pubkey()`.
pub fn to_pubkey(value: &Dynamic) -> Result<Pubkey, HostError> {
    if let Some(key) = value.read_lock::<Pubkey>() {
        Ok(*key)
    } else if let Some(signer) = value.read_lock::<SignerHandle>() {
        Ok(signer.pubkey())
    } else if value.is_string() {
        parse_pubkey(&value.to_string())
    } else {
        Err(HostError::input(format!(
            "expected a pubkey (a Pubkey, a base58 string or a Signer), found {}",
            value.type_name()
        )))
    }
}

pub fn register_types(engine: &mut Engine) {
    engine
        .register_type_with_name::<Pubkey>("Pubkey")
        .register_fn("to_string", |k: &mut Pubkey| k.to_string())
        .register_fn("to_debug", |k: &mut Pubkey| format!("Pubkey({k})"))
        .register_fn("==", |a: Pubkey, b: Pubkey| a == b)
        .register_fn("!=", |a: Pubkey, b: Pubkey| a != b)
        .register_type_with_name::<SignerHandle>("Signer")
        .register_fn("to_string", |s: &mut SignerHandle| s.pubkey().to_string())
        .register_fn("to_debug", |s: &mut SignerHandle| s.describe());
}

#[export_module]
pub mod keys_api {
    use super::*;

    /// Parses a base58 public key; an invalid one is an error naming it.
    ///
    /// ```rhai
    /// let user = pubkey("11111111111111111111111111111112");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pubkey(text: &str) -> Result<Pubkey, Box<EvalAltResult>> {
        Ok(parse_pubkey(text)?)
    }

    /// The public key of a signer (or a pubkey itself).
    #[rhai_fn(name = "pubkey", return_raw)]
    pub fn pubkey_of(key: PubkeyArg) -> Result<Pubkey, Box<EvalAltResult>> {
        Ok(to_pubkey(&key)?)
    }

    /// The all-zero grantee (`11111111111111111111111111111111`): an authorization for it lets
    /// anyone join a run.
    pub fn permissionless() -> Pubkey {
        PERMISSIONLESS_GRANTEE
    }

    /// True for the all-zero (permissionless) key.
    #[rhai_fn(name = "is_permissionless", pure)]
    pub fn is_permissionless(key: &mut Pubkey) -> bool {
        *key == PERMISSIONLESS_GRANTEE
    }

    /// The signer's public key.
    #[rhai_fn(get = "pubkey", pure)]
    pub fn signer_pubkey(signer: &mut SignerHandle) -> Pubkey {
        signer.pubkey()
    }

    /// Where the signer was loaded from (a path or variable name, never the secret).
    #[rhai_fn(get = "source", pure)]
    pub fn signer_source(signer: &mut SignerHandle) -> String {
        signer.source.clone()
    }

    /// Signs a UTF-8 message and returns the base58 ed25519 signature. A signing device
    /// (a Ledger) signs transactions only, and refuses.
    #[rhai_fn(name = "sign", pure, return_raw)]
    pub fn sign(signer: &mut SignerHandle, message: &str) -> Result<String, Box<EvalAltResult>> {
        Ok(signer.keypair("signing a message (signer.sign)")?.sign_message(message.as_bytes()).to_string())
    }

    /// Checks a base58 signature of a UTF-8 message against a public key.
    #[rhai_fn(return_raw)]
    pub fn verify_signature(key: PubkeyArg, message: &str, signature: &str) -> Result<bool, Box<EvalAltResult>> {
        let key = to_pubkey(&key)?;
        let signature: solana_sdk::signature::Signature =
            signature.parse().map_err(|_| HostError::input(format!("invalid signature \"{signature}\"")))?;
        Ok(signature.verify(key.as_ref(), message.as_bytes()))
    }
}
