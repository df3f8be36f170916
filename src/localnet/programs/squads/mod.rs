//! The Squads v4 program, host-compiled at the upstream ID: multisig creation, vault and config
//! transactions, proposals and votes (`proposal_cancel_v2` included), execution (the vault signs
//! CPIs into any program), spending limits and the transaction accounts-close instructions,
//! with upstream's constraints in its Anchor structs' order, permission checks, time lock,
//! stale transaction rule, error codes and log lines. The rest of the IDL answers 101, as an
//! Anchor program does for an unknown discriminator. Dispatch lives here; the checks every
//! instruction shares are in `checks`.

mod checks;
mod close;
mod config;
mod create;
mod execute;
mod proposals;
mod spending_limit;
mod votes;

use crate::localnet::programs::context::Ctx;
use crate::localnet::programs::{args, discriminator_of, fallback_not_found};
use crate::squads::instructions::{
    ConfigTransactionAccountsClose, ConfigTransactionCreateArgs, ConfigTransactionExecute, MultisigCreateArgsV2,
    ProposalActivate, ProposalCancelV2, ProposalCreateArgs, ProposalVoteArgs, SpendingLimitUseArgs, TransactionKind,
    VaultTransactionAccountsClose, VaultTransactionCreateArgs, VaultTransactionExecute, Vote,
};
use anchor_lang::Discriminator;

solana_program_runtime::declare_process_instruction!(Entrypoint, 5_000, |invoke_context| {
    let mut ctx = Ctx::new(invoke_context);
    let data = ctx.data()?;
    let d = discriminator_of(&ctx, &data)?;
    if d == MultisigCreateArgsV2::DISCRIMINATOR {
        let ix: MultisigCreateArgsV2 = args(&ctx, &data)?;
        return create::multisig_create_v2(&mut ctx, ix);
    }
    if d == VaultTransactionCreateArgs::DISCRIMINATOR {
        let ix: VaultTransactionCreateArgs = args(&ctx, &data)?;
        return proposals::vault_transaction_create(&mut ctx, ix);
    }
    if d == ConfigTransactionCreateArgs::DISCRIMINATOR {
        let ix: ConfigTransactionCreateArgs = args(&ctx, &data)?;
        return config::config_transaction_create(&mut ctx, ix);
    }
    if d == ProposalCreateArgs::DISCRIMINATOR {
        let ix: ProposalCreateArgs = args(&ctx, &data)?;
        return proposals::proposal_create(&mut ctx, ix);
    }
    if d == ProposalActivate::DISCRIMINATOR {
        return proposals::proposal_activate(&mut ctx);
    }
    for vote in [Vote::Approve, Vote::Reject, Vote::Cancel] {
        if d == vote.discriminator() {
            let _: ProposalVoteArgs = args(&ctx, &data)?;
            return votes::vote(&mut ctx, vote);
        }
    }
    if d == ProposalCancelV2::DISCRIMINATOR_BYTES {
        let _: ProposalVoteArgs = args(&ctx, &data)?;
        return votes::proposal_cancel_v2(&mut ctx);
    }
    if d == VaultTransactionExecute::DISCRIMINATOR {
        return execute::vault_transaction_execute(&mut ctx);
    }
    if d == ConfigTransactionExecute::DISCRIMINATOR {
        return config::config_transaction_execute(&mut ctx);
    }
    if d == ConfigTransactionAccountsClose::DISCRIMINATOR {
        return close::transaction_accounts_close(&mut ctx, TransactionKind::Config);
    }
    if d == VaultTransactionAccountsClose::DISCRIMINATOR {
        return close::transaction_accounts_close(&mut ctx, TransactionKind::Vault);
    }
    if d == SpendingLimitUseArgs::DISCRIMINATOR {
        let ix: SpendingLimitUseArgs = args(&ctx, &data)?;
        return spending_limit::spending_limit_use(&mut ctx, ix);
    }
    Err(fallback_not_found(&ctx))
});
