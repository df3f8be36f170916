//! `ms.propose(title, || ..)`: the steps of the closure run against a scratch fork of the
//! chain, where each already ran as the vault will run it (so every step reads what the last
//! wrote and a step that would fail is refused now); the instructions they would have sent are
//! captured and proposed as one vault transaction.

use crate::api::host::{Host, StepSink};
use crate::api::ops::multisig::handle::MultisigHandle;
use crate::api::ops::multisig::proposals::propose;
use crate::api::ops::multisig::vaults::{known_vault, register_vault};
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::api::values::outcome::unchanged;
use crate::chain::client::Chain;
use rhai::plugin::*;
use rhai::{EvalAltResult, FnPtr, Map};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use std::sync::{Arc, Mutex};

type Res<T> = Result<T, Box<EvalAltResult>>;

/// What `Host::send` returns for an instruction captured into a proposal.
pub const CAPTURED: &str = "(captured into a proposal)";

/// The steps of one `ms.propose(..)`: the instructions they would have sent, and the scratch
/// chain where they already ran, which the steps read while the capture is installed.
pub struct Capture {
    captured: Mutex<Vec<Instruction>>,
    scratch: Arc<Chain>,
}

impl Capture {
    /// Installs a capture above the host's other sinks, with a fresh scratch chain.
    fn start(host: &Host) -> Result<Arc<Self>, HostError> {
        if host.sink::<Capture>().is_some() {
            return Err(HostError::input("proposals cannot be nested"));
        }
        let scratch = host.chain()?.scratch(&host.settings).map_err(|e| HostError::chain(e.to_string()))?;
        let capture = Arc::new(Self { captured: Mutex::default(), scratch: Arc::new(scratch) });
        host.install_sink(Arc::clone(&capture) as Arc<dyn StepSink>);
        Ok(capture)
    }

    /// Removes the capture and returns the instructions captured.
    fn end(self: Arc<Self>, host: &Host) -> Vec<Instruction> {
        host.remove_sink(&self);
        std::mem::take(&mut *self.captured.lock().expect("capture lock"))
    }

    /// Runs captured `instructions` on the scratch chain, as the vault will run them.
    fn preview(&self, what: &str, instructions: &[Instruction]) -> Result<(), HostError> {
        let scratch = &self.scratch;
        // On a forked real cluster, reading the accounts first pulls them into the fork.
        let keys: Vec<Pubkey> = instructions.iter().flat_map(|ix| ix.accounts.iter().map(|a| a.pubkey)).collect();
        scratch.accounts(&keys).map_err(|e| HostError::chain(e.to_string()))?;
        let handle = scratch.localnet().expect("a scratch chain is a local fork");
        let executed = handle.lock().execute_as_vault(instructions);
        // The next steps must read what this one wrote, not what the scratch chain read before.
        scratch
            .reads()
            .forget(instructions.iter().flat_map(|ix| ix.accounts.iter().filter(|a| a.is_writable).map(|a| a.pubkey)));
        executed.map_err(|e| HostError::input(format!("{what}: this step would fail when the proposal executes: {e}")))
    }
}

impl StepSink for Capture {
    /// Every step, while `ms.propose(..)` runs its closure.
    fn take(
        &self,
        _host: &Host,
        what: &str,
        instructions: &[Instruction],
        signers: &[&SignerHandle],
    ) -> Option<Result<String, HostError>> {
        if !signers.is_empty() {
            return Some(Err(HostError::input(format!("{what}: needs a signer of its own, so it cannot be proposed"))));
        }
        self.captured.lock().expect("capture lock").extend_from_slice(instructions);
        Some(self.preview(what, instructions).map(|()| CAPTURED.to_string()))
    }

    fn chain(&self) -> Option<Arc<Chain>> {
        Some(Arc::clone(&self.scratch))
    }
}

#[export_module]
pub mod capture_api {
    use super::*;

    /// Runs `steps` (a closure) and proposes every instruction they would send as one vault
    /// transaction of vault 0 plus a proposal; when a pending proposal already runs exactly
    /// these instructions it is reported instead. Returns `#{changed, signatures, proposal}`
    /// (`proposal` is its index; `already_pending` when nothing new was created).
    ///
    /// ```rhai
    /// ms.propose("pause and update config", || { r.pause(); r.update_config("config.toml"); });
    /// ```
    #[rhai_fn(name = "propose", return_raw)]
    pub fn propose_steps(ctx: NativeCallContext, ms: &mut MultisigHandle, title: &str, steps: FnPtr) -> Res<Map> {
        let host = Host::of(&ctx);
        let vault = register_vault(&host, ms, 0)?;
        let capture = Capture::start(&host)?;
        let ran = steps.call_within_context::<Dynamic>(&ctx, ());
        let captured = capture.end(&host);
        ran.map(|_| ())?;
        if captured.is_empty() {
            host.log.info(&format!("{title}: the steps have nothing to change; nothing proposed"));
            return Ok(unchanged());
        }
        let reference = known_vault(&host, &vault).expect("registered above");
        Ok(propose(&host, &vault, &reference, title, captured)?.outcome())
    }
}
