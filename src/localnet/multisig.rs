//! Localnet services for Squads multisigs: creating a multisig with a real transaction (the
//! program config it reads is part of every chain from genesis, see `genesis`); named keypairs that stay the same across runs of a runbook (members, cron
//! keys), derived from the localnet's faucet so no file holds them; and, for dry-runs,
//! rehearsing a proposal's execution as if it were approved.

use crate::localnet::Localnet;
use crate::localnet::services::ServiceError;
use crate::psyche::accounts::BorshAccount;
use crate::squads::accounts::{
    Member, Multisig, Permission, ProgramConfig, Proposal, ProposalStatus, VaultTransaction,
};
use crate::squads::instructions::{
    MultisigCreateAccounts, MultisigCreateArgsV2, multisig_create_v2, vault_transaction_execute,
};
use crate::squads::pdas;
use solana_sdk::instruction::Instruction;
use solana_sdk::message::Message;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, VersionedTransaction};

/// What `create_multisig` sets up.
pub struct MultisigSpec {
    pub create_key: Keypair,
    pub members: Vec<Member>,
    pub threshold: u16,
    pub time_lock: u32,
}

impl Localnet {
    /// Runs `instructions` as a multisig vault would (its signature and the others unchecked),
    /// the faucet paying: how a fork shows what a proposal's steps do.
    pub fn execute_as_vault(&mut self, instructions: &[Instruction]) -> Result<(), ServiceError> {
        let faucet = self.faucet();
        let message = Message::new_with_blockhash(instructions, Some(&faucet.pubkey()), &self.latest_blockhash());
        let mut tx = Transaction::new_unsigned(message);
        tx.partial_sign(&[&faucet], self.latest_blockhash());
        let executed = self.execute_unverified(&VersionedTransaction::from(tx));
        match executed.err {
            None => Ok(()),
            Some(err) => {
                Err(ServiceError { what: "previewing the step".into(), err: err.to_string(), logs: executed.logs })
            }
        }
    }

    /// Creates a multisig through `multisig_create_v2`, the faucet paying; returns its address.
    /// The treasury comes from the chain's program config, as any client reads it.
    pub fn create_multisig(&mut self, spec: MultisigSpec) -> Result<(Pubkey, Signature), ServiceError> {
        let program_config = pdas::program_config();
        let treasury = self
            .account(&program_config)
            .and_then(|a| ProgramConfig::decode(&a.data).ok())
            .ok_or_else(|| ServiceError {
                what: "create multisig".into(),
                err: format!("no Squads program config at {program_config}"),
                logs: Vec::new(),
            })?
            .treasury;
        let create_key = spec.create_key.pubkey();
        let multisig = pdas::multisig(&create_key).0;
        let faucet = self.faucet().pubkey();
        let accounts = MultisigCreateAccounts { program_config, treasury, multisig, create_key, creator: faucet };
        let args = MultisigCreateArgsV2 {
            config_authority: None,
            threshold: spec.threshold,
            members: spec.members,
            time_lock: spec.time_lock,
            rent_collector: None,
            memo: None,
        };
        let ix = multisig_create_v2(&accounts, &args);
        let executed = self.execute_signed("create multisig", &[ix], &[&spec.create_key])?;
        Ok((multisig, executed.signature))
    }

    /// The keypair named `name` on this localnet: the same on every run, different on
    /// another localnet.
    pub fn named_keypair(&self, name: &str) -> Keypair {
        let seed = solana_sdk::hash::hashv(&[&self.faucet().to_bytes(), b"named keypair:", name.as_bytes()]);
        Keypair::new_from_array(seed.to_bytes())
    }
}

/// Why a dry-run could not rehearse a proposal's execution.
#[derive(Debug, thiserror::Error)]
pub enum RehearsalError {
    #[error("proposal #{0}: {1}")]
    Missing(u64, &'static str),
    #[error(transparent)]
    Failed(#[from] ServiceError),
}

impl Localnet {
    /// Dry-runs only: executes vault transaction `index` as if its proposal were approved and
    /// its time lock over, by the first member with Execute (signatures unchecked for this one
    /// transaction, since a rehearsal holds no member keys), so the plan shows what it changes.
    pub fn rehearse_vault_transaction(&mut self, multisig: &Pubkey, index: u64) -> Result<(), RehearsalError> {
        let read = |net: &Self, key: &Pubkey| net.account(key).map(|a| a.data);
        let ms = read(self, multisig)
            .and_then(|d| Multisig::decode(&d).ok())
            .ok_or(RehearsalError::Missing(index, "no multisig"))?;
        let (proposal_key, transaction_key) = (pdas::proposal(multisig, index).0, pdas::transaction(multisig, index).0);
        let mut proposal_account = self.account(&proposal_key).ok_or(RehearsalError::Missing(index, "no proposal"))?;
        let mut proposal =
            Proposal::decode(&proposal_account.data).map_err(|_| RehearsalError::Missing(index, "not a proposal"))?;
        let transaction = read(self, &transaction_key)
            .and_then(|d| VaultTransaction::decode(&d).ok())
            .ok_or(RehearsalError::Missing(index, "no vault transaction"))?;
        let executor = ms
            .members
            .iter()
            .find(|m| m.permissions.has(Permission::Execute))
            .ok_or(RehearsalError::Missing(index, "no member may execute"))?
            .key;
        let now = self.clock().unix_timestamp;
        proposal.status = ProposalStatus::Approved { timestamp: now - i64::from(ms.time_lock) };
        proposal_account.data = proposal.encode(proposal_account.data.len());
        self.set_account(proposal_key, proposal_account);
        let ix = vault_transaction_execute(multisig, &proposal_key, &transaction_key, &executor, &transaction.message);
        let faucet = self.faucet();
        let message = Message::new_with_blockhash(&[ix], Some(&faucet.pubkey()), &self.latest_blockhash());
        let mut tx = Transaction::new_unsigned(message);
        tx.partial_sign(&[&faucet], self.latest_blockhash());
        let executed = self.execute_unverified(&VersionedTransaction::from(tx));
        if let Some(entry) = self.plan.as_mut().and_then(|plan| plan.last_mut()) {
            entry.instructions = vec![format!("squads.vault_transaction_execute #{index} (rehearsed as if approved)")];
        }
        match executed.err {
            None => Ok(()),
            Some(err) => Err(ServiceError {
                what: format!("rehearsing proposal #{index}"),
                err: err.to_string(),
                logs: executed.logs,
            }
            .into()),
        }
    }
}
