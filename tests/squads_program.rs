//! The localnet's Squads program in process, as a Squads client meets it: what it refuses and
//! with which upstream error code, each refusal's log line checked to be in one of Anchor's
//! three forms (and account errors by the account they name); `proposal_cancel_v2` with the
//! checks of the other votes (permissions, stale proposals, threshold, status) and the account
//! growth that sets it apart from `proposal_cancel`; and the accounts-close instructions that
//! hand a finished transaction's rent to the rent collector.

mod common;

use common::anchor_log::{self, Form, Logged};
use psyche_runbook::localnet::Localnet;
use psyche_runbook::localnet::multisig::MultisigSpec;
use psyche_runbook::localnet::services::ServiceError;
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::squads::accounts::{
    ConfigAction, Member, Period, Permissions, ProgramConfig, Proposal, ProposalStatus, SpendingLimit,
};
use psyche_runbook::squads::errors::MultisigError;
use psyche_runbook::squads::instructions::{self as ix, CreateAccounts, TransactionKind, Vote};
use psyche_runbook::squads::{message, pdas};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

struct Fixture {
    net: Localnet,
    ms: Pubkey,
    members: Vec<Keypair>,
}

/// The Anchor error a failed transaction logged, its line checked to be in one of Anchor's
/// forms with the transaction's error number.
fn logged(err: &ServiceError) -> Logged {
    let text = &err.err;
    let hex = text.rsplit("0x").next().unwrap_or_default();
    let code = u32::from_str_radix(hex.trim(), 16).unwrap_or_else(|_| panic!("not a custom error: {text}"));
    anchor_log::expect(&err.logs, code)
}

fn code(err: &ServiceError) -> u32 {
    logged(err).number
}

/// A 2-of-3 multisig whose third member may only vote, with `time_lock`.
fn fixture(time_lock: u32) -> Fixture {
    let mut net = Localnet::new();
    let members: Vec<Keypair> = (0..3).map(|_| Keypair::new()).collect();
    for m in &members {
        net.airdrop(&m.pubkey(), 1_000_000_000).unwrap();
    }
    let spec = MultisigSpec {
        create_key: Keypair::new(),
        members: members
            .iter()
            .enumerate()
            .map(|(i, k)| Member { key: k.pubkey(), permissions: Permissions { mask: if i == 2 { 2 } else { 7 } } })
            .collect(),
        threshold: 2,
        time_lock,
    };
    let (ms, _) = net.create_multisig(spec).unwrap();
    Fixture { net, ms, members }
}

impl Fixture {
    fn vault(&self) -> Pubkey {
        pdas::vault(&self.ms, 0).0
    }

    /// A vault transaction moving 1 lamport from the vault, with its proposal.
    fn propose(&mut self) -> u64 {
        self.propose_as(false)
    }

    /// `propose`, the proposal a Draft when `draft`.
    fn propose_as(&mut self, draft: bool) -> u64 {
        let index = self.multisig().transaction_index + 1;
        let transfer = solana_system_interface::instruction::transfer(&self.vault(), &self.members[0].pubkey(), 1);
        let faucet = self.net.faucet().pubkey();
        let creator = self.members[0].insecure_clone();
        let args = ix::VaultTransactionCreateArgs {
            vault_index: 0,
            ephemeral_signers: 0,
            transaction_message: ix::transaction_message(&self.vault(), &[transfer]).unwrap(),
            memo: None,
        };
        let (transaction, proposal) = (pdas::transaction(&self.ms, index).0, pdas::proposal(&self.ms, index).0);
        let created =
            CreateAccounts { multisig: self.ms, created: transaction, creator: creator.pubkey(), rent_payer: faucet };
        let proposal =
            CreateAccounts { multisig: self.ms, created: proposal, creator: creator.pubkey(), rent_payer: faucet };
        let ixs = [
            ix::vault_transaction_create(&created, &args),
            ix::proposal_create(&proposal, &ix::ProposalCreateArgs { transaction_index: index, draft }),
        ];
        self.net.execute_signed("propose", &ixs, &[&creator]).unwrap();
        index
    }

    /// Creates a config transaction with `actions` and its proposal; returns its index.
    fn propose_config(&mut self, actions: Vec<ConfigAction>) -> u64 {
        let index = self.multisig().transaction_index + 1;
        let faucet = self.net.faucet().pubkey();
        let creator = self.members[0].insecure_clone();
        let (transaction, proposal) = (pdas::transaction(&self.ms, index).0, pdas::proposal(&self.ms, index).0);
        let created =
            CreateAccounts { multisig: self.ms, created: transaction, creator: creator.pubkey(), rent_payer: faucet };
        let proposal =
            CreateAccounts { multisig: self.ms, created: proposal, creator: creator.pubkey(), rent_payer: faucet };
        let ixs = [
            ix::config_transaction_create(&created, &ix::ConfigTransactionCreateArgs { actions, memo: None }),
            ix::proposal_create(&proposal, &ix::ProposalCreateArgs { transaction_index: index, draft: false }),
        ];
        self.net.execute_signed("config", &ixs, &[&creator]).unwrap();
        index
    }

    /// Executes config transaction `index`, the faucet paying rent for what it creates or grows
    /// (spending limits `limits`, new members).
    fn execute_config(&mut self, index: u64, limits: &[Pubkey]) -> Result<(), u32> {
        let member = self.members[0].insecure_clone();
        let faucet = self.net.faucet().pubkey();
        let execute = ix::config_transaction_execute(
            &self.ms,
            &member.pubkey(),
            &pdas::proposal(&self.ms, index).0,
            &pdas::transaction(&self.ms, index).0,
            Some(&faucet),
            limits,
        );
        self.net.execute_signed("config execute", &[execute], &[&member]).map(|_| ()).map_err(|e| code(&e))
    }

    fn multisig(&self) -> psyche_runbook::squads::accounts::Multisig {
        BorshAccount::decode(&self.net.account(&self.ms).unwrap().data).unwrap()
    }

    fn proposal(&self, index: u64) -> Proposal {
        Proposal::decode(&self.net.account(&pdas::proposal(&self.ms, index).0).unwrap().data).unwrap()
    }

    fn vote(&mut self, vote: Vote, index: u64, member: usize) -> Result<(), u32> {
        let key = self.members[member].insecure_clone();
        let ix = ix::proposal_vote(vote, &self.ms, &key.pubkey(), &pdas::proposal(&self.ms, index).0, None);
        self.net.execute_signed("vote", &[ix], &[&key]).map(|_| ()).map_err(|e| code(&e))
    }

    /// `proposal_cancel_v2` by member `member`.
    fn cancel_v2(&mut self, index: u64, member: usize) -> Result<(), u32> {
        let ix = self.cancel_v2_ix(index, member);
        let key = self.members[member].insecure_clone();
        self.net.execute_signed("cancel", &[ix], &[&key]).map(|_| ()).map_err(|e| code(&e))
    }

    fn cancel_v2_ix(&self, index: u64, member: usize) -> Instruction {
        let key = self.members[member].pubkey();
        ix::proposal_cancel_v2(&self.ms, &key, &pdas::proposal(&self.ms, index).0, None)
    }

    /// Sends `ix` signed by `signers` (the faucet pays); the Anchor error it fails with.
    fn refused(&mut self, ix: Instruction, signers: &[&Keypair]) -> Logged {
        logged(&self.net.execute_signed("refused", &[ix], signers).unwrap_err())
    }

    fn member(&self, index: usize) -> Keypair {
        self.members[index].insecure_clone()
    }

    /// Adds members (funded, every permission) and sets the threshold, through an approved
    /// and executed config transaction; the new members come last in `members`.
    fn grow(&mut self, added: usize, threshold: u16) {
        let mut actions = Vec::new();
        for _ in 0..added {
            let key = Keypair::new();
            self.net.airdrop(&key.pubkey(), 1_000_000_000).unwrap();
            actions.push(ConfigAction::AddMember {
                new_member: Member { key: key.pubkey(), permissions: Permissions::ALL },
            });
            self.members.push(key);
        }
        actions.push(ConfigAction::ChangeThreshold { new_threshold: threshold });
        self.config_change(actions);
    }

    /// Proposes, approves (members 0 and 1) and executes a config transaction.
    fn config_change(&mut self, actions: Vec<ConfigAction>) {
        let index = self.propose_config(actions);
        self.vote(Vote::Approve, index, 0).unwrap();
        self.vote(Vote::Approve, index, 1).unwrap();
        self.execute_config(index, &[]).unwrap();
    }

    /// `config_transaction_accounts_close` or `vault_transaction_accounts_close` of `index`.
    fn close_ix(&self, kind: TransactionKind, index: u64, collector: &Pubkey) -> Instruction {
        let (proposal, transaction) = (pdas::proposal(&self.ms, index).0, pdas::transaction(&self.ms, index).0);
        ix::transaction_accounts_close(kind, &self.ms, &proposal, &transaction, collector)
    }

    fn execute(&mut self, index: u64, member: usize) -> Result<(), u32> {
        let key = self.members[member].insecure_clone();
        let transaction = pdas::transaction(&self.ms, index).0;
        let stored: psyche_runbook::squads::accounts::VaultTransaction =
            BorshAccount::decode(&self.net.account(&transaction).unwrap().data).unwrap();
        let ix = ix::vault_transaction_execute(
            &self.ms,
            &pdas::proposal(&self.ms, index).0,
            &transaction,
            &key.pubkey(),
            &stored.message,
        );
        self.net.execute_signed("execute", &[ix], &[&key]).map(|_| ()).map_err(|e| code(&e))
    }
}

#[test]
fn the_program_refuses_with_upstream_error_codes() {
    let mut f = fixture(60);
    f.net.airdrop(&f.vault(), 10_000_000).unwrap();
    let index = f.propose();
    f.vote(Vote::Approve, index, 0).unwrap();
    assert_eq!(f.vote(Vote::Approve, index, 0), Err(MultisigError::AlreadyApproved.code()));
    // Below threshold: still Active.
    assert_eq!(f.execute(index, 0), Err(MultisigError::InvalidProposalStatus.code()));
    f.vote(Vote::Approve, index, 2).unwrap();
    assert!(matches!(f.proposal(index).status, ProposalStatus::Approved { .. }));
    // Approved, but the time lock holds; a voter without Execute is refused.
    assert_eq!(f.execute(index, 0), Err(MultisigError::TimeLockNotReleased.code()));
    f.net.advance_clock(61);
    assert_eq!(f.execute(index, 2), Err(MultisigError::Unauthorized.code()));
    let before = f.net.balance(&f.vault());
    f.execute(index, 1).unwrap();
    assert_eq!(f.net.balance(&f.vault()), before - 1, "the vault signed the transfer");
    assert!(matches!(f.proposal(index).status, ProposalStatus::Executed { .. }));
    assert_eq!(f.execute(index, 0), Err(MultisigError::InvalidProposalStatus.code()));
    // A stranger is not a member.
    f.members.push(Keypair::new());
    f.net.airdrop(&f.members[3].pubkey(), 1_000_000_000).unwrap();
    let next = f.propose();
    assert_eq!(f.vote(Vote::Approve, next, 3), Err(MultisigError::NotAMember.code()));
}

#[test]
fn a_draft_proposal_takes_votes_once_activated() {
    let mut f = fixture(0);
    let index = f.propose_as(true);
    assert!(matches!(f.proposal(index).status, ProposalStatus::Draft { .. }));
    assert_eq!(f.vote(Vote::Approve, index, 0), Err(MultisigError::InvalidProposalStatus.code()));
    let activate = |f: &mut Fixture, member: usize| {
        let key = f.members[member].insecure_clone();
        let ix = ix::proposal_activate(&f.ms, &key.pubkey(), &pdas::proposal(&f.ms, index).0);
        f.net.execute_signed("activate", &[ix], &[&key]).map(|_| ()).map_err(|e| code(&e))
    };
    // The vote-only member may not activate; a member with Initiate may, once.
    assert_eq!(activate(&mut f, 2), Err(MultisigError::Unauthorized.code()));
    activate(&mut f, 0).unwrap();
    assert_eq!(activate(&mut f, 0), Err(MultisigError::InvalidProposalStatus.code()));
    f.vote(Vote::Approve, index, 0).unwrap();
    assert_eq!(f.proposal(index).approved, vec![f.members[0].pubkey()]);
}

#[test]
fn rejections_and_config_changes_end_proposals_in_the_program() {
    let mut f = fixture(0);
    let rejected = f.propose();
    f.vote(Vote::Reject, rejected, 0).unwrap();
    f.vote(Vote::Reject, rejected, 1).unwrap();
    assert!(matches!(f.proposal(rejected).status, ProposalStatus::Rejected { .. }));
    assert_eq!(f.vote(Vote::Approve, rejected, 2), Err(MultisigError::InvalidProposalStatus.code()));

    // A pending proposal, then a config transaction changing the threshold.
    let pending = f.propose();
    let index = f.propose_config(vec![ConfigAction::ChangeThreshold { new_threshold: 1 }]);
    f.vote(Vote::Approve, index, 0).unwrap();
    f.vote(Vote::Approve, index, 1).unwrap();
    f.execute_config(index, &[]).unwrap();
    let multisig = f.multisig();
    assert_eq!((multisig.threshold, multisig.stale_transaction_index), (1, index));
    assert_eq!(f.vote(Vote::Approve, pending, 0), Err(MultisigError::StaleProposal.code()));
}

#[test]
fn a_vault_transaction_must_be_given_its_accounts_and_may_not_touch_its_proposal() {
    let mut f = fixture(0);
    let index = f.propose();
    f.vote(Vote::Approve, index, 0).unwrap();
    f.vote(Vote::Approve, index, 1).unwrap();
    let key = f.members[0].insecure_clone();
    let transaction = pdas::transaction(&f.ms, index).0;
    let stored: psyche_runbook::squads::accounts::VaultTransaction =
        BorshAccount::decode(&f.net.account(&transaction).unwrap().data).unwrap();
    let mut execute = ix::vault_transaction_execute(
        &f.ms,
        &pdas::proposal(&f.ms, index).0,
        &transaction,
        &key.pubkey(),
        &stored.message,
    );
    execute.accounts.pop();
    let err = f.net.execute_signed("execute", &[execute], &[&key]).unwrap_err();
    assert_eq!(code(&err), MultisigError::InvalidNumberOfAccounts.code());
    // The compiled message round-trips to the instruction proposed.
    let decoded = message::instructions(&stored.message).unwrap();
    assert_eq!(decoded[0].accounts[0], AccountMeta::new(f.vault(), true));
    assert_eq!(decoded[0].program_id, solana_system_interface::program::ID);
}

#[test]
fn a_spending_limit_moves_tokens_up_to_its_amount_per_period() {
    let mut f = fixture(0);
    let mint = f.net.create_mint(6).unwrap();
    let vault_tokens = f.net.mint_to(&mint, &f.vault(), 100).unwrap();
    let owner = Pubkey::new_unique();
    let destination = f.net.mint_to(&mint, &owner, 0).unwrap();
    let create_key = Pubkey::new_unique();
    let limit = pdas::spending_limit(&f.ms, &create_key).0;
    // The vote-only member holds the limit: spending needs no Initiate or Execute permission.
    let holder = f.members[2].insecure_clone();
    let action = ConfigAction::AddSpendingLimit {
        create_key,
        vault_index: 0,
        mint,
        amount: 20,
        period: Period::Day,
        members: vec![holder.pubkey()],
        destinations: vec![],
    };
    let index = f.propose_config(vec![action]);
    f.vote(Vote::Approve, index, 0).unwrap();
    f.vote(Vote::Approve, index, 1).unwrap();
    f.execute_config(index, &[limit]).unwrap();
    let stored = SpendingLimit::decode(&f.net.account(&limit).unwrap().data).unwrap();
    assert_eq!((stored.amount, stored.remaining_amount, stored.members.clone()), (20, 20, vec![holder.pubkey()]));

    let spend = |f: &mut Fixture, who: &Keypair, amount: u64| {
        let accounts = ix::SpendingLimitUseAccounts {
            multisig: f.ms,
            member: who.pubkey(),
            spending_limit: limit,
            vault: f.vault(),
            destination: owner,
            mint,
            vault_token_account: vault_tokens,
            destination_token_account: destination,
        };
        let use_ix = ix::spending_limit_use(&accounts, &ix::SpendingLimitUseArgs { amount, decimals: 6, memo: None });
        f.net.execute_signed("spend", &[use_ix], &[who]).map(|_| ()).map_err(|e| code(&e))
    };
    spend(&mut f, &holder, 15).unwrap();
    assert_eq!(spend(&mut f, &holder, 10), Err(MultisigError::SpendingLimitExceeded.code()));
    let outsider = f.members[0].insecure_clone();
    assert_eq!(spend(&mut f, &outsider, 1), Err(MultisigError::Unauthorized.code()));
    f.net.advance_clock(86_401);
    spend(&mut f, &holder, 10).unwrap();
    assert_eq!(f.net.token_balance(&destination).map(|(amount, _)| amount), Some(25));
    assert_eq!(f.net.token_balance(&vault_tokens).map(|(amount, _)| amount), Some(75));
    let stored = SpendingLimit::decode(&f.net.account(&limit).unwrap().data).unwrap();
    assert_eq!(stored.remaining_amount, 10, "the new day's 20 less the 10 spent");

    // Removing the limit closes its account.
    let index = f.propose_config(vec![ConfigAction::RemoveSpendingLimit { spending_limit: limit }]);
    f.vote(Vote::Approve, index, 0).unwrap();
    f.vote(Vote::Approve, index, 1).unwrap();
    f.execute_config(index, &[limit]).unwrap();
    assert!(f.net.account(&limit).is_none());
}

#[test]
fn a_fresh_embedded_localnet_holds_devnets_program_config() {
    let net = Localnet::new();
    let account = net.account(&pdas::program_config()).expect("part of every chain");
    assert_eq!(account.owner, psyche_runbook::squads::PROGRAM_ID);
    assert_eq!(account.lamports, net.minimum_balance(ProgramConfig::SIZE));
    let config = ProgramConfig::decode(&account.data).unwrap();
    let devnet: Pubkey = "HM5y4mz3Bt9JY9mr1hkyhnvqxSH4H2u2451j7Hc2dtvK".parse().unwrap();
    assert_eq!((config.authority, config.treasury, config.multisig_creation_fee), (devnet, devnet, 0));
}

#[test]
fn account_errors_name_the_account_as_anchor_does() {
    let mut f = fixture(0);
    let index = f.propose();
    let member = f.member(0);
    let vote = ix::proposal_vote(Vote::Approve, &f.ms, &member.pubkey(), &pdas::proposal(&f.ms, index).0, None);
    let mut unsigned = vote.clone();
    unsigned.accounts[1].is_signer = false;
    let logged = f.refused(unsigned, &[]);
    assert_eq!((logged.number, logged.account(), logged.name.as_str()), (3010, "member", "AccountNotSigner"));
    let mut read_only = vote.clone();
    read_only.accounts[1].is_writable = false;
    assert_eq!((f.refused(read_only, &[&member]).account(), 2000), ("member", 2000));
    let mut too_few = vote.clone();
    too_few.accounts.truncate(2);
    let logged = f.refused(too_few, &[&member]);
    assert_eq!((logged.number, logged.account()), (3005, "proposal"));
    let mut missing = vote.clone();
    missing.accounts[0].pubkey = Pubkey::new_unique();
    let logged = f.refused(missing, &[&member]);
    assert_eq!((logged.number, logged.account()), (3012, "multisig"));
    // The vault transaction where the proposal belongs: another account type.
    let mut transaction = vote.clone();
    transaction.accounts[2].pubkey = pdas::transaction(&f.ms, index).0;
    let logged = f.refused(transaction, &[&member]);
    assert_eq!((logged.number, logged.account()), (3002, "proposal"));
    // Another multisig of the same members: its own seeds hold, the proposal's do not; the
    // given address and the one the stored bump derives follow the error (nothing when that
    // bump derives no address, as Anchor logs it).
    let members = f.multisig().members;
    let spec = MultisigSpec { create_key: Keypair::new(), members, threshold: 2, time_lock: 0 };
    let (other, _) = f.net.create_multisig(spec).unwrap();
    let mut foreign = vote.clone();
    foreign.accounts[0].pubkey = other;
    let logged = f.refused(foreign, &[&member]);
    assert_eq!((logged.number, logged.account()), (2006, "proposal"));
    let bump = f.proposal(index).bump;
    let seeds: &[&[u8]] = &[b"multisig", other.as_ref(), b"transaction", &index.to_le_bytes(), b"proposal", &[bump]];
    let derived = Pubkey::create_program_address(seeds, &psyche_runbook::squads::PROGRAM_ID).ok();
    let given = pdas::proposal(&f.ms, index).0;
    assert_eq!(logged.compared, derived.map(|d| (given.to_string(), d.to_string())));
    // The program's own checks name the source line that raised them.
    let stranger = Keypair::new();
    let vote = ix::proposal_vote(Vote::Approve, &f.ms, &stranger.pubkey(), &pdas::proposal(&f.ms, index).0, None);
    let logged = f.refused(vote, &[&stranger]);
    assert_eq!((logged.number, logged.is_thrown()), (MultisigError::NotAMember.code(), true));
    assert_eq!(logged.message, "Provided pubkey is not a member of multisig");
}

#[test]
fn proposal_cancel_v2_checks_votes_like_the_other_votes() {
    let mut f = fixture(0);
    // A fourth member who may only initiate.
    let initiator = Keypair::new();
    f.net.airdrop(&initiator.pubkey(), 1_000_000_000).unwrap();
    let permissions = Permissions { mask: 1 };
    f.config_change(vec![ConfigAction::AddMember { new_member: Member { key: initiator.pubkey(), permissions } }]);
    f.members.push(initiator);
    let index = f.propose();
    // Status: only an Approved proposal can be cancelled.
    assert_eq!(f.cancel_v2(index, 0), Err(MultisigError::InvalidProposalStatus.code()));
    f.vote(Vote::Approve, index, 0).unwrap();
    f.vote(Vote::Approve, index, 1).unwrap();
    // Permissions: a stranger is not a member, a member without Vote may not cancel.
    f.members.push(Keypair::new());
    assert_eq!(f.cancel_v2(index, 4), Err(MultisigError::NotAMember.code()));
    assert_eq!(f.cancel_v2(index, 3), Err(MultisigError::Unauthorized.code()));
    // Threshold: one cancellation of two leaves it Approved; the same member twice is refused.
    f.cancel_v2(index, 0).unwrap();
    assert!(matches!(f.proposal(index).status, ProposalStatus::Approved { .. }));
    assert_eq!(f.proposal(index).cancelled, vec![f.members[0].pubkey()]);
    assert_eq!(f.cancel_v2(index, 0), Err(MultisigError::AlreadyCancelled.code()));
    // Stale: a config change makes the proposal stale; approving it is refused, cancelling
    // it is not.
    f.config_change(vec![ConfigAction::ChangeThreshold { new_threshold: 2 }]);
    assert!(index <= f.multisig().stale_transaction_index);
    let stale = f.propose_config(vec![ConfigAction::SetTimeLock { new_time_lock: 1 }]);
    f.config_change(vec![ConfigAction::ChangeThreshold { new_threshold: 2 }]);
    assert_eq!(f.vote(Vote::Approve, stale, 0), Err(MultisigError::StaleProposal.code()));
    f.cancel_v2(index, 2).unwrap();
    assert!(matches!(f.proposal(index).status, ProposalStatus::Cancelled { .. }));
    // Cancelled is final.
    assert_eq!(f.cancel_v2(index, 1), Err(MultisigError::InvalidProposalStatus.code()));
    // Its accounts: the system program after the vote's three, checked as a `Program`.
    let mut wrong = f.cancel_v2_ix(index, 1);
    wrong.accounts[3].pubkey = spl_token_interface::ID;
    let logged = f.refused(wrong, &[&f.member(1)]);
    assert_eq!((logged.number, logged.account()), (3008, "system_program"));
    let system = solana_system_interface::program::ID;
    assert_eq!(logged.compared, Some((spl_token_interface::ID.to_string(), system.to_string())));
    let mut short = f.cancel_v2_ix(index, 1);
    short.accounts.pop();
    let logged = f.refused(short, &[&f.member(1)]);
    assert_eq!((logged.number, logged.account()), (3005, "system_program"));
}

#[test]
fn proposal_cancel_v2_grows_a_proposal_that_members_added_since_outgrew() {
    let mut f = fixture(0);
    let index = f.propose();
    f.vote(Vote::Approve, index, 0).unwrap();
    f.vote(Vote::Approve, index, 1).unwrap();
    let created_size = f.net.account(&pdas::proposal(&f.ms, index).0).unwrap().data.len();
    assert_eq!(created_size, Proposal::size(3));
    // Eight members, all needed to cancel: the proposal, sized for three, holds its two
    // approvals and seven cancellations, not eight.
    f.grow(5, 8);
    for member in 0..7 {
        f.vote(Vote::Cancel, index, member).unwrap();
    }
    let logged = logged(
        &f.net
            .execute_signed(
                "cancel",
                &[ix::proposal_vote(
                    Vote::Cancel,
                    &f.ms,
                    &f.members[7].pubkey(),
                    &pdas::proposal(&f.ms, index).0,
                    None,
                )],
                &[&f.member(7)],
            )
            .unwrap_err(),
    );
    assert_eq!((logged.number, logged.account()), (3004, "proposal"));
    assert!(matches!(f.proposal(index).status, ProposalStatus::Approved { .. }));
    // proposal_cancel_v2 grows it to fit eight members, the member paying the extra rent.
    let proposal = pdas::proposal(&f.ms, index).0;
    let (before, paid_before) = (f.net.balance(&proposal), f.net.balance(&f.members[7].pubkey()));
    f.cancel_v2(index, 7).unwrap();
    assert!(matches!(f.proposal(index).status, ProposalStatus::Cancelled { .. }));
    assert_eq!(f.proposal(index).cancelled.len(), 8);
    let account = f.net.account(&proposal).unwrap();
    assert_eq!(account.data.len(), Proposal::size(8));
    assert_eq!(account.lamports, f.net.minimum_balance(Proposal::size(8)));
    assert_eq!(paid_before - f.net.balance(&f.members[7].pubkey()), account.lamports - before);
}

#[test]
fn finished_transactions_hand_their_rent_to_the_rent_collector() {
    let mut f = fixture(0);
    let collector = Pubkey::new_unique();
    let set = f.propose_config(vec![ConfigAction::SetRentCollector { new_rent_collector: Some(collector) }]);
    // Without a rent collector the multisig keeps its accounts.
    let refused = f.refused(f.close_ix(TransactionKind::Config, set, &collector), &[]);
    assert_eq!((refused.number, refused.account()), (MultisigError::RentReclamationDisabled.code(), "multisig"));
    f.vote(Vote::Approve, set, 0).unwrap();
    f.vote(Vote::Approve, set, 1).unwrap();
    f.execute_config(set, &[]).unwrap();
    // Only to the multisig's collector, named with the two addresses.
    let stranger = Pubkey::new_unique();
    let logged = f.refused(f.close_ix(TransactionKind::Config, set, &stranger), &[]);
    assert_eq!((logged.number, logged.account()), (MultisigError::InvalidRentCollector.code(), "rent_collector"));
    assert_eq!(logged.compared, Some((stranger.to_string(), collector.to_string())));
    // A vault transaction's close on a config transaction: another account type.
    let logged = f.refused(f.close_ix(TransactionKind::Vault, set, &collector), &[]);
    assert_eq!((logged.number, logged.account()), (3002, "transaction"));
    // The executed config transaction closes, both accounts' rent to the collector.
    let (proposal, transaction) = (pdas::proposal(&f.ms, set).0, pdas::transaction(&f.ms, set).0);
    let rent = f.net.balance(&proposal) + f.net.balance(&transaction);
    f.net.execute_signed("close", &[f.close_ix(TransactionKind::Config, set, &collector)], &[]).unwrap();
    assert!(f.net.account(&proposal).is_none() && f.net.account(&transaction).is_none());
    assert_eq!(f.net.balance(&collector), rent);

    // A vault transaction still voting cannot close; executed, it can.
    f.net.airdrop(&f.vault(), 10_000_000).unwrap();
    let paid = f.propose();
    let logged = f.refused(f.close_ix(TransactionKind::Vault, paid, &collector), &[]);
    assert_eq!((logged.number, logged.is_thrown()), (MultisigError::InvalidProposalStatus.code(), true));
    f.vote(Vote::Approve, paid, 0).unwrap();
    f.vote(Vote::Approve, paid, 1).unwrap();
    f.execute(paid, 0).unwrap();
    f.net.execute_signed("close", &[f.close_ix(TransactionKind::Vault, paid, &collector)], &[]).unwrap();
    assert!(f.net.account(&pdas::transaction(&f.ms, paid).0).is_none());

    // Once stale, an approved config transaction can never run and closes; an approved vault
    // transaction still can run, so it stays until executed.
    let vault_tx = f.propose();
    let config_tx = f.propose_config(vec![ConfigAction::SetTimeLock { new_time_lock: 5 }]);
    for index in [vault_tx, config_tx] {
        f.vote(Vote::Approve, index, 0).unwrap();
        f.vote(Vote::Approve, index, 1).unwrap();
    }
    f.config_change(vec![ConfigAction::ChangeThreshold { new_threshold: 2 }]);
    let logged = f.refused(f.close_ix(TransactionKind::Vault, vault_tx, &collector), &[]);
    assert_eq!(logged.number, MultisigError::InvalidProposalStatus.code());
    f.net.execute_signed("close", &[f.close_ix(TransactionKind::Config, config_tx, &collector)], &[]).unwrap();
    f.execute(vault_tx, 0).unwrap();
    f.net.execute_signed("close", &[f.close_ix(TransactionKind::Vault, vault_tx, &collector)], &[]).unwrap();
    // The proposal must be the transaction's own.
    let open = f.propose();
    let mut mismatched = f.close_ix(TransactionKind::Vault, open, &collector);
    mismatched.accounts[1].pubkey = pdas::proposal(&f.ms, vault_tx).0;
    let logged = f.refused(mismatched, &[]);
    assert_eq!((logged.number, logged.account()), (2006, "proposal"));
}

#[test]
fn instructions_the_localnet_does_not_model_answer_101() {
    let mut f = fixture(0);
    let unmodelled = [
        "program_config_init",
        "program_config_set_treasury",
        "multisig_create",
        "multisig_add_member",
        "multisig_remove_member",
        "multisig_set_time_lock",
        "multisig_change_threshold",
        "multisig_set_config_authority",
        "multisig_set_rent_collector",
        "multisig_add_spending_limit",
        "multisig_remove_spending_limit",
        "transaction_buffer_create",
        "vault_transaction_create_from_buffer",
        "batch_create",
        "batch_add_transaction",
        "batch_execute_transaction",
        "vault_batch_transaction_account_close",
        "batch_accounts_close",
    ];
    for name in unmodelled {
        let data = psyche_runbook::psyche::encoding::discriminator(&format!("global:{name}")).to_vec();
        let ix = Instruction { program_id: psyche_runbook::squads::PROGRAM_ID, accounts: vec![], data };
        let logged = f.refused(ix, &[]);
        assert_eq!((logged.number, logged.form.clone()), (101, Form::Occurred), "{name}");
    }
}
