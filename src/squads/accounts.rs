//! Squads v4 accounts (upstream `state/`): Anchor discriminators and Borsh layouts, with the
//! sizes the program allocates. The localnet program writes them with `encode`, so what it
//! stores decodes like a real account.

use crate::psyche::accounts::borsh_account;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use solana_sdk::pubkey::Pubkey;

/// Longest time lock a multisig may set: 90 days.
pub const MAX_TIME_LOCK: u32 = 3 * 30 * 24 * 60 * 60;

/// Member permissions, a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct Permissions {
    pub mask: u8,
}

/// One permission bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Initiate = 1,
    Vote = 2,
    Execute = 4,
}

impl Permission {
    pub const ALL: [Permission; 3] = [Permission::Initiate, Permission::Vote, Permission::Execute];

    pub fn name(self) -> &'static str {
        match self {
            Permission::Initiate => "initiate",
            Permission::Vote => "vote",
            Permission::Execute => "execute",
        }
    }
}

impl Permissions {
    pub const ALL: Permissions = Permissions { mask: 7 };

    pub fn has(self, permission: Permission) -> bool {
        self.mask & permission as u8 != 0
    }

    /// Lower-case names of the permissions held.
    pub fn names(self) -> Vec<&'static str> {
        Permission::ALL.into_iter().filter(|p| self.has(*p)).map(Permission::name).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct Member {
    pub key: Pubkey,
    pub permissions: Permissions,
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct Multisig {
    pub create_key: Pubkey,
    pub config_authority: Pubkey,
    pub threshold: u16,
    pub time_lock: u32,
    pub transaction_index: u64,
    pub stale_transaction_index: u64,
    pub rent_collector: Option<Pubkey>,
    pub bump: u8,
    /// Sorted by key (the program keeps them sorted and binary-searches them).
    pub members: Vec<Member>,
}
borsh_account!(Multisig, "Multisig", min_len = 8 + 32 + 32 + 2 + 4 + 8 + 8 + 1 + 1 + 4);

impl Multisig {
    /// Bytes upstream allocates (`rent_collector` always reserves its 32 bytes).
    pub fn size(members: usize) -> usize {
        8 + 32 + 32 + 2 + 4 + 8 + 8 + 1 + 32 + 1 + 4 + members * 33
    }

    pub fn member(&self, key: &Pubkey) -> Option<&Member> {
        self.members.binary_search_by_key(key, |m| m.key).ok().map(|i| &self.members[i])
    }

    pub fn has_permission(&self, key: &Pubkey, permission: Permission) -> bool {
        self.member(key).is_some_and(|m| m.permissions.has(permission))
    }

    pub fn voters(&self) -> usize {
        self.members.iter().filter(|m| m.permissions.has(Permission::Vote)).count()
    }

    /// Rejections that make a proposal Rejected: voters − threshold + 1.
    pub fn cutoff(&self) -> usize {
        self.voters().saturating_sub(usize::from(self.threshold)) + 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub enum ProposalStatus {
    Draft {
        timestamp: i64,
    },
    Active {
        timestamp: i64,
    },
    Rejected {
        timestamp: i64,
    },
    Approved {
        timestamp: i64,
    },
    /// Deprecated upstream (a former reentrancy guard); kept for the variant numbering.
    Executing,
    Executed {
        timestamp: i64,
    },
    Cancelled {
        timestamp: i64,
    },
}

impl ProposalStatus {
    pub fn name(&self) -> &'static str {
        match self {
            ProposalStatus::Draft { .. } => "Draft",
            ProposalStatus::Active { .. } => "Active",
            ProposalStatus::Rejected { .. } => "Rejected",
            ProposalStatus::Approved { .. } => "Approved",
            ProposalStatus::Executing => "Executing",
            ProposalStatus::Executed { .. } => "Executed",
            ProposalStatus::Cancelled { .. } => "Cancelled",
        }
    }

    /// Still able to reach execution (Draft, Active or Approved).
    pub fn is_pending(&self) -> bool {
        matches!(self, ProposalStatus::Draft { .. } | ProposalStatus::Active { .. } | ProposalStatus::Approved { .. })
    }

    pub fn timestamp(&self) -> Option<i64> {
        match *self {
            ProposalStatus::Draft { timestamp }
            | ProposalStatus::Active { timestamp }
            | ProposalStatus::Rejected { timestamp }
            | ProposalStatus::Approved { timestamp }
            | ProposalStatus::Executed { timestamp }
            | ProposalStatus::Cancelled { timestamp } => Some(timestamp),
            ProposalStatus::Executing => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct Proposal {
    pub multisig: Pubkey,
    pub transaction_index: u64,
    pub status: ProposalStatus,
    pub bump: u8,
    /// Each sorted (binary-searched upstream).
    pub approved: Vec<Pubkey>,
    pub rejected: Vec<Pubkey>,
    pub cancelled: Vec<Pubkey>,
}
borsh_account!(Proposal, "Proposal", min_len = 8 + 32 + 8 + 1 + 1 + 12);

impl Proposal {
    /// Bytes upstream allocates: room for every member in each vote list.
    pub fn size(members: usize) -> usize {
        8 + 32 + 8 + 1 + 8 + 1 + 3 * (4 + members * 32)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct MultisigCompiledInstruction {
    pub program_id_index: u8,
    pub account_indexes: Vec<u8>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct MultisigMessageAddressTableLookup {
    pub account_key: Pubkey,
    pub writable_indexes: Vec<u8>,
    pub readonly_indexes: Vec<u8>,
}

/// The message a vault transaction stores (u32 vector lengths, unlike the compact
/// `TransactionMessage` it was created from).
#[derive(Debug, Clone, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct VaultTransactionMessage {
    pub num_signers: u8,
    pub num_writable_signers: u8,
    pub num_writable_non_signers: u8,
    pub account_keys: Vec<Pubkey>,
    pub instructions: Vec<MultisigCompiledInstruction>,
    pub address_table_lookups: Vec<MultisigMessageAddressTableLookup>,
}

impl VaultTransactionMessage {
    pub fn is_signer_index(&self, index: usize) -> bool {
        index < usize::from(self.num_signers)
    }

    /// Upstream's rule: writable signers first, then writable non-signers after the signers.
    pub fn is_static_writable_index(&self, index: usize) -> bool {
        let signers = usize::from(self.num_signers);
        if index >= self.account_keys.len() {
            return false;
        }
        if index < usize::from(self.num_writable_signers) {
            return true;
        }
        index >= signers && index - signers < usize::from(self.num_writable_non_signers)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct VaultTransaction {
    pub multisig: Pubkey,
    pub creator: Pubkey,
    pub index: u64,
    pub bump: u8,
    pub vault_index: u8,
    pub vault_bump: u8,
    pub ephemeral_signer_bumps: Vec<u8>,
    pub message: VaultTransactionMessage,
}
borsh_account!(VaultTransaction, "VaultTransaction", min_len = 8 + 32 + 32 + 8 + 3 + 4 + 3 + 12);

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub enum Period {
    OneTime,
    Day,
    Week,
    Month,
}

impl Period {
    /// Seconds before the remaining amount resets (none for `OneTime`).
    pub fn seconds(self) -> Option<i64> {
        match self {
            Period::OneTime => None,
            Period::Day => Some(24 * 60 * 60),
            Period::Week => Some(7 * 24 * 60 * 60),
            Period::Month => Some(30 * 24 * 60 * 60),
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().replace(['_', '-', ' '], "").as_str() {
            "onetime" => Some(Period::OneTime),
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub enum ConfigAction {
    AddMember {
        new_member: Member,
    },
    RemoveMember {
        old_member: Pubkey,
    },
    ChangeThreshold {
        new_threshold: u16,
    },
    SetTimeLock {
        new_time_lock: u32,
    },
    AddSpendingLimit {
        create_key: Pubkey,
        vault_index: u8,
        mint: Pubkey,
        amount: u64,
        period: Period,
        members: Vec<Pubkey>,
        destinations: Vec<Pubkey>,
    },
    RemoveSpendingLimit {
        spending_limit: Pubkey,
    },
    SetRentCollector {
        new_rent_collector: Option<Pubkey>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct ConfigTransaction {
    pub multisig: Pubkey,
    pub creator: Pubkey,
    pub index: u64,
    pub bump: u8,
    pub actions: Vec<ConfigAction>,
}
borsh_account!(ConfigTransaction, "ConfigTransaction", min_len = 8 + 32 + 32 + 8 + 1 + 4);

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct SpendingLimit {
    pub multisig: Pubkey,
    pub create_key: Pubkey,
    pub vault_index: u8,
    /// The default pubkey for SOL.
    pub mint: Pubkey,
    pub amount: u64,
    pub period: Period,
    pub remaining_amount: u64,
    pub last_reset: i64,
    pub bump: u8,
    /// Sorted.
    pub members: Vec<Pubkey>,
    /// Empty: any destination.
    pub destinations: Vec<Pubkey>,
}
borsh_account!(SpendingLimit, "SpendingLimit", min_len = SpendingLimit::size(0, 0));

impl SpendingLimit {
    pub const fn size(members: usize, destinations: usize) -> usize {
        8 + 32 + 32 + 1 + 32 + 8 + 1 + 8 + 8 + 1 + 4 + members * 32 + 4 + destinations * 32
    }

    /// The amount still spendable at `now`, counting a reset that `spending_limit_use` would
    /// apply first.
    pub fn available_at(&self, now: i64) -> u64 {
        match self.period.seconds() {
            Some(period) if now - self.last_reset > period => self.amount,
            _ => self.remaining_amount,
        }
    }

    /// When the next reset can happen (none for one-time limits).
    pub fn next_reset(&self) -> Option<i64> {
        self.period.seconds().map(|p| self.last_reset + p + 1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct ProgramConfig {
    pub authority: Pubkey,
    pub multisig_creation_fee: u64,
    pub treasury: Pubkey,
    pub reserved: [u8; 64],
}
borsh_account!(ProgramConfig, "ProgramConfig", min_len = ProgramConfig::SIZE);

impl ProgramConfig {
    pub const SIZE: usize = 8 + 32 + 8 + 32 + 64;
}
