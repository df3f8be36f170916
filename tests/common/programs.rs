//! A chain-level harness for the localnet programs: an in-process `Localnet` with an operator
//! and a join authority, builders for every Psyche instruction the tests send, and helpers
//! that read what a failed transaction's error code was.

use psyche_runbook::localnet::{Executed, Localnet};
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::coordinator_account::CoordinatorAccount;
use psyche_runbook::psyche::accounts::instance::CoordinatorInstance;
use psyche_runbook::psyche::config::RunConfig;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::instructions::{authorizer, coordinator, system, treasurer};
use psyche_runbook::psyche::pdas::{self, JOIN_RUN_SCOPE};
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::message::Message;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::rent::Rent;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError, VersionedTransaction};

pub struct Net {
    pub local: Localnet,
    pub ids: ProgramIds,
    pub operator: Keypair,
    pub join_authority: Keypair,
}

/// A run's two coordinator accounts.
#[derive(Debug, Clone, Copy)]
pub struct RunKeys {
    pub instance: Pubkey,
    pub account: Pubkey,
}

pub fn fixture_config() -> RunConfig {
    RunConfig::from_file(&super::fixture("configs/config.toml")).unwrap()
}

impl Net {
    pub fn new() -> Self {
        Self::with_ids(ProgramIds::default())
    }

    /// A localnet whose Psyche programs are installed at `ids`.
    pub fn with_ids(ids: ProgramIds) -> Self {
        let mut local = Localnet::new();
        local.use_program_ids(ids);
        let (operator, join_authority) = (Keypair::new(), Keypair::new());
        local.airdrop(&operator.pubkey(), 1_000 * LAMPORTS_PER_SOL).unwrap();
        local.airdrop(&join_authority.pubkey(), LAMPORTS_PER_SOL).unwrap();
        Self { local, ids, operator, join_authority }
    }

    /// Sends `ixs` with the operator paying, plus `signers`.
    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Executed {
        let mut all = vec![&self.operator];
        all.extend_from_slice(signers);
        let sign = |blockhash| {
            let message = Message::new_with_blockhash(ixs, Some(&self.operator.pubkey()), &blockhash);
            VersionedTransaction::from(Transaction::new(&all, message, blockhash))
        };
        let mut tx = sign(self.local.latest_blockhash());
        // The same instructions again within one slot sign the same bytes, which a cluster runs
        // once: wait for the next slot's blockhash, as a client would.
        if self.local.admit(&tx) == Err(TransactionError::AlreadyProcessed) {
            self.local.end_slot_early();
            tx = sign(self.local.latest_blockhash());
        }
        self.local.execute(&tx)
    }

    pub fn ok(&mut self, ixs: &[Instruction], signers: &[&Keypair]) {
        let executed = self.send(ixs, signers);
        assert!(executed.err.is_none(), "{:?}\n{}", executed.err, executed.logs.join("\n"));
    }

    /// The instruction error a transaction failed with.
    pub fn fails(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> InstructionError {
        let executed = self.send(ixs, signers);
        match executed.err {
            Some(TransactionError::InstructionError(_, err)) => err,
            other => panic!("expected an instruction error, got {other:?}\n{}", executed.logs.join("\n")),
        }
    }

    /// The custom program error code a transaction failed with, its log line checked to be in
    /// one of Anchor's forms.
    pub fn code(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> u32 {
        self.error(ixs, signers).number
    }

    /// The Anchor error a transaction failed with, as its log line reads.
    pub fn error(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> super::anchor_log::Logged {
        let executed = self.send(ixs, signers);
        match executed.err {
            Some(TransactionError::InstructionError(_, InstructionError::Custom(code))) => {
                super::anchor_log::expect(&executed.logs, code)
            }
            other => panic!("expected a custom error, got {other:?}\n{}", executed.logs.join("\n")),
        }
    }

    pub fn new_funded(&mut self) -> Keypair {
        let key = Keypair::new();
        self.local.airdrop(&key.pubkey(), LAMPORTS_PER_SOL).unwrap();
        key
    }

    pub fn authorization_create(&self, grantee: &Pubkey, scope: &[u8]) -> Instruction {
        authorizer::instruction(
            &self.ids,
            &authorizer::CreateAccounts {
                payer: self.operator.pubkey(),
                grantor: self.join_authority.pubkey(),
                authorization: pdas::authorization(&self.ids, &self.join_authority.pubkey(), grantee, scope),
            },
            &authorizer::AuthorizationCreate {
                params: authorizer::AuthorizationCreateParams { grantee: *grantee, scope: scope.to_vec() },
            },
        )
    }

    pub fn grantor_update(&self, authorization: Pubkey, active: bool) -> Instruction {
        authorizer::instruction(
            &self.ids,
            &authorizer::GrantorUpdateAccounts { grantor: self.join_authority.pubkey(), authorization },
            &authorizer::AuthorizationGrantorUpdate { params: authorizer::AuthorizationGrantorUpdateParams { active } },
        )
    }

    /// An active join authorization for `grantee`.
    pub fn grant(&mut self, grantee: &Pubkey) -> Pubkey {
        let auth = pdas::join_authorization(&self.ids, &self.join_authority.pubkey(), grantee);
        let ixs = [self.authorization_create(grantee, JOIN_RUN_SCOPE), self.grantor_update(auth, true)];
        let join_authority = self.join_authority.insecure_clone();
        self.ok(&ixs, &[&join_authority]);
        auth
    }

    pub fn init_coordinator(&self, run_id: &str, account: &Pubkey, client_version: &str) -> Instruction {
        coordinator::instruction(
            &self.ids,
            &coordinator::InitCoordinatorAccounts {
                payer: self.operator.pubkey(),
                coordinator_instance: pdas::coordinator_instance(&self.ids, run_id),
                coordinator_account: *account,
            },
            &coordinator::InitCoordinator {
                params: coordinator::InitCoordinatorParams {
                    main_authority: self.operator.pubkey(),
                    join_authority: self.join_authority.pubkey(),
                    run_id: run_id.into(),
                    client_version: client_version.into(),
                },
            },
        )
    }

    pub fn create_account_ix(&self, account: &Pubkey) -> Instruction {
        system::create_coordinator_account(&self.ids, &self.operator.pubkey(), account, &Rent::default())
    }

    /// A run created directly (the operator is its main authority).
    pub fn create_run(&mut self, run_id: &str) -> RunKeys {
        let account = Keypair::new();
        let ixs = [self.create_account_ix(&account.pubkey()), self.init_coordinator(run_id, &account.pubkey(), "test")];
        self.ok(&ixs, &[&account]);
        RunKeys { instance: pdas::coordinator_instance(&self.ids, run_id), account: account.pubkey() }
    }

    pub fn owner_ix(&self, run: RunKeys, data: &impl anchor_lang::InstructionData) -> Instruction {
        coordinator::instruction(
            &self.ids,
            &coordinator::OwnerAccounts {
                authority: self.operator.pubkey(),
                coordinator_instance: run.instance,
                coordinator_account: run.account,
            },
            data,
        )
    }

    pub fn permissionless_ix(
        &self,
        run: RunKeys,
        user: &Pubkey,
        data: &impl anchor_lang::InstructionData,
    ) -> Instruction {
        coordinator::instruction(
            &self.ids,
            &coordinator::PermissionlessAccounts {
                user: *user,
                coordinator_instance: run.instance,
                coordinator_account: run.account,
            },
            data,
        )
    }

    /// Uploads `config` (config and model) to a direct run.
    pub fn configure(&mut self, run: RunKeys, config: &RunConfig) {
        let update = coordinator::Update {
            metadata: None,
            config: Some(config.config),
            model: Some(config.model.clone()),
            progress: None,
        };
        let ix = self.owner_ix(run, &update);
        self.ok(&[ix], &[]);
    }

    pub fn set_paused(&self, run: RunKeys, paused: bool) -> Instruction {
        self.owner_ix(run, &coordinator::SetPaused { paused })
    }

    /// A direct run, configured with `config` and resumed (waiting for members).
    pub fn running(&mut self, run_id: &str, config: &RunConfig) -> RunKeys {
        let run = self.create_run(run_id);
        self.configure(run, config);
        let ix = self.set_paused(run, false);
        self.ok(&[ix], &[]);
        run
    }

    /// The accounts of an existing run.
    pub fn keys_of(&self, run_id: &str) -> RunKeys {
        let instance = pdas::coordinator_instance(&self.ids, run_id);
        let stored = CoordinatorInstance::decode(&self.local.account(&instance).unwrap().data).unwrap();
        RunKeys { instance, account: stored.coordinator_account }
    }

    pub fn coordinator(&self, run: RunKeys) -> CoordinatorAccount {
        CoordinatorAccount::decode(&self.local.account(&run.account).unwrap().data).unwrap()
    }

    pub fn join_ix(&self, run: RunKeys, user: &Pubkey, authorization: Pubkey) -> Instruction {
        coordinator::instruction(
            &self.ids,
            &coordinator::JoinRunAccounts {
                user: *user,
                authorization,
                coordinator_instance: run.instance,
                coordinator_account: run.account,
            },
            &coordinator::JoinRun {
                params: coordinator::JoinRunParams {
                    client_id: coordinator::NodeIdentity { signer: *user, p2p_identity: user.to_bytes() },
                },
            },
        )
    }

    /// A rewarded run through the treasurer, with a fresh collateral mint: (run PDA, mint, keys).
    pub fn create_rewarded(&mut self, run_id: &str) -> (Pubkey, Pubkey, RunKeys) {
        let mint = self.local.create_mint(6).unwrap();
        let account = Keypair::new();
        let ixs = [self.create_account_ix(&account.pubkey()), self.run_create(run_id, &mint, &account.pubkey())];
        self.ok(&ixs, &[&account]);
        let run = pdas::treasurer_run(&self.ids, pdas::treasurer_index(run_id));
        (run, mint, RunKeys { instance: pdas::coordinator_instance(&self.ids, run_id), account: account.pubkey() })
    }

    pub fn run_create(&self, run_id: &str, mint: &Pubkey, account: &Pubkey) -> Instruction {
        let index = pdas::treasurer_index(run_id);
        let run = pdas::treasurer_run(&self.ids, index);
        treasurer::instruction(
            &self.ids,
            &treasurer::RunCreateAccounts {
                payer: self.operator.pubkey(),
                run,
                run_collateral: pdas::associated_token(&run, mint),
                collateral_mint: *mint,
                coordinator_instance: pdas::coordinator_instance(&self.ids, run_id),
                coordinator_account: *account,
                coordinator_program: self.ids.coordinator,
            },
            &treasurer::RunCreate {
                params: treasurer::RunCreateParams {
                    index,
                    run_id: run_id.into(),
                    client_version: "test".into(),
                    main_authority: self.operator.pubkey(),
                    join_authority: self.join_authority.pubkey(),
                },
            },
        )
    }

    pub fn run_update(&self, run: Pubkey, keys: RunKeys, params: treasurer::RunUpdateParams) -> Instruction {
        treasurer::instruction(
            &self.ids,
            &treasurer::RunUpdateAccounts {
                authority: self.operator.pubkey(),
                run,
                coordinator_instance: keys.instance,
                coordinator_account: keys.account,
                coordinator_program: self.ids.coordinator,
            },
            &treasurer::RunUpdate { params },
        )
    }

    pub fn participant_create(&self, run: Pubkey, user: &Pubkey) -> Instruction {
        treasurer::instruction(
            &self.ids,
            &treasurer::ParticipantCreateAccounts {
                payer: self.operator.pubkey(),
                user: *user,
                run,
                participant: pdas::participant(&self.ids, &run, user),
            },
            &treasurer::ParticipantCreate::default(),
        )
    }

    pub fn participant_claim(
        &self,
        run: Pubkey,
        mint: &Pubkey,
        keys: RunKeys,
        user: &Pubkey,
        user_collateral: Pubkey,
        points: u64,
    ) -> Instruction {
        treasurer::instruction(
            &self.ids,
            &treasurer::ParticipantClaimAccounts {
                user: *user,
                user_collateral,
                run,
                run_collateral: pdas::associated_token(&run, mint),
                coordinator_account: keys.account,
                participant: pdas::participant(&self.ids, &run, user),
            },
            &treasurer::ParticipantClaim { params: treasurer::ParticipantClaimParams { claim_earned_points: points } },
        )
    }
}
