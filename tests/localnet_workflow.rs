//! The operator workflow of the seed page on the embedded localnet, through real signed
//! transactions and the same client path runbooks use; then the failures, with upstream's codes.

mod common;

use common::fixture;
use psyche_runbook::chain::client::{Chain, ChainError};
use psyche_runbook::localnet::handle::Handle;
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::authorization::Authorization;
use psyche_runbook::psyche::accounts::coordinator_account::{CoordinatorAccount, RunState};
use psyche_runbook::psyche::accounts::instance::CoordinatorInstance;
use psyche_runbook::psyche::accounts::treasurer::{Participant, TreasurerRun};
use psyche_runbook::psyche::config::{RunConfig, RunMetadata};
use psyche_runbook::psyche::fixed::FixedString;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::instructions::{authorizer, coordinator, system, treasurer};
use psyche_runbook::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::instruction::Instruction;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::rent::Rent;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

struct Net {
    _dir: tempfile::TempDir,
    chain: Chain,
    ids: ProgramIds,
    operator: Keypair,
    join_authority: Keypair,
}

impl Net {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let handle = Handle::open(dir.path(), || {}).unwrap();
        let operator = Keypair::new();
        let join_authority = Keypair::new();
        {
            let mut net = handle.lock();
            net.airdrop(&operator.pubkey(), 100 * LAMPORTS_PER_SOL).unwrap();
            net.airdrop(&join_authority.pubkey(), LAMPORTS_PER_SOL).unwrap();
        }
        let chain = Chain::embedded(handle, CommitmentConfig::confirmed());
        Self { _dir: dir, chain, ids: ProgramIds::default(), operator, join_authority }
    }

    fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), ChainError> {
        let signers: Vec<&dyn solana_sdk::signer::Signer> = signers.iter().map(|k| *k as _).collect();
        self.chain.send(ixs, &self.operator, &signers).map(|_| ())
    }

    fn grant(&self, grantee: &Pubkey) {
        let auth = pdas::join_authorization(&self.ids, &self.join_authority.pubkey(), grantee);
        let create = authorizer::instruction(
            &self.ids,
            &authorizer::CreateAccounts {
                payer: self.operator.pubkey(),
                grantor: self.join_authority.pubkey(),
                authorization: auth,
            },
            &authorizer::AuthorizationCreate {
                params: authorizer::AuthorizationCreateParams { grantee: *grantee, scope: JOIN_RUN_SCOPE.to_vec() },
            },
        );
        let activate = authorizer::instruction(
            &self.ids,
            &authorizer::GrantorUpdateAccounts { grantor: self.join_authority.pubkey(), authorization: auth },
            &authorizer::AuthorizationGrantorUpdate {
                params: authorizer::AuthorizationGrantorUpdateParams { active: true },
            },
        );
        self.send(&[create, activate], &[&self.join_authority]).unwrap();
        let stored = Authorization::decode(&self.chain.account(&auth).unwrap().unwrap().data).unwrap();
        assert!(stored.active && stored.grantee == *grantee);
    }

    /// create_account + init_coordinator (direct) or run_create (with a collateral mint).
    fn create_run(&self, run_id: &str, mint: Option<Pubkey>) -> Result<(Pubkey, Pubkey), ChainError> {
        let account = Keypair::new();
        let instance = pdas::coordinator_instance(&self.ids, run_id);
        let create =
            system::create_coordinator_account(&self.ids, &self.operator.pubkey(), &account.pubkey(), &Rent::default());
        let init = match mint {
            None => coordinator::instruction(
                &self.ids,
                &coordinator::InitCoordinatorAccounts {
                    payer: self.operator.pubkey(),
                    coordinator_instance: instance,
                    coordinator_account: account.pubkey(),
                },
                &coordinator::InitCoordinator {
                    params: coordinator::InitCoordinatorParams {
                        main_authority: self.operator.pubkey(),
                        join_authority: self.join_authority.pubkey(),
                        run_id: run_id.into(),
                        client_version: "test".into(),
                    },
                },
            ),
            Some(mint) => {
                let index = pdas::treasurer_index(run_id);
                let run = pdas::treasurer_run(&self.ids, index);
                treasurer::instruction(
                    &self.ids,
                    &treasurer::RunCreateAccounts {
                        payer: self.operator.pubkey(),
                        run,
                        run_collateral: pdas::associated_token(&run, &mint),
                        collateral_mint: mint,
                        coordinator_instance: instance,
                        coordinator_account: account.pubkey(),
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
        };
        self.send(&[create, init], &[&account])?;
        Ok((instance, account.pubkey()))
    }

    fn coordinator(&self, account: &Pubkey) -> CoordinatorAccount {
        CoordinatorAccount::decode(&self.chain.account(account).unwrap().unwrap().data).unwrap()
    }

    fn owner_ix(&self, instance: Pubkey, account: Pubkey, data: &impl anchor_lang::InstructionData) -> Instruction {
        coordinator::instruction(
            &self.ids,
            &coordinator::OwnerAccounts {
                authority: self.operator.pubkey(),
                coordinator_instance: instance,
                coordinator_account: account,
            },
            data,
        )
    }

    fn run_update(
        &self,
        run_id: &str,
        instance: Pubkey,
        account: Pubkey,
        params: treasurer::RunUpdateParams,
    ) -> Result<(), ChainError> {
        let run = pdas::treasurer_run(&self.ids, pdas::treasurer_index(run_id));
        let ix = treasurer::instruction(
            &self.ids,
            &treasurer::RunUpdateAccounts {
                authority: self.operator.pubkey(),
                run,
                coordinator_instance: instance,
                coordinator_account: account,
                coordinator_program: self.ids.coordinator,
            },
            &treasurer::RunUpdate { params },
        );
        self.send(&[ix], &[])
    }
}

fn fixture_config() -> RunConfig {
    RunConfig::from_file(&fixture("configs/config.toml")).unwrap()
}

fn code(result: Result<(), ChainError>) -> u32 {
    let err = result.expect_err("expected the program to refuse");
    err.custom_code().unwrap_or_else(|| panic!("no custom error code in: {err}"))
}

#[test]
fn the_seed_workflow_runs_end_to_end() {
    let net = Net::new();
    let config = fixture_config();

    // Join authorizations: one public, one per user.
    net.grant(&PERMISSIONLESS_GRANTEE);
    let private_user = Keypair::new();
    net.grant(&private_user.pubkey());

    // A run without rewards: create, configure, resume, pause, rates.
    let (instance, account) = net.create_run("plain", None).unwrap();
    let stored = CoordinatorInstance::decode(&net.chain.account(&instance).unwrap().unwrap().data).unwrap();
    assert_eq!(stored.run_id, "plain");
    assert_eq!(net.coordinator(&account).run_state, RunState::Uninitialized);
    let metadata = RunMetadata {
        name: FixedString::new("Plain run").unwrap(),
        num_parameters: 1_100_000_000,
        vocab_size: 32_768,
        ..Default::default()
    };
    let update = coordinator::Update {
        metadata: Some(metadata),
        config: Some(config.config),
        model: Some(config.model.clone()),
        progress: None,
    };
    net.send(&[net.owner_ix(instance, account, &update)], &[]).unwrap();
    net.send(&[net.owner_ix(instance, account, &coordinator::SetPaused { paused: false })], &[]).unwrap();
    let acc = net.coordinator(&account);
    assert_eq!(acc.run_state, RunState::WaitingForMembers);
    assert_eq!(acc.config, config.config);
    assert_eq!(acc.progress.step, 1);
    net.send(&[net.owner_ix(instance, account, &coordinator::SetPaused { paused: true })], &[]).unwrap();
    assert_eq!(net.coordinator(&account).run_state, RunState::Paused);
    let rates = coordinator::SetFutureEpochRates {
        epoch_earning_rate_total_shared: Some(7),
        epoch_slashing_rate_per_client: Some(1),
    };
    net.send(&[net.owner_ix(instance, account, &rates)], &[]).unwrap();
    assert_eq!(net.coordinator(&account).future_epoch_rates.earning_rate_total_shared, 7);

    // A rewarded run with a mint created on the localnet.
    let mint = net.chain.localnet().unwrap().lock().create_mint(6).unwrap();
    let (r_instance, r_account) = net.create_run("rewarded", Some(mint)).unwrap();
    let run_pda = pdas::treasurer_run(&net.ids, pdas::treasurer_index("rewarded"));
    let run = TreasurerRun::decode(&net.chain.account(&run_pda).unwrap().unwrap().data).unwrap();
    assert_eq!(run.collateral_mint, mint);
    assert_eq!(
        CoordinatorInstance::decode(&net.chain.account(&r_instance).unwrap().unwrap().data).unwrap().main_authority,
        run_pda
    );
    net.run_update(
        "rewarded",
        r_instance,
        r_account,
        treasurer::RunUpdateParams {
            config: Some(config.config),
            model: Some(config.model.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    net.run_update(
        "rewarded",
        r_instance,
        r_account,
        treasurer::RunUpdateParams {
            epoch_earning_rate_total_shared: Some(3_000_000),
            paused: Some(false),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(net.coordinator(&r_account).run_state, RunState::WaitingForMembers);

    // Top-up: the operator's tokens to the run's collateral account.
    let source = net.chain.localnet().unwrap().lock().mint_to(&mint, &net.operator.pubkey(), 10_000_000).unwrap();
    let treasury = pdas::associated_token(&run_pda, &mint);
    net.send(&[system::token_transfer(&source, &treasury, &net.operator.pubkey(), 5_000_000)], &[]).unwrap();
    let handle = net.chain.localnet().unwrap().clone();
    assert_eq!(handle.lock().token_balance(&treasury).unwrap().0, 5_000_000);

    // One simulated epoch with three clients that joined through the public authorization.
    let clients: Vec<Keypair> = (0..3).map(|_| Keypair::new()).collect();
    let summary = handle.lock().simulate_epoch("rewarded", &clients).unwrap();
    assert_eq!(summary.epoch, 1);
    assert_eq!(summary.final_state, RunState::WaitingForMembers);
    for (_, earned) in &summary.earned {
        assert_eq!(*earned, 1_000_000, "the shared rate splits evenly: {summary:?}");
    }

    // Claims: each client takes its points as collateral.
    for client in &clients {
        let participant = pdas::participant(&net.ids, &run_pda, &client.pubkey());
        let user_collateral = pdas::associated_token(&client.pubkey(), &mint);
        let ata = system::create_ata_idempotent(&client.pubkey(), &client.pubkey(), &mint);
        let create = treasurer::instruction(
            &net.ids,
            &treasurer::ParticipantCreateAccounts {
                payer: client.pubkey(),
                user: client.pubkey(),
                run: run_pda,
                participant,
            },
            &treasurer::ParticipantCreate::default(),
        );
        let claim = treasurer::instruction(
            &net.ids,
            &treasurer::ParticipantClaimAccounts {
                user: client.pubkey(),
                user_collateral,
                run: run_pda,
                run_collateral: treasury,
                coordinator_account: r_account,
                participant,
            },
            &treasurer::ParticipantClaim {
                params: treasurer::ParticipantClaimParams { claim_earned_points: 1_000_000 },
            },
        );
        net.chain.send(&[ata, create, claim], client, &[]).unwrap();
        assert_eq!(handle.lock().token_balance(&user_collateral).unwrap().0, 1_000_000);
        let p = Participant::decode(&net.chain.account(&participant).unwrap().unwrap().data).unwrap();
        assert_eq!(p.claimed_earned_points, 1_000_000);
    }
    assert_eq!(handle.lock().token_balance(&treasury).unwrap().0, 2_000_000);
    let run = TreasurerRun::decode(&net.chain.account(&run_pda).unwrap().unwrap().data).unwrap();
    assert_eq!(run.total_claimed_earned_points, 3_000_000);

    // Close the direct run (it is paused) and get its rent back.
    let before = net.chain.balance(&net.operator.pubkey()).unwrap();
    let free = coordinator::instruction(
        &net.ids,
        &coordinator::FreeCoordinatorAccounts {
            authority: net.operator.pubkey(),
            spill: net.operator.pubkey(),
            coordinator_instance: instance,
            coordinator_account: account,
        },
        &coordinator::FreeCoordinator::default(),
    );
    net.send(&[free], &[]).unwrap();
    assert!(net.chain.account(&instance).unwrap().is_none());
    assert!(net.chain.account(&account).unwrap().is_none());
    assert!(net.chain.balance(&net.operator.pubkey()).unwrap() > before + 800_000_000);
}

#[test]
fn failures_carry_upstream_error_codes() {
    let net = Net::new();
    let config = fixture_config();
    let (instance, account) = net.create_run("strict", None).unwrap();
    let full = coordinator::Update {
        metadata: None,
        config: Some(config.config),
        model: Some(config.model.clone()),
        progress: None,
    };
    net.send(&[net.owner_ix(instance, account, &full)], &[]).unwrap();

    // A config that breaks a rule, sent raw (the local checks would refuse it first).
    let mut bad = config.config;
    bad.witness_nodes = 40;
    let bad_update = coordinator::Update { config: Some(bad), ..Default::default() };
    assert_eq!(code(net.send(&[net.owner_ix(instance, account, &bad_update)], &[])), 6004);

    net.send(&[net.owner_ix(instance, account, &coordinator::SetPaused { paused: false })], &[]).unwrap();
    // Update while running: 6001 UpdateConfigNotHalted.
    assert_eq!(code(net.send(&[net.owner_ix(instance, account, &full)], &[])), 6001);
    // Close while active (waiting for members is not halted): 6009.
    let free = coordinator::instruction(
        &net.ids,
        &coordinator::FreeCoordinatorAccounts {
            authority: net.operator.pubkey(),
            spill: net.operator.pubkey(),
            coordinator_instance: instance,
            coordinator_account: account,
        },
        &coordinator::FreeCoordinator::default(),
    );
    assert_eq!(code(net.send(&[free], &[])), 6009);

    // A run id of 33 bytes: 6023 RunIdInvalidLength (seeds derived from the first 32 bytes
    // would not even match, so the length check must come first).
    let long = "x".repeat(33);
    let account_kp = Keypair::new();
    let create =
        system::create_coordinator_account(&net.ids, &net.operator.pubkey(), &account_kp.pubkey(), &Rent::default());
    let init = coordinator::instruction(
        &net.ids,
        &coordinator::InitCoordinatorAccounts {
            payer: net.operator.pubkey(),
            coordinator_instance: Pubkey::find_program_address(
                &[b"coordinator", &long.as_bytes()[..32]],
                &net.ids.coordinator,
            )
            .0,
            coordinator_account: account_kp.pubkey(),
        },
        &coordinator::InitCoordinator {
            params: coordinator::InitCoordinatorParams {
                main_authority: net.operator.pubkey(),
                join_authority: net.join_authority.pubkey(),
                run_id: long,
                client_version: "test".into(),
            },
        },
    );
    assert_eq!(code(net.send(&[create, init], &[&account_kp])), 6023);

    // Join without an authorization: 3012 AccountNotInitialized.
    let user = Keypair::new();
    net.chain.localnet().unwrap().lock().airdrop(&user.pubkey(), LAMPORTS_PER_SOL).unwrap();
    let join = coordinator::instruction(
        &net.ids,
        &coordinator::JoinRunAccounts {
            user: user.pubkey(),
            authorization: pdas::join_authorization(&net.ids, &net.join_authority.pubkey(), &user.pubkey()),
            coordinator_instance: instance,
            coordinator_account: account,
        },
        &coordinator::JoinRun {
            params: coordinator::JoinRunParams {
                client_id: coordinator::NodeIdentity { signer: user.pubkey(), p2p_identity: [1; 32] },
            },
        },
    );
    assert_eq!(code(net.chain.send(&[join], &user, &[]).map(|_| ())), 3012);

    // Claim more than earned: 6000 InvalidParameter.
    let mint = net.chain.localnet().unwrap().lock().create_mint(0).unwrap();
    let (_, r_account) = net.create_run("claims", Some(mint)).unwrap();
    let run_pda = pdas::treasurer_run(&net.ids, pdas::treasurer_index("claims"));
    let participant = pdas::participant(&net.ids, &run_pda, &user.pubkey());
    let ata = system::create_ata_idempotent(&user.pubkey(), &user.pubkey(), &mint);
    let create = treasurer::instruction(
        &net.ids,
        &treasurer::ParticipantCreateAccounts { payer: user.pubkey(), user: user.pubkey(), run: run_pda, participant },
        &treasurer::ParticipantCreate::default(),
    );
    net.chain.send(&[ata, create], &user, &[]).unwrap();
    let claim = treasurer::instruction(
        &net.ids,
        &treasurer::ParticipantClaimAccounts {
            user: user.pubkey(),
            user_collateral: pdas::associated_token(&user.pubkey(), &mint),
            run: run_pda,
            run_collateral: pdas::associated_token(&run_pda, &mint),
            coordinator_account: r_account,
            participant,
        },
        &treasurer::ParticipantClaim { params: treasurer::ParticipantClaimParams { claim_earned_points: 1 } },
    );
    let err = net.chain.send(&[claim], &user, &[]).unwrap_err();
    assert_eq!(err.custom_code(), Some(6000), "{err}");
    assert!(err.to_string().contains("InvalidParameter"), "the Anchor error line is in the message: {err}");

    // Pausing a halted run: 6015.
    net.send(&[net.owner_ix(instance, account, &coordinator::SetPaused { paused: true })], &[]).unwrap();
    assert_eq!(code(net.send(&[net.owner_ix(instance, account, &coordinator::SetPaused { paused: true })], &[])), 6015);
}

#[test]
fn authorization_close_rules() {
    let net = Net::new();
    let user = Keypair::new();
    net.grant(&user.pubkey());
    let auth = pdas::join_authorization(&net.ids, &net.join_authority.pubkey(), &user.pubkey());
    let close = authorizer::instruction(
        &net.ids,
        &authorizer::CloseAccounts {
            grantor: net.join_authority.pubkey(),
            spill: net.operator.pubkey(),
            authorization: auth,
        },
        &authorizer::AuthorizationClose::default(),
    );
    // Still active: 6000.
    assert_eq!(code(net.send(std::slice::from_ref(&close), &[&net.join_authority])), 6000);
    // The grantee adds delegates (realloc paid by the payer), the grantor deactivates.
    net.chain.localnet().unwrap().lock().airdrop(&user.pubkey(), LAMPORTS_PER_SOL).unwrap();
    let delegates = authorizer::instruction(
        &net.ids,
        &authorizer::GranteeUpdateAccounts { payer: user.pubkey(), grantee: user.pubkey(), authorization: auth },
        &authorizer::AuthorizationGranteeUpdate {
            params: authorizer::AuthorizationGranteeUpdateParams {
                delegates_clear: false,
                delegates_added: vec![Pubkey::new_unique(); 3],
            },
        },
    );
    net.chain.send(&[delegates], &user, &[]).unwrap();
    let stored = net.chain.account(&auth).unwrap().unwrap();
    assert_eq!(stored.data.len(), 204);
    assert_eq!(Authorization::decode(&stored.data).unwrap().delegates.len(), 3);
    let deactivate = authorizer::instruction(
        &net.ids,
        &authorizer::GrantorUpdateAccounts { grantor: net.join_authority.pubkey(), authorization: auth },
        &authorizer::AuthorizationGrantorUpdate {
            params: authorizer::AuthorizationGrantorUpdateParams { active: false },
        },
    );
    net.send(&[deactivate], &[&net.join_authority]).unwrap();
    // Delegates and a recent grantor update: 6001 until 30 days have passed.
    assert_eq!(code(net.send(std::slice::from_ref(&close), &[&net.join_authority])), 6001);
    net.chain.localnet().unwrap().lock().advance_clock(30 * 24 * 3600 + 1);
    net.send(&[close], &[&net.join_authority]).unwrap();
    assert!(net.chain.account(&auth).unwrap().is_none());
}
