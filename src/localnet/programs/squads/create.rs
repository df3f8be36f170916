//! `multisig_create_v2`: a multisig at the PDA of its create key, paying the program config's
//! creation fee to its treasury.

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::{fail, invariant, require, store_multisig};
use crate::squads::accounts::{Multisig, ProgramConfig};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::MultisigCreateArgsV2;
use solana_sdk::pubkey::Pubkey;

pub fn multisig_create_v2(ctx: &mut Ctx, args: MultisigCreateArgsV2) -> Result<()> {
    const PROGRAM_CONFIG: u16 = 0;
    const TREASURY: u16 = 1;
    const MULTISIG: u16 = 2;
    const CREATE_KEY: u16 = 3;
    const CREATOR: u16 = 4;
    ctx.expect_accounts(6)?;
    let program = ctx.program_id()?;
    let config: ProgramConfig = ctx.load(PROGRAM_CONFIG, "program_config")?;
    if Pubkey::find_program_address(&[b"multisig", b"program_config"], &program).0 != ctx.key(PROGRAM_CONFIG)? {
        return Err(ctx.constraint_seeds("program_config"));
    }
    ctx.require_signer(CREATE_KEY, "create_key")?;
    ctx.require_signer(CREATOR, "creator")?;
    require(ctx, ctx.key(TREASURY)? == config.treasury, MultisigError::InvalidAccount)?;
    let (create_key, creator, address) = (ctx.key(CREATE_KEY)?, ctx.key(CREATOR)?, ctx.key(MULTISIG)?);
    let (expected, bump) = Pubkey::find_program_address(&[b"multisig", b"multisig", create_key.as_ref()], &program);
    if expected != address {
        return Err(ctx.constraint_seeds("multisig"));
    }
    let mut members = args.members;
    members.sort_by_key(|m| m.key);
    let multisig = Multisig {
        create_key,
        config_authority: args.config_authority.unwrap_or_default(),
        threshold: args.threshold,
        time_lock: args.time_lock,
        transaction_index: 0,
        stale_transaction_index: 0,
        rent_collector: args.rent_collector,
        bump,
        members,
    };
    invariant(ctx, &multisig)?;
    ctx.create_pda(creator, address, Multisig::size(multisig.members.len()), &program)?;
    store_multisig(ctx, MULTISIG, &multisig, None)?;
    if config.multisig_creation_fee > 0 {
        let fee =
            solana_system_interface::instruction::transfer(&creator, &config.treasury, config.multisig_creation_fee);
        ctx.invoke(fee, &[]).map_err(|_| fail(ctx, MultisigError::InvalidAccount))?;
    }
    Ok(())
}
