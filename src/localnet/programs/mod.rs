//! Psyche-compatible programs compiled for the host and installed as runtime builtins at the
//! upstream program IDs: decode and dispatch, check the accounts, log before every error,
//! named account indices. They store accounts through the wire layer's encoders, so what they
//! write decodes like a real account.

pub mod authorizer;
pub mod context;
pub mod coordinator;
pub mod squads;
pub mod treasurer;

use crate::localnet::programs::context::{Ctx, Result};
use anchor_lang::AnchorDeserialize;
use solana_sdk::instruction::InstructionError;

/// The 8-byte Anchor discriminator at the start of instruction data.
pub fn discriminator_of(data: &[u8]) -> Result<&[u8]> {
    data.get(..8).ok_or(InstructionError::InvalidInstructionData)
}

/// The Borsh arguments after the discriminator (trailing bytes ignored, as Anchor does).
pub fn args<T: AnchorDeserialize>(ctx: &Ctx, data: &[u8]) -> Result<T> {
    T::deserialize(&mut &data[8..]).map_err(|_| {
        ctx.fail(102, "InstructionDidNotDeserialize", "The program could not deserialize the given instruction")
    })
}
