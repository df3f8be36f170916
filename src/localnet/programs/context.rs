//! A thin view over agave's `InvokeContext` for the host-compiled programs: copies of the
//! instruction data and accounts, writes back through borrowed accounts, sysvars, logs and CPI.
//! Every borrow ends inside one method, so a CPI (`invoke`) never overlaps a borrow.

use crate::localnet::programs::anchor_error::AnchorError;
use crate::psyche::ids::ProgramIds;
use anchor_lang::error::ErrorCode;
use solana_program_runtime::invoke_context::InvokeContext;
use solana_program_runtime::stable_log;
use solana_sdk::clock::Clock;
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::rent::Rent;

pub type Result<T> = std::result::Result<T, InstructionError>;

thread_local! {
    /// The program IDs of the chain executing on this thread (builtins are plain functions,
    /// so the chain says which IDs it installed them at for the length of each execution).
    static INSTALLED_IDS: std::cell::Cell<Option<ProgramIds>> = const { std::cell::Cell::new(None) };
}

/// While alive, `ids` are the installed program IDs on this thread (held around each
/// transaction execution).
pub struct InstalledIds(Option<ProgramIds>);

impl InstalledIds {
    pub fn set(ids: ProgramIds) -> Self {
        Self(INSTALLED_IDS.with(|cell| cell.replace(Some(ids))))
    }
}

impl Drop for InstalledIds {
    fn drop(&mut self) {
        INSTALLED_IDS.with(|cell| cell.set(self.0));
    }
}

/// A copy of an instruction account.
#[derive(Debug, Clone)]
pub struct Account {
    pub key: Pubkey,
    pub owner: Pubkey,
    pub lamports: u64,
    pub data: Vec<u8>,
}

impl Account {
    /// Uninitialized: no lamports (Anchor's `AccountNotInitialized` case).
    pub fn is_empty(&self) -> bool {
        self.lamports == 0
    }
}

pub struct Ctx<'c, 'a, 'd> {
    ic: &'c mut InvokeContext<'a, 'd>,
}

impl<'c, 'a, 'd> Ctx<'c, 'a, 'd> {
    pub fn new(ic: &'c mut InvokeContext<'a, 'd>) -> Self {
        Self { ic }
    }

    pub fn data(&self) -> Result<Vec<u8>> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        Ok(ix.get_instruction_data().to_vec())
    }

    pub fn program_id(&self) -> Result<Pubkey> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        Ok(*ix.get_program_key()?)
    }

    /// Anchor's `AccountNotEnoughKeys` (3005) unless every account of `names` (the accounts
    /// struct in field order) was passed; the error names the first one missing, as the derive
    /// does. An `init` account is listed as "": Anchor takes it unchecked and names none.
    pub fn expect_accounts(&self, names: &[&str]) -> Result<()> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        let given = usize::from(ix.get_number_of_instruction_accounts());
        match names.get(given..).and_then(|missing| missing.first()) {
            None => Ok(()),
            Some(name) => {
                let error = AnchorError::framework(ErrorCode::AccountNotEnoughKeys);
                Err(self.raise(if name.is_empty() { error } else { error.account(name) }))
            }
        }
    }

    pub fn key(&self, index: u16) -> Result<Pubkey> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        Ok(*ix.get_key_of_instruction_account(index)?)
    }

    /// The IDs the three Psyche programs are installed at on this chain.
    pub fn ids(&self) -> ProgramIds {
        INSTALLED_IDS.with(|cell| cell.get()).unwrap_or_default()
    }

    /// How many accounts the instruction was given (named ones plus remaining ones).
    pub fn data_accounts(&self) -> Result<usize> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        Ok(usize::from(ix.get_number_of_instruction_accounts()))
    }

    pub fn is_writable(&self, index: u16) -> Result<bool> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        ix.is_instruction_account_writable(index)
    }

    pub fn is_signer(&self, index: u16) -> Result<bool> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        ix.is_instruction_account_signer(index)
    }

    pub fn account(&self, index: u16) -> Result<Account> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        let acc = ix.try_borrow_instruction_account(index)?;
        Ok(Account {
            key: *acc.get_key(),
            owner: *acc.get_owner(),
            lamports: acc.get_lamports(),
            data: acc.get_data().to_vec(),
        })
    }

    /// Replaces the account's data (same length or resized), owned by this program.
    pub fn set_data(&mut self, index: u16, data: &[u8]) -> Result<()> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        let mut acc = ix.try_borrow_instruction_account(index)?;
        acc.set_data_from_slice(data)
    }

    pub fn set_data_length(&mut self, index: u16, len: usize) -> Result<()> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        let mut acc = ix.try_borrow_instruction_account(index)?;
        acc.set_data_length(len)
    }

    /// Moves lamports out of an account this program owns.
    pub fn move_lamports(&mut self, from: u16, to: u16, amount: u64) -> Result<()> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        ix.try_borrow_instruction_account(from)?.checked_sub_lamports(amount)?;
        ix.try_borrow_instruction_account(to)?.checked_add_lamports(amount)
    }

    /// Anchor's `close = spill`: all lamports to `spill`, no data, owned by the system program.
    pub fn close(&mut self, index: u16, spill: u16) -> Result<()> {
        let lamports = self.account(index)?.lamports;
        self.move_lamports(index, spill, lamports)?;
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        let mut acc = ix.try_borrow_instruction_account(index)?;
        acc.set_data_length(0)?;
        acc.set_owner(solana_system_interface::program::ID.as_ref())
    }

    pub fn clock(&self) -> Result<Clock> {
        Ok((*self.ic.get_sysvar_cache().get_clock()?).clone())
    }

    pub fn rent(&self) -> Result<Rent> {
        Ok((*self.ic.get_sysvar_cache().get_rent()?).clone())
    }

    /// Cross-program invocation; `signers` are the PDAs this program signs for (checked by the
    /// caller, since the runtime trusts this list for builtins).
    pub fn invoke(&mut self, instruction: Instruction, signers: &[Pubkey]) -> Result<()> {
        self.ic.native_invoke(instruction, signers)
    }

    pub fn log(&self, message: &str) {
        stable_log::program_log(&self.ic.get_log_collector(), message);
    }

    /// Logs `error` as an Anchor program does and returns its code.
    pub fn raise(&self, error: AnchorError) -> InstructionError {
        for line in error.lines() {
            self.log(&line);
        }
        InstructionError::Custom(error.code)
    }

    /// A framework error with no origin (`AnchorError occurred.`).
    pub fn occurred(&self, code: ErrorCode) -> InstructionError {
        self.raise(AnchorError::framework(code))
    }

    /// A framework error raised for the account named `account`.
    pub fn account_error(&self, account: &str, code: ErrorCode) -> InstructionError {
        self.raise(AnchorError::framework(code).account(account))
    }

    /// A program's own error raised with `err!` or `require!` at the caller's line.
    #[track_caller]
    pub fn throw(&self, code: u32, name: &str, message: &str) -> InstructionError {
        self.raise(AnchorError::new(code, name, message).thrown())
    }

    /// What a client sees when an SBF program panics: the panic message in the logs and
    /// `ProgramFailedToComplete`. Used where upstream's program panics.
    pub fn panic(&self, message: &str) -> InstructionError {
        self.log(&format!("panicked at {message}"));
        InstructionError::ProgramFailedToComplete
    }

    /// Anchor's `#[account(mut)]` on an account passed read-only (2000).
    pub fn require_writable(&self, index: u16, account: &str) -> Result<()> {
        if self.is_writable(index)? {
            return Ok(());
        }
        Err(self.account_error(account, ErrorCode::ConstraintMut))
    }

    /// Anchor's `Program<T>`: the account must be the program itself (3008, given and
    /// expected IDs compared).
    pub fn require_program(&self, index: u16, expected: &Pubkey, account: &str) -> Result<()> {
        let given = self.key(index)?;
        if given == *expected {
            return Ok(());
        }
        Err(self.raise(AnchorError::framework(ErrorCode::InvalidProgramId).account(account).pubkeys(given, *expected)))
    }

    /// Anchor's `SystemAccount`: owned by the system program (3011).
    pub fn require_system_owned(&self, index: u16, account: &str) -> Result<()> {
        if self.account(index)?.owner == solana_system_interface::program::ID {
            return Ok(());
        }
        Err(self.account_error(account, ErrorCode::AccountNotSystemOwned))
    }

    /// Anchor's `owner = …` constraint (2004), the account's owner and the expected one compared.
    pub fn constraint_owner(&self, account: &str, owner: Pubkey, expected: Pubkey) -> InstructionError {
        self.raise(AnchorError::framework(ErrorCode::ConstraintOwner).account(account).pubkeys(owner, expected))
    }

    /// Anchor's `constraint = …` (2003).
    pub fn constraint_raw(&self, account: &str) -> InstructionError {
        self.account_error(account, ErrorCode::ConstraintRaw)
    }

    /// Anchor's `seeds = …` constraint (2006): the account at `index` must be `expected`, the
    /// derived address (`None` when the stored bump derives none, which Anchor reports without
    /// the two keys).
    pub fn check_seeds(&self, index: u16, account: &str, expected: Option<Pubkey>) -> Result<()> {
        let given = self.key(index)?;
        let error = AnchorError::framework(ErrorCode::ConstraintSeeds).account(account);
        match expected {
            Some(expected) if expected == given => Ok(()),
            Some(expected) => Err(self.raise(error.pubkeys(given, expected))),
            None => Err(self.raise(error)),
        }
    }

    pub fn not_initialized(&self, account: &str) -> InstructionError {
        self.account_error(account, ErrorCode::AccountNotInitialized)
    }

    /// Anchor's `AccountOwnedByWrongProgram` (3007): owned by `owner` instead of `expected`.
    pub fn wrong_owner(&self, account: &str, owner: Pubkey, expected: Pubkey) -> InstructionError {
        self.raise(
            AnchorError::framework(ErrorCode::AccountOwnedByWrongProgram).account(account).pubkeys(owner, expected),
        )
    }

    pub fn not_signer(&self, account: &str) -> InstructionError {
        self.account_error(account, ErrorCode::AccountNotSigner)
    }

    /// Anchor's `Account<T>`: initialized, owned by this program, with T's discriminator
    /// (3001 when too short for one, 3002 when different) and T's layout (3003).
    pub fn load<T: crate::psyche::accounts::BorshAccount>(&self, index: u16, account: &str) -> Result<T> {
        let acc = self.account(index)?;
        if acc.is_empty() {
            return Err(self.not_initialized(account));
        }
        let program = self.program_id()?;
        if acc.owner != program {
            return Err(self.wrong_owner(account, acc.owner, program));
        }
        let Some(discriminator) = acc.data.get(..8) else {
            return Err(self.account_error(account, ErrorCode::AccountDiscriminatorNotFound));
        };
        if discriminator != T::DISCRIMINATOR {
            return Err(self.account_error(account, ErrorCode::AccountDiscriminatorMismatch));
        }
        T::deserialize(&mut &acc.data[8..])
            .map_err(|_| self.account_error(account, ErrorCode::AccountDidNotDeserialize))
    }

    pub fn require_signer(&self, index: u16, account: &str) -> Result<()> {
        if self.is_signer(index)? { Ok(()) } else { Err(self.not_signer(account)) }
    }

    /// Creates a PDA owned by `owner` through the system program (Anchor's `init`).
    pub fn create_pda(&mut self, payer: Pubkey, address: Pubkey, space: usize, owner: &Pubkey) -> Result<()> {
        let lamports = self.rent()?.minimum_balance(space);
        let ix = solana_system_interface::instruction::create_account(&payer, &address, lamports, space as u64, owner);
        self.invoke(ix, &[address])
    }
}
