//! Instruction builders, byte-identical to what Psyche's own client sends: Anchor
//! discriminators, Borsh arguments in declaration order, account metas in the order and with
//! the flags of upstream's `#[derive(Accounts)]` structs.

pub mod authorizer;
pub mod coordinator;
pub mod system;
pub mod treasurer;

use solana_sdk::instruction::AccountMeta;
use solana_sdk::pubkey::Pubkey;

/// Implements Anchor's `Discriminator` (`global:<name>`) and `InstructionData` for an
/// instruction-argument struct.
macro_rules! instruction_data {
    ($ty:ty, $name:literal) => {
        impl anchor_lang::Discriminator for $ty {
            const DISCRIMINATOR: &'static [u8] = &$crate::psyche::encoding::discriminator(concat!("global:", $name));
        }
        impl anchor_lang::InstructionData for $ty {}
    };
}
pub(crate) use instruction_data;

pub(crate) fn signer(key: Pubkey, writable: bool) -> AccountMeta {
    if writable { AccountMeta::new(key, true) } else { AccountMeta::new_readonly(key, true) }
}

pub(crate) fn writable(key: Pubkey) -> AccountMeta {
    AccountMeta::new(key, false)
}

pub(crate) fn readonly(key: Pubkey) -> AccountMeta {
    AccountMeta::new_readonly(key, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psyche::encoding::discriminator;
    use anchor_lang::Discriminator;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every discriminator of spec 2.2, instructions and accounts.
    #[test]
    fn spec_discriminators() {
        let table: &[(&[u8], &str)] = &[
            (coordinator::InitCoordinator::DISCRIMINATOR, "14399449e8857a19"),
            (coordinator::FreeCoordinator::DISCRIMINATOR, "59d8d7e5dff24a20"),
            (coordinator::Update::DISCRIMINATOR, "dbc858b09e3ffd7f"),
            (coordinator::UpdateClientVersion::DISCRIMINATOR, "c1152e3c33020dfb"),
            (coordinator::SetFutureEpochRates::DISCRIMINATOR, "ef15a057c7c8b681"),
            (coordinator::JoinRun::DISCRIMINATOR, "48a07d666a86f64b"),
            (coordinator::SetPaused::DISCRIMINATOR, "5b3c7dc0b0e1a6da"),
            (coordinator::Tick::DISCRIMINATOR, "5c4f2c0865503f0f"),
            (coordinator::CheckpointIx::DISCRIMINATOR, "d5c813ccf08fb8fc"),
            (coordinator::CheckpointHubRepoIx::DISCRIMINATOR, "d5c813ccf08fb8fc"),
            (&discriminator("global:witness"), "d5f495198edf1527"),
            (&discriminator("global:warmup_witness"), "d3e87ae83f16375e"),
            (&discriminator("global:health_check"), "735a63a88a129d83"),
            (authorizer::AuthorizationCreate::DISCRIMINATOR, "149dc4b3e7df6d66"),
            (authorizer::AuthorizationGrantorUpdate::DISCRIMINATOR, "1d7441a161bd3af9"),
            (authorizer::AuthorizationGranteeUpdate::DISCRIMINATOR, "ba6f7fc75990c143"),
            (authorizer::AuthorizationClose::DISCRIMINATOR, "81d0f820c8855717"),
            (treasurer::RunCreate::DISCRIMINATOR, "c638a3f70e3aa7fd"),
            (treasurer::RunUpdate::DISCRIMINATOR, "33562e740d42149d"),
            (treasurer::ParticipantCreate::DISCRIMINATOR, "32b18e2875b046b5"),
            (treasurer::ParticipantClaim::DISCRIMINATOR, "a096e8563b6bad26"),
            (&crate::psyche::accounts::coordinator_account::DISCRIMINATOR, "ef21b1372c9b562b"),
            (crate::psyche::accounts::instance::CoordinatorInstance::DISCRIMINATOR, "9c099910af181ffc"),
            (crate::psyche::accounts::authorization::Authorization::DISCRIMINATOR, "0344a8f3c3a8204b"),
            (crate::psyche::accounts::treasurer::TreasurerRun::DISCRIMINATOR, "c7369b56eb73f6bd"),
            (crate::psyche::accounts::treasurer::Participant::DISCRIMINATOR, "208e6c4ff7b33606"),
        ];
        for (bytes, expected) in table {
            assert_eq!(hex(bytes), *expected);
        }
    }
}
