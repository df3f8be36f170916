//! Squads v4 error codes (upstream `errors.rs`, Anchor numbering from 6000 in declaration
//! order) with their messages, so the localnet program fails like upstream and the API can
//! name a failure.

/// Declares the error enum and `ALL`, its variants in declaration order, from one list.
macro_rules! errors {
    ($($name:ident),* $(,)?) => {
        /// A Squads error: its name and message; the code is 6000 + its position.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum MultisigError {
            $($name),*
        }

        /// Every error in declaration order (its index is its code minus 6000).
        pub const ALL: &[MultisigError] = &[$(MultisigError::$name),*];
    };
}

errors! {
    DuplicateMember,
    EmptyMembers,
    TooManyMembers,
    InvalidThreshold,
    Unauthorized,
    NotAMember,
    InvalidTransactionMessage,
    StaleProposal,
    InvalidProposalStatus,
    InvalidTransactionIndex,
    AlreadyApproved,
    AlreadyRejected,
    AlreadyCancelled,
    InvalidNumberOfAccounts,
    InvalidAccount,
    RemoveLastMember,
    NoVoters,
    NoProposers,
    NoExecutors,
    InvalidStaleTransactionIndex,
    NotSupportedForControlled,
    TimeLockNotReleased,
    NoActions,
    MissingAccount,
    InvalidMint,
    InvalidDestination,
    SpendingLimitExceeded,
    DecimalsMismatch,
    UnknownPermission,
    ProtectedAccount,
    TimeLockExceedsMaxAllowed,
    IllegalAccountOwner,
    RentReclamationDisabled,
    InvalidRentCollector,
    ProposalForAnotherMultisig,
    TransactionForAnotherMultisig,
    TransactionNotMatchingProposal,
    TransactionNotLastInBatch,
    BatchNotEmpty,
    SpendingLimitInvalidAmount,
    InvalidInstructionArgs,
    FinalBufferHashMismatch,
    FinalBufferSizeExceeded,
    FinalBufferSizeMismatch,
    MultisigCreateDeprecated,
}

use MultisigError::*;

impl MultisigError {
    pub fn code(self) -> u32 {
        6000 + ALL.iter().position(|e| *e == self).expect("every error is listed") as u32
    }

    pub fn from_code(code: u32) -> Option<Self> {
        ALL.get(usize::try_from(code.checked_sub(6000)?).ok()?).copied()
    }

    pub fn name(self) -> String {
        format!("{self:?}")
    }

    pub fn message(self) -> &'static str {
        match self {
            DuplicateMember => "Found multiple members with the same pubkey",
            EmptyMembers => "Members array is empty",
            TooManyMembers => "Too many members, can be up to 65535",
            InvalidThreshold => "Invalid threshold, must be between 1 and number of members with Vote permission",
            Unauthorized => "Attempted to perform an unauthorized action",
            NotAMember => "Provided pubkey is not a member of multisig",
            InvalidTransactionMessage => "TransactionMessage is malformed.",
            StaleProposal => "Proposal is stale",
            InvalidProposalStatus => "Invalid proposal status",
            InvalidTransactionIndex => "Invalid transaction index",
            AlreadyApproved => "Member already approved the transaction",
            AlreadyRejected => "Member already rejected the transaction",
            AlreadyCancelled => "Member already cancelled the transaction",
            InvalidNumberOfAccounts => "Wrong number of accounts provided",
            InvalidAccount => "Invalid account provided",
            RemoveLastMember => "Cannot remove last member",
            NoVoters => "Members don't include any voters",
            NoProposers => "Members don't include any proposers",
            NoExecutors => "Members don't include any executors",
            InvalidStaleTransactionIndex => "`stale_transaction_index` must be <= `transaction_index`",
            NotSupportedForControlled => "Instruction not supported for controlled multisig",
            TimeLockNotReleased => "Proposal time lock has not been released",
            NoActions => "Config transaction must have at least one action",
            MissingAccount => "Missing account",
            InvalidMint => "Invalid mint",
            InvalidDestination => "Invalid destination",
            SpendingLimitExceeded => "Spending limit exceeded",
            DecimalsMismatch => "Decimals don't match the mint",
            UnknownPermission => "Member has unknown permission",
            ProtectedAccount => "Account is protected, it cannot be passed into a CPI as writable",
            TimeLockExceedsMaxAllowed => "Time lock exceeds the maximum allowed (90 days)",
            IllegalAccountOwner => "Account is not owned by Multisig program",
            RentReclamationDisabled => "Rent reclamation is disabled for this multisig",
            InvalidRentCollector => "Invalid rent collector address",
            ProposalForAnotherMultisig => "Proposal is for another multisig",
            TransactionForAnotherMultisig => "Transaction is for another multisig",
            TransactionNotMatchingProposal => "Transaction doesn't match proposal",
            TransactionNotLastInBatch => "Transaction is not last in batch",
            BatchNotEmpty => "Batch is not empty",
            SpendingLimitInvalidAmount => "Invalid SpendingLimit amount",
            InvalidInstructionArgs => "Invalid Instruction Arguments",
            FinalBufferHashMismatch => "Final message buffer hash doesnt match the expected hash",
            FinalBufferSizeExceeded => "Final buffer size cannot exceed 4000 bytes",
            FinalBufferSizeMismatch => "Final buffer size mismatch",
            MultisigCreateDeprecated => "multisig_create has been deprecated. Use multisig_create_v2 instead.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_declaration_order() {
        assert_eq!(DuplicateMember.code(), 6000);
        assert_eq!(StaleProposal.code(), 6007);
        assert_eq!(TimeLockNotReleased.code(), 6021);
        assert_eq!(SpendingLimitExceeded.code(), 6026);
        assert_eq!(MultisigError::from_code(6004), Some(Unauthorized));
        assert_eq!(MultisigError::from_code(5999), None);
    }
}
