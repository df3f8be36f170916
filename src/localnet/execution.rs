//! Running transactions on the chain. The VM checks neither signatures nor repeats: a
//! validator verifies a transaction's signatures once where it enters (the RPC's preflight, the
//! TPU's sigverify stage) and refuses a signature it already processed, and so do these entry
//! points, once each. `execute` runs a transaction and records it; `execute_preflighted` is
//! `sendTransaction`'s preflight and execution in one run, for a preflight on the bank the
//! transaction then runs on: a transaction the preflight would refuse is run once and taken
//! back whole instead of being simulated and then run again. `simulate` commits nothing.

use crate::localnet::chain_params::LAMPORTS_PER_SIGNATURE;
use crate::localnet::{Executed, Localnet, Simulated, TxRecord, plan, programs, status_meta};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::transaction::{TransactionError, VersionedTransaction};
use std::collections::HashMap;

/// Signatures of the latest transactions kept in memory for PubSub's logs subscriptions.
const RECENT_SIGNATURES: usize = 4096;

/// A transaction run on the VM, not recorded yet: what landing it or taking it back needs.
struct Ran {
    executed: Executed,
    record: TxRecord,
    mentions: Vec<Pubkey>,
    /// The accounts it may have written, as they were before it ran.
    before: Vec<(Pubkey, Option<Account>)>,
}

impl Localnet {
    /// Executes a transaction in the current slot and records its result. Its signatures are
    /// verified and a repeat of a processed signature is refused, as a validator's front door
    /// does (neither lands nor is recorded).
    pub fn execute(&mut self, tx: &VersionedTransaction) -> Executed {
        if !self.signatures_hold(tx) {
            return Executed::refused(tx.signatures[0], TransactionError::SignatureFailure);
        }
        if self.record(&tx.signatures[0]).is_some() {
            return Executed::refused(tx.signatures[0], TransactionError::AlreadyProcessed);
        }
        self.execute_checked(tx)
    }

    /// Executes `tx` without checking its signatures: for a multisig vault's transactions,
    /// which only the Squads program can sign, when a fork previews or rehearses them.
    pub fn execute_unverified(&mut self, tx: &VersionedTransaction) -> Executed {
        let executed = self.execute_checked(tx);
        // Its caller reports it at once; a store that failed is kept and told by every later
        // call (and at the end of the execution).
        let _ = self.flush();
        executed
    }

    /// `sendTransaction` with a preflight on the current bank, for a transaction whose
    /// signatures verified and which the bank admits (see `admit`): run once, landed when it
    /// succeeds, taken back whole when it fails, which is what a preflight simulation followed
    /// by the execution it clears comes to. A missing program is for the caller's simulation:
    /// a preflight charges no fee for it, an execution does.
    pub fn execute_preflighted(&mut self, tx: &VersionedTransaction) -> Result<Executed, Box<Simulated>> {
        let snapshot = self.plan.is_some().then(|| plan::snapshot(self, tx));
        let ran = self.run(tx);
        if ran.executed.err.is_some() {
            for (key, was) in ran.before {
                let _ = self.svm.set_account(key, was.unwrap_or_default());
            }
            let TxRecord { pre_balances, post_balances, status, .. } = ran.record;
            return Err(Box::new(Simulated {
                executed: ran.executed,
                pre_balances,
                post_balances,
                status,
                post_accounts: HashMap::new(),
            }));
        }
        Ok(self.land(tx, ran, snapshot))
    }

    /// Executes `tx`, whose signatures and signature the caller checked, and records it.
    fn execute_checked(&mut self, tx: &VersionedTransaction) -> Executed {
        let snapshot = self.plan.is_some().then(|| plan::snapshot(self, tx));
        let ran = self.run(tx);
        self.land(tx, ran, snapshot)
    }

    /// Runs `tx` on the VM: the accounts it touches are read from the store first, and the
    /// state of those it may write is kept (for `finalized` reads, and to take it back).
    fn run(&mut self, tx: &VersionedTransaction) -> Ran {
        self.follow_clock();
        let mentions = self.load_accounts_of(tx);
        let writable = Self::writable_of(tx, &mentions);
        let before: Vec<(Pubkey, Option<Account>)> = writable.iter().map(|k| (*k, self.account(k))).collect();
        for key in &writable {
            self.keep_prior_state(*key);
        }
        let keys = tx.message.static_account_keys();
        let pre_balances: Vec<u64> = keys.iter().map(|k| self.balance(k)).collect();
        let pre_token_balances = status_meta::token_balances(keys, |k| self.account(k));
        let loaded = status_meta::loaded_accounts_data_size(keys, |k| self.account(k));
        let installed = programs::context::InstalledIds::set(self.ids);
        let executed = match self.missing_program(tx) {
            Some(err) => self.charge_fee_only(tx, err),
            None => Executed::from_result(self.svm.send_transaction(tx.clone())),
        };
        drop(installed);
        let post_balances: Vec<u64> = keys.iter().map(|k| self.balance(k)).collect();
        let post_token_balances = status_meta::token_balances(keys, |k| self.account(k));
        let record = TxRecord {
            pre_balances,
            post_balances,
            slot: self.slot(),
            block_time: self.clock().unix_timestamp,
            err: executed.err.clone(),
            logs: executed.logs.clone(),
            fee: executed.fee,
            compute_units: executed.compute_units,
            transaction: bincode::serialize(tx).expect("transactions serialize"),
            status: status_meta::StatusMeta::new(
                &tx.message,
                &executed,
                pre_token_balances,
                post_token_balances,
                loaded,
            ),
        };
        Ran { executed, record, mentions, before }
    }

    /// Records what `run` did and commits what it changed with its record and the slot state
    /// (a transaction a cluster drops is neither); a dry-run's plan gets its entry from
    /// `snapshot`, the accounts as they were before.
    fn land(
        &mut self,
        tx: &VersionedTransaction,
        ran: Ran,
        snapshot: Option<Vec<(Pubkey, Option<Account>)>>,
    ) -> Executed {
        let Ran { executed, record, mentions, before } = ran;
        if !is_dropped(&executed.err) {
            self.transaction_count += 1;
            self.recent.push_back(executed.signature);
            if self.recent.len() > RECENT_SIGNATURES {
                self.recent.pop_front();
            }
            let changed = self.changed_since(before);
            self.persist(&changed, Some((executed.signature, &record, &mentions)));
        }
        if let Some(before) = snapshot {
            let entry = plan::PlannedTransaction::new(self, tx, &executed, before);
            if let Some(plan) = &mut self.plan {
                plan.push(entry);
            }
        }
        executed
    }

    /// The error a validator's account loader refuses `tx` with when one of its instructions
    /// names a program that is not there (no account) or not a program (not executable).
    pub fn missing_program(&self, tx: &VersionedTransaction) -> Option<TransactionError> {
        let keys = tx.message.static_account_keys();
        tx.message.instructions().iter().find_map(|ix| {
            let program = keys.get(usize::from(ix.program_id_index))?;
            match self.svm.get_account(program).filter(|a| a.lamports > 0) {
                None => Some(TransactionError::ProgramAccountNotFound),
                Some(account) if !account.executable => Some(TransactionError::InvalidProgramForExecution),
                Some(_) => None,
            }
        })
    }

    /// A transaction whose program could not be loaded: as a validator does since fees for
    /// failed loads, it is recorded with the error and only its fee is charged (dropped when
    /// the fee payer cannot pay it).
    fn charge_fee_only(&mut self, tx: &VersionedTransaction, err: TransactionError) -> Executed {
        let signature = tx.signatures[0];
        let fee = LAMPORTS_PER_SIGNATURE * u64::from(tx.message.header().num_required_signatures);
        let payer = tx.message.static_account_keys()[0];
        match self.svm.get_account(&payer).filter(|a| a.lamports >= fee) {
            Some(mut account) => {
                account.lamports -= fee;
                self.svm.set_account(payer, account).expect("a fee payer can be debited");
                Executed { fee, ..Executed::refused(signature, err) }
            }
            None => Executed::refused(signature, TransactionError::InsufficientFundsForFee),
        }
    }

    /// Runs a transaction without committing anything; `sig_verify: false` (as the RPC's
    /// `simulateTransaction` allows) checks no signatures.
    pub fn simulate(&mut self, tx: &VersionedTransaction, sig_verify: bool) -> Simulated {
        self.load_accounts_of(tx);
        let keys = tx.message.static_account_keys();
        let before = |key: &Pubkey| self.account(key);
        let pre_balances = keys.iter().map(|k| self.balance(k)).collect();
        let pre_token_balances = status_meta::token_balances(keys, before);
        let loaded = status_meta::loaded_accounts_data_size(keys, before);
        let installed = programs::context::InstalledIds::set(self.ids);
        let refused = if sig_verify && !self.signatures_hold(tx) {
            Some(TransactionError::SignatureFailure)
        } else {
            self.missing_program(tx)
        };
        let (executed, post_accounts) = match refused {
            Some(err) => (Executed::refused(tx.signatures[0], err), Vec::new()),
            None => match self.svm.simulate_transaction(tx.clone()) {
                Ok(info) => (Executed::from_meta(info.meta, None), info.post_accounts),
                Err(failed) => (Executed::from_meta(failed.meta, Some(failed.err)), Vec::new()),
            },
        };
        drop(installed);
        let post: HashMap<Pubkey, Account> = post_accounts.into_iter().map(|(k, a)| (k, a.into())).collect();
        let after = |key: &Pubkey| post.get(key).cloned().or_else(|| self.account(key)).filter(|a| a.lamports > 0);
        let post_balances = keys.iter().map(|k| after(k).map_or(0, |a| a.lamports)).collect();
        let post_token_balances = status_meta::token_balances(keys, after);
        let status =
            status_meta::StatusMeta::new(&tx.message, &executed, pre_token_balances, post_token_balances, loaded);
        Simulated { executed, pre_balances, post_balances, status, post_accounts: post }
    }
}

/// Errors a cluster refuses a transaction with before it reaches a block: no fee is taken and
/// no status is ever recorded for it.
fn is_dropped(err: &Option<TransactionError>) -> bool {
    use TransactionError::*;
    matches!(
        err,
        Some(
            SignatureFailure
                | AccountNotFound
                | InsufficientFundsForFee
                | InvalidAccountForFee
                | AlreadyProcessed
                | BlockhashNotFound
                | SanitizeFailure
                | AccountLoadedTwice
                | TooManyAccountLocks
                | MissingSignatureForFee
                | UnsupportedVersion
                | AccountInUse
        )
    )
}
