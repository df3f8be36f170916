//! Signers a runbook loads: the payer (from `-k` and its fallbacks) and others from a keypair
//! file, a terminal prompt or an environment variable.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::chain::signer::SignerSource;
use rhai::EvalAltResult;
use rhai::plugin::*;

#[export_module]
pub mod signers_api {
    use super::*;

    /// The signer that pays for and signs transactions: `-k`, `$RAW_WALLET_PRIVATE_KEY`,
    /// `$WALLET_PRIVATE_KEY_PATH`, the Solana CLI config, or the localnet's generated payer.
    #[rhai_fn(return_raw)]
    pub fn payer(ctx: NativeCallContext) -> Result<SignerHandle, Box<EvalAltResult>> {
        Ok(Host::of(&ctx).payer()?)
    }

    /// Loads another signer from any source `-k` takes — a keypair file path,
    /// `prompt://[?key=…|?full-path=…]` or `ASK` (a seed phrase at the terminal), `stdin:`,
    /// `usb://ledger[/WALLET_PUBKEY][?key=…]` — or `env:NAME` (a JSON byte array or base58
    /// secret in environment variable NAME).
    ///
    /// ```rhai
    /// let join_authority = signer("keys/join_authority.json");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn signer(ctx: NativeCallContext, source: &str) -> Result<SignerHandle, Box<EvalAltResult>> {
        let host = Host::of(&ctx);
        let source = match source.strip_prefix("env:") {
            Some(var) => {
                let secret =
                    std::env::var(var).map_err(|_| HostError::input(format!("signer env:{var}: ${var} is not set")))?;
                SignerSource::Secret { var: var.to_string(), secret }
            }
            None => SignerSource::parse(source).map_err(HostError::input)?,
        };
        Ok(host.load_signer(&source).map_err(HostError::input)?)
    }
}
