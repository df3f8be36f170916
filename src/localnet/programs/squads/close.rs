//! `config_transaction_accounts_close` and `vault_transaction_accounts_close`: once a
//! transaction can no longer run (its proposal Executed, Rejected or Cancelled, or the
//! transaction stale and not executable), anyone may close it and its proposal, the rent going
//! to the multisig's rent collector. A multisig without one keeps its accounts.

use crate::localnet::programs::anchor_error::AnchorError;
use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::checks::{anchor, check_multisig_seeds, require};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::ids::SYSTEM;
use crate::squads::accounts::{ConfigTransaction, Multisig, Proposal, ProposalStatus, VaultTransaction};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::TransactionKind;
use anchor_lang::error::ErrorCode;
use solana_sdk::pubkey::Pubkey;

const MULTISIG: u16 = 0;
const PROPOSAL: u16 = 1;
const TRANSACTION: u16 = 2;
const RENT_COLLECTOR: u16 = 3;
const SYSTEM_PROGRAM: u16 = 4;

/// The fields of either transaction kind the closing checks read.
struct Closing {
    multisig: Pubkey,
    index: u64,
}

fn load_transaction(ctx: &Ctx, kind: TransactionKind) -> Result<Closing> {
    Ok(match kind {
        TransactionKind::Config => {
            let t: ConfigTransaction = ctx.load(TRANSACTION, "transaction")?;
            Closing { multisig: t.multisig, index: t.index }
        }
        TransactionKind::Vault => {
            let t: VaultTransaction = ctx.load(TRANSACTION, "transaction")?;
            Closing { multisig: t.multisig, index: t.index }
        }
    })
}

pub fn transaction_accounts_close(ctx: &mut Ctx, kind: TransactionKind) -> Result<()> {
    ctx.expect_accounts(&["multisig", "proposal", "transaction", "rent_collector", "system_program"])?;
    let multisig: Multisig = ctx.load(MULTISIG, "multisig")?;
    let transaction = load_transaction(ctx, kind)?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;

    let address = ctx.key(MULTISIG)?;
    check_multisig_seeds(ctx, MULTISIG, &multisig)?;
    let Some(rent_collector) = multisig.rent_collector else {
        return Err(ctx.raise(anchor(MultisigError::RentReclamationDisabled).account("multisig")));
    };
    // The canonical proposal of the transaction, whether or not it exists.
    let seeds: &[&[u8]] =
        &[b"multisig", address.as_ref(), b"transaction", &transaction.index.to_le_bytes(), b"proposal"];
    ctx.check_seeds(PROPOSAL, "proposal", Some(Pubkey::find_program_address(seeds, &ctx.program_id()?).0))?;
    ctx.require_writable(PROPOSAL, "proposal")?;
    ctx.require_writable(TRANSACTION, "transaction")?;
    if transaction.multisig != address {
        let error = anchor(MultisigError::TransactionForAnotherMultisig).account("transaction");
        return Err(ctx.raise(error.pubkeys(transaction.multisig, address)));
    }
    if ctx.key(TRANSACTION)? == ctx.key(RENT_COLLECTOR)? {
        return Err(ctx.account_error("transaction", ErrorCode::ConstraintClose));
    }
    ctx.require_writable(RENT_COLLECTOR, "rent_collector")?;
    let given = ctx.key(RENT_COLLECTOR)?;
    if given != rent_collector {
        let error = anchor(MultisigError::InvalidRentCollector).account("rent_collector");
        return Err(ctx.raise(error.pubkeys(given, rent_collector)));
    }

    let stale = transaction.index <= multisig.stale_transaction_index;
    let proposal = load_proposal_if_any(ctx)?;
    let can_close = match proposal.as_ref().map(|p| p.status) {
        // No proposal: nothing can approve the transaction once it is stale.
        None => stale,
        Some(ProposalStatus::Draft { .. } | ProposalStatus::Active { .. }) => stale,
        // A stale config transaction can no longer execute; a vault transaction still can.
        Some(ProposalStatus::Approved { .. }) => kind == TransactionKind::Config && stale,
        Some(ProposalStatus::Rejected { .. } | ProposalStatus::Executed { .. } | ProposalStatus::Cancelled { .. }) => {
            true
        }
        Some(ProposalStatus::Executing) => false,
    };
    require(ctx, can_close, MultisigError::InvalidProposalStatus)?;
    if proposal.is_some() {
        ctx.close(PROPOSAL, RENT_COLLECTOR)?;
    }
    // Anchor's `close = rent_collector` on the transaction.
    ctx.close(TRANSACTION, RENT_COLLECTOR)
}

/// The proposal as upstream reads an `AccountInfo` that may be empty: `Proposal::try_deserialize`,
/// whose errors name the account type rather than the field.
fn load_proposal_if_any(ctx: &Ctx) -> Result<Option<Proposal>> {
    let data = ctx.account(PROPOSAL)?.data;
    if data.is_empty() {
        return Ok(None);
    }
    let error = match data.get(..8) {
        None => AnchorError::framework(ErrorCode::AccountDiscriminatorNotFound),
        Some(d) if d != <Proposal as anchor_lang::Discriminator>::DISCRIMINATOR => {
            AnchorError::framework(ErrorCode::AccountDiscriminatorMismatch).account("Proposal")
        }
        Some(_) => match Proposal::decode(&data) {
            Ok(proposal) => return Ok(Some(proposal)),
            Err(_) => AnchorError::framework(ErrorCode::AccountDidNotDeserialize),
        },
    };
    Err(ctx.raise(error))
}
