//! `Authorization`: a grantor's permission for a grantee (and its delegates) within a scope.

use crate::psyche::accounts::borsh_account;
use crate::psyche::pdas::PERMISSIONLESS_GRANTEE;
use crate::psyche::serde_b58;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, AnchorSerialize, AnchorDeserialize)]
pub struct Authorization {
    pub bump: u8,
    #[serde(with = "serde_b58::pubkey")]
    pub grantor: Pubkey,
    #[serde(with = "serde_b58::pubkey")]
    pub grantee: Pubkey,
    #[serde(serialize_with = "scope_text")]
    pub scope: Vec<u8>,
    pub active: bool,
    #[serde(serialize_with = "pubkeys")]
    pub delegates: Vec<Pubkey>,
    pub grantor_update_unix_timestamp: i64,
}

borsh_account!(Authorization, "Authorization", min_len = 8 + 1 + 32 + 32 + 4 + 1 + 4 + 8);

impl Authorization {
    /// Allocated size for a scope of `scope_len` bytes and `delegates` delegates.
    pub fn space(scope_len: usize, delegates: usize) -> usize {
        8 + 1 + 32 + 32 + (4 + scope_len) + 1 + (4 + 32 * delegates) + 8
    }

    /// Upstream's `is_valid_for`.
    pub fn is_valid_for(&self, grantor: &Pubkey, user: &Pubkey, scope: &[u8]) -> bool {
        self.active
            && self.grantor == *grantor
            && self.scope == scope
            && (self.grantee == PERMISSIONLESS_GRANTEE || self.grantee == *user || self.delegates.contains(user))
    }
}

fn scope_text<S: serde::Serializer>(scope: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&String::from_utf8_lossy(scope))
}

fn pubkeys<S: serde::Serializer>(keys: &[Pubkey], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(keys.iter().map(ToString::to_string))
}
