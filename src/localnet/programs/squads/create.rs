//! `multisig_create_v2`: a multisig at the PDA of its create key, paying the program config's
//! creation fee to its treasury.

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::checks::{invariant, require_keys_eq, store_multisig};
use crate::psyche::ids::SYSTEM;
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
    const SYSTEM_PROGRAM: u16 = 5;
    ctx.expect_accounts(&["program_config", "treasury", "", "create_key", "creator", "system_program"])?;
    let program = ctx.program_id()?;
    let config: ProgramConfig = ctx.load(PROGRAM_CONFIG, "program_config")?;
    ctx.require_signer(CREATE_KEY, "create_key")?;
    ctx.require_signer(CREATOR, "creator")?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    // `init` first: the multisig's seeds, then the account itself.
    let (create_key, creator) = (ctx.key(CREATE_KEY)?, ctx.key(CREATOR)?);
    let (address, bump) = Pubkey::find_program_address(&[b"multisig", b"multisig", create_key.as_ref()], &program);
    ctx.check_seeds(MULTISIG, "multisig", Some(address))?;
    ctx.create_pda(creator, address, Multisig::size(args.members.len()), &program)?;
    let config_address = Pubkey::find_program_address(&[b"multisig", b"program_config"], &program).0;
    ctx.check_seeds(PROGRAM_CONFIG, "program_config", Some(config_address))?;
    ctx.require_writable(TREASURY, "treasury")?;
    ctx.require_writable(CREATOR, "creator")?;
    require_keys_eq(ctx, ctx.key(TREASURY)?, config.treasury, MultisigError::InvalidAccount)?;

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
    store_multisig(ctx, MULTISIG, &multisig, None)?;
    if config.multisig_creation_fee > 0 {
        let fee =
            solana_system_interface::instruction::transfer(&creator, &config.treasury, config.multisig_creation_fee);
        ctx.invoke(fee, &[])?;
        ctx.log(&format!(
            "Creation fee: {}",
            config.multisig_creation_fee / solana_sdk::native_token::LAMPORTS_PER_SOL
        ));
    }
    Ok(())
}
