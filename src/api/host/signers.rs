//! The signers of an execution: the payer (`-k` and its fallbacks, generated and funded on the
//! embedded chain), `--fee-payer`, and any other a runbook loads; devices and standard input
//! are read before the runbook starts.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::chain::signer::SignerSource;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use std::sync::Arc;

/// The embedded chain's generated payer is topped up by this when it falls below a tenth of it:
/// a tenth still pays the rent of some 600,000 join authorizations in one invocation.
const LOCALNET_PAYER_SOL: u64 = 10_000;

impl Host {
    /// The default signer (`-k` and its fallbacks), loaded (and on the embedded chain,
    /// generated) on first use.
    pub fn payer(&self) -> Result<SignerHandle, HostError> {
        self.payer
            .get_or_init(|| {
                let source = &self.settings.signer;
                let handle = self.load_signer(source).map_err(HostError::input)?;
                if matches!(source, SignerSource::LocalnetPayer(_)) {
                    self.fund_localnet_payer(&handle.pubkey())?;
                }
                Ok(handle)
            })
            .clone()
    }

    /// Who pays transaction fees (and the rent of accounts bulk work creates): `--fee-payer`,
    /// else the payer.
    pub fn fee_payer(&self) -> Result<SignerHandle, HostError> {
        match &self.settings.fee_payer {
            None => self.payer(),
            Some(source) => self.fee_payer.get_or_init(|| self.load_signer(source).map_err(HostError::input)).clone(),
        }
    }

    /// Loads a signer source: findings are warnings, and what the operator must read to act (a
    /// device's approvals, the key a seed phrase gave) is told whatever `-q` says.
    pub fn load_signer(&self, source: &SignerSource) -> Result<SignerHandle, String> {
        if let SignerSource::PubkeyOnly(key) = source {
            self.stand_in(key)?;
        }
        let log = self.log.clone();
        let tell: Arc<dyn Fn(String) + Send + Sync> = Arc::new(move |message| log.tell(&message));
        let held = source.load(self.settings.phrase, &mut |w| self.log.warn(&w), tell, &self.log.redactor)?;
        Ok(SignerHandle::held(held, source.describe()))
    }

    /// Lets the fork this execution runs on accept `key`'s signatures unchecked; refused
    /// anywhere else (a real cluster, a dry-run of one, a plain localnet), before anything signs.
    fn stand_in(&self, key: &Pubkey) -> Result<(), String> {
        let refused = || {
            format!(
                "signer pubkey:{key}: a pubkey-only signer is taken by a fork made with `localnet fork` only; on {} a transaction needs {key}'s real signature; nothing was sent",
                self.settings.cluster_name()
            )
        };
        if self.settings.cluster != crate::chain::cluster::Cluster::Embedded {
            return Err(refused());
        }
        let chain = self.chain().map_err(|e| e.message)?;
        let handle = chain.localnet().ok_or_else(refused)?;
        handle.lock().stand_in(*key).map_err(|_| refused())
    }

    /// Loads the signers that must be ready before the runbook starts (a device must be attached
    /// and unlocked, standard input read), so a missing Ledger is said before anything runs.
    pub fn load_eager_signers(&self) -> Result<(), HostError> {
        if self.settings.signer.is_eager() {
            self.payer()?;
        }
        if self.settings.fee_payer.as_ref().is_some_and(SignerSource::is_eager) {
            self.fee_payer()?;
        }
        Ok(())
    }

    fn fund_localnet_payer(&self, payer: &Pubkey) -> Result<(), HostError> {
        let handle = self.localnet()?;
        let mut net = handle.lock();
        let target = LOCALNET_PAYER_SOL * LAMPORTS_PER_SOL;
        if net.balance(payer) < target / 10 {
            net.airdrop(payer, target).map_err(|e| HostError::chain(e.to_string()))?;
        }
        Ok(())
    }

    /// The payer's pubkey when it can be had without asking anyone (not `prompt://`), to read
    /// its accounts together with others ahead of need.
    pub fn payer_if_unattended(&self) -> Option<Pubkey> {
        let loaded = self.payer.get().is_some_and(Result::is_ok);
        (loaded || self.settings.signer.is_unattended()).then(|| self.payer().ok().map(|p| p.pubkey())).flatten()
    }
}
