//! Psyche-compatible programs compiled for the host and installed as runtime builtins at the
//! configured program IDs (upstream's by default): decode and dispatch, check the accounts, log
//! before every error, named account indices. They store accounts through the wire layer's
//! encoders, so what they write decodes like a real account.

pub mod anchor_error;
pub mod authorizer;
pub mod context;
pub mod coordinator;
pub mod squads;
pub mod treasurer;

use crate::localnet::programs::context::{Ctx, Result};
use anchor_lang::AnchorDeserialize;
use anchor_lang::error::ErrorCode;
use solana_sdk::instruction::InstructionError;

/// The 8-byte Anchor discriminator at the start of instruction data (Anchor's 100 when the
/// data is shorter).
pub fn discriminator_of<'d>(ctx: &Ctx, data: &'d [u8]) -> Result<&'d [u8]> {
    data.get(..8).ok_or_else(|| ctx.occurred(ErrorCode::InstructionMissing))
}

/// The Borsh arguments after the discriminator (trailing bytes ignored, as Anchor does).
pub fn args<T: AnchorDeserialize>(ctx: &Ctx, data: &[u8]) -> Result<T> {
    T::deserialize(&mut &data[8..]).map_err(|_| did_not_deserialize(ctx))
}

/// Anchor's 102, for arguments that do not decode.
pub fn did_not_deserialize(ctx: &Ctx) -> InstructionError {
    ctx.occurred(ErrorCode::InstructionDidNotDeserialize)
}

/// Anchor's 101, for a discriminator the program does not know.
pub fn fallback_not_found(ctx: &Ctx) -> InstructionError {
    ctx.occurred(ErrorCode::InstructionFallbackNotFound)
}

// Stands at program IDs the localnet moved its programs away from: LiteSVM keeps a builtin
// once added, so the old address answers every instruction with a failure.
solana_program_runtime::declare_process_instruction!(Undeployed, 1, |invoke_context| {
    let ctx = Ctx::new(invoke_context);
    ctx.log(
        "no Psyche program is deployed at this address on this localnet: it runs them at the configured program IDs",
    );
    Err(InstructionError::UnsupportedProgramId)
});
