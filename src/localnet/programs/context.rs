//! A thin view over agave's `InvokeContext` for the host-compiled programs: copies of the
//! instruction data and accounts, writes back through borrowed accounts, sysvars, logs and CPI.
//! Every borrow ends inside one method, so a CPI (`invoke`) never overlaps a borrow.

use crate::psyche::ids::ProgramIds;
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

    /// Anchor's `AccountNotEnoughKeys` (3005) unless at least `n` accounts were passed.
    pub fn expect_accounts(&self, n: u16) -> Result<()> {
        let ix = self.ic.transaction_context.get_current_instruction_context()?;
        if ix.get_number_of_instruction_accounts() >= n {
            return Ok(());
        }
        Err(self.fail(3005, "AccountNotEnoughKeys", "Not enough account keys given to the instruction"))
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

    /// Logs an Anchor-style error and returns its code, as an Anchor program's failure reads.
    pub fn fail(&self, code: u32, name: &str, message: &str) -> InstructionError {
        let kind = if code >= 6000 { "AnchorError occurred" } else { "AnchorError thrown" };
        self.log(&format!("{kind}. Error Code: {name}. Error Number: {code}. Error Message: {message}."));
        InstructionError::Custom(code)
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
        Err(self.fail(2000, "ConstraintMut", &format!("A mut constraint was violated (account: {account})")))
    }

    /// Anchor's `Program<T>`: the account must be the program itself (3008).
    pub fn require_program(&self, index: u16, expected: &Pubkey, account: &str) -> Result<()> {
        if self.key(index)? == *expected {
            return Ok(());
        }
        Err(self.fail(3008, "InvalidProgramId", &format!("Program ID was not as expected (account: {account})")))
    }

    /// Anchor's `SystemAccount`: owned by the system program (3011).
    pub fn require_system_owned(&self, index: u16, account: &str) -> Result<()> {
        if self.account(index)?.owner == solana_system_interface::program::ID {
            return Ok(());
        }
        Err(self.fail(
            3011,
            "AccountNotSystemOwned",
            &format!("The given account is not owned by the system program (account: {account})"),
        ))
    }

    /// Anchor's `owner = …` constraint (2004).
    pub fn constraint_owner(&self, account: &str) -> InstructionError {
        self.fail(2004, "ConstraintOwner", &format!("An owner constraint was violated (account: {account})"))
    }

    /// Anchor's built-in constraint errors.
    pub fn constraint_raw(&self, account: &str) -> InstructionError {
        self.fail(2003, "ConstraintRaw", &format!("A raw constraint was violated (account: {account})"))
    }

    pub fn constraint_seeds(&self, account: &str) -> InstructionError {
        self.fail(2006, "ConstraintSeeds", &format!("A seeds constraint was violated (account: {account})"))
    }

    pub fn not_initialized(&self, account: &str) -> InstructionError {
        self.fail(
            3012,
            "AccountNotInitialized",
            &format!("The program expected this account to be already initialized (account: {account})"),
        )
    }

    pub fn wrong_owner(&self, account: &str) -> InstructionError {
        self.fail(
            3007,
            "AccountOwnedByWrongProgram",
            &format!("The given account is owned by a different program than expected (account: {account})"),
        )
    }

    pub fn not_signer(&self, account: &str) -> InstructionError {
        self.fail(3010, "AccountNotSigner", &format!("The given account did not sign (account: {account})"))
    }

    /// Anchor's `Account<T>`: initialized, owned by this program, with T's discriminator.
    pub fn load<T: crate::psyche::accounts::BorshAccount>(&self, index: u16, account: &str) -> Result<T> {
        let acc = self.account(index)?;
        if acc.is_empty() {
            return Err(self.not_initialized(account));
        }
        if acc.owner != self.program_id()? {
            return Err(self.wrong_owner(account));
        }
        T::decode(&acc.data).map_err(|_| {
            self.fail(3002, "AccountDiscriminatorMismatch", "8 byte discriminator did not match what was expected")
        })
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
