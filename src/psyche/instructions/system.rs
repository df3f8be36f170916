//! The non-Psyche instructions a run needs: the system `create_account` for the coordinator
//! account, classic SPL Token `transfer`, and idempotent ATA creation.

use crate::psyche::accounts::coordinator_account;
use crate::psyche::ids::{ProgramIds, TOKEN};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::rent::Rent;

/// Creates the 119,160-byte, rent-exempt coordinator account owned by the coordinator program.
pub fn create_coordinator_account(ids: &ProgramIds, payer: &Pubkey, account: &Pubkey, rent: &Rent) -> Instruction {
    let size = coordinator_account::SIZE;
    solana_system_interface::instruction::create_account(
        payer,
        account,
        rent.minimum_balance(size),
        size as u64,
        &ids.coordinator,
    )
}

/// Classic SPL Token `transfer` (not `transfer_checked`), as upstream's top-up sends it.
pub fn token_transfer(source: &Pubkey, destination: &Pubkey, owner: &Pubkey, amount: u64) -> Instruction {
    spl_token_interface::instruction::transfer(&TOKEN, source, destination, owner, &[], amount)
        .expect("the classic token program id is valid")
}

pub fn create_ata_idempotent(payer: &Pubkey, owner: &Pubkey, mint: &Pubkey) -> Instruction {
    spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
        payer, owner, mint, &TOKEN,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psyche::pdas::associated_token;

    #[test]
    fn ata_instruction_targets_the_derived_address() {
        let (payer, owner, mint) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        let ix = create_ata_idempotent(&payer, &owner, &mint);
        assert_eq!(ix.accounts[1].pubkey, associated_token(&owner, &mint));
        assert_eq!(ix.data, [1]);
    }

    #[test]
    fn create_account_carries_the_rent_minimum() {
        let ix = create_coordinator_account(
            &ProgramIds::default(),
            &Pubkey::new_unique(),
            &Pubkey::new_unique(),
            &Rent::default(),
        );
        // bincode: u32 tag 0, lamports, space, owner
        assert_eq!(&ix.data[..4], &[0, 0, 0, 0]);
        assert_eq!(u64::from_le_bytes(ix.data[4..12].try_into().unwrap()), 830_244_480);
        assert_eq!(u64::from_le_bytes(ix.data[12..20].try_into().unwrap()), 119_160);
    }
}
