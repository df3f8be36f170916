//! Program-derived addresses of Psyche's accounts, with the seeds upstream uses.

use crate::psyche::ids::{ProgramIds, TOKEN};
use solana_sdk::pubkey::Pubkey;

/// The join scope the coordinator checks authorizations against.
pub const JOIN_RUN_SCOPE: &[u8] = b"CoordinatorJoinRun";

/// The grantee of a permissionless authorization: the all-zero key.
pub const PERMISSIONLESS_GRANTEE: Pubkey = Pubkey::new_from_array([0; 32]);

/// Longest run id the coordinator accepts, in bytes.
pub const MAX_RUN_ID_LEN: usize = 32;

pub fn coordinator_instance(ids: &ProgramIds, run_id: &str) -> Pubkey {
    Pubkey::find_program_address(&[b"coordinator", run_id.as_bytes()], &ids.coordinator).0
}

pub fn authorization(ids: &ProgramIds, grantor: &Pubkey, grantee: &Pubkey, scope: &[u8]) -> Pubkey {
    Pubkey::find_program_address(&[b"Authorization", grantor.as_ref(), grantee.as_ref(), scope], &ids.authorizer).0
}

/// The join authorization of `grantee` under `join_authority`.
pub fn join_authorization(ids: &ProgramIds, join_authority: &Pubkey, grantee: &Pubkey) -> Pubkey {
    authorization(ids, join_authority, grantee, JOIN_RUN_SCOPE)
}

/// Upstream's default treasurer index: the first 8 bytes of sha256(run_id), little-endian.
pub fn treasurer_index(run_id: &str) -> u64 {
    let digest = solana_sdk::hash::hash(run_id.as_bytes()).to_bytes();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

pub fn treasurer_run(ids: &ProgramIds, index: u64) -> Pubkey {
    Pubkey::find_program_address(&[b"Run", &index.to_le_bytes()], &ids.treasurer).0
}

pub fn participant(ids: &ProgramIds, run: &Pubkey, user: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[b"Participant", run.as_ref(), user.as_ref()], &ids.treasurer).0
}

/// The associated token account of `owner` for `mint` under the classic token program.
pub fn associated_token(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(owner, mint, &TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::rent::Rent;

    fn key(s: &str) -> Pubkey {
        s.parse().unwrap()
    }

    // Test vectors from the wire reference (spec 2.7).
    #[test]
    fn spec_vectors() {
        let ids = ProgramIds::default();
        assert_eq!(coordinator_instance(&ids, "test"), key("9L4yCH7TsMn9JfoXYEupuQwtcNPTTtHcyNL6uqDfjwGB"));
        let index = treasurer_index("test");
        assert_eq!(index.to_le_bytes(), [0x9f, 0x86, 0xd0, 0x81, 0x88, 0x4c, 0x7d, 0x65]);
        assert_eq!(index, 7313085519096743583);
        let run = treasurer_run(&ids, index);
        assert_eq!(run, key("tG3nRngwkJC3JAL9Aq9AMhFtTzr56hr9ZmaSRpD8dT8"));
        assert_eq!(
            join_authorization(&ids, &key("11111111111111111111111111111112"), &PERMISSIONLESS_GRANTEE),
            key("4L8uw6sms2XJ8nQYdpLz8XTyCRdNhu9W4waTScaJADS6")
        );
        assert_eq!(
            participant(&ids, &run, &key("11111111111111111111111111111112")),
            key("BdyTNytJfQfsJFajmyTdzKvfzTbAiMH2hNYnemEq5A6E")
        );
    }

    #[test]
    fn spec_rents() {
        let rent = Rent::default();
        for (size, lamports) in
            [(119_160, 830_244_480), (173, 2_094_960), (108, 1_642_560), (200, 2_282_880), (32, 1_113_600)]
        {
            assert_eq!(rent.minimum_balance(size), lamports, "rent for {size} bytes");
        }
    }
}
