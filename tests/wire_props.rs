//! Property tests: every encoding round-trips for random valid values, and decoding random
//! bytes never panics.

use anchor_lang::{AnchorDeserialize, Discriminator, InstructionData};
use proptest::collection::vec;
use proptest::prelude::*;
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::authorization::Authorization;
use psyche_runbook::psyche::accounts::coordinator_account::{
    self, ClientState, CoordinatorAccount, EpochClient, EpochRates, EpochState, RegisteredClient, Round, RunState,
    Witness,
};
use psyche_runbook::psyche::accounts::instance::CoordinatorInstance;
use psyche_runbook::psyche::accounts::treasurer::{Participant, TreasurerRun};
use psyche_runbook::psyche::config::{CoordinatorConfig, CoordinatorProgress, RunMetadata};
use psyche_runbook::psyche::encoding::borsh_bytes;
use psyche_runbook::psyche::fixed::FixedString;
use psyche_runbook::psyche::instructions::{authorizer, coordinator, treasurer};
use psyche_runbook::psyche::model::*;
use solana_sdk::pubkey::Pubkey;

fn fixed<const N: usize>() -> impl Strategy<Value = FixedString<N>> {
    // ASCII without NUL: what survives a NUL-padded buffer unchanged.
    proptest::string::string_regex(&format!("[ -~]{{0,{N}}}")).unwrap().prop_map(|s| FixedString::new(s).unwrap())
}

fn pubkey() -> impl Strategy<Value = Pubkey> {
    any::<[u8; 32]>().prop_map(Pubkey::new_from_array)
}

fn finite64() -> impl Strategy<Value = f64> {
    -1.0e6f64..1.0e6
}

fn finite32() -> impl Strategy<Value = f32> {
    -1.0e3f32..1.0e3
}

fn hub() -> impl Strategy<Value = HubRepo> {
    (fixed::<64>(), proptest::option::of(fixed::<64>())).prop_map(|(repo_id, revision)| HubRepo { repo_id, revision })
}

fn gcs() -> impl Strategy<Value = GcsRepo> {
    (fixed::<64>(), proptest::option::of(fixed::<64>())).prop_map(|(bucket, prefix)| GcsRepo { bucket, prefix })
}

fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    prop_oneof![
        Just(Checkpoint::Ephemeral),
        hub().prop_map(Checkpoint::Dummy),
        hub().prop_map(Checkpoint::Hub),
        hub().prop_map(Checkpoint::P2P),
        gcs().prop_map(Checkpoint::Gcs),
        gcs().prop_map(Checkpoint::P2PGcs),
    ]
}

fn http_location() -> impl Strategy<Value = HttpLocation> {
    prop_oneof![
        fixed::<192>().prop_map(HttpLocation::SingleUrl),
        (fixed::<64>(), any::<u32>(), any::<u8>(), any::<u32>()).prop_map(
            |(url_template, start_index, n_left_pad_zeros, num_files)| HttpLocation::NumberedFiles {
                url_template,
                start_index,
                n_left_pad_zeros,
                num_files
            }
        ),
        (fixed::<64>(), fixed::<192>())
            .prop_map(|(bucket_name, filter_directory)| HttpLocation::Gcp { bucket_name, filter_directory }),
    ]
}

fn data_location() -> impl Strategy<Value = DataLocation> {
    prop_oneof![
        Just(DataLocation::Dummy),
        fixed::<64>().prop_map(DataLocation::Server),
        fixed::<192>().prop_map(DataLocation::Local),
        (
            http_location(),
            prop_oneof![Just(TokenSize::TwoBytes), Just(TokenSize::FourBytes)],
            prop_oneof![Just(Shuffle::DontShuffle), any::<[u8; 32]>().prop_map(Shuffle::Seeded)]
        )
            .prop_map(|(location, token_size_in_bytes, shuffle)| DataLocation::Http(HttpDataLocation {
                location,
                token_size_in_bytes,
                shuffle
            })),
        fixed::<192>().prop_map(DataLocation::WeightedHttp),
        fixed::<192>().prop_map(DataLocation::Preprocessed),
    ]
}

fn lr_schedule() -> impl Strategy<Value = LrSchedule> {
    prop_oneof![
        (finite64(), finite64(), any::<u32>()).prop_map(|(base_lr, warmup_init_lr, warmup_steps)| {
            LrSchedule::Constant { base_lr, warmup_init_lr, warmup_steps }
        }),
        (finite64(), finite64(), finite64(), any::<u32>(), any::<u32>()).prop_map(|(a, b, c, d, e)| {
            LrSchedule::Linear { base_lr: a, warmup_init_lr: b, final_lr: c, warmup_steps: d, total_steps: e }
        }),
        (finite64(), finite64(), finite64(), any::<u32>(), any::<u32>()).prop_map(|(a, b, c, d, e)| {
            LrSchedule::Cosine { base_lr: a, warmup_init_lr: b, final_lr: c, warmup_steps: d, total_steps: e }
        }),
        (finite64(), finite64(), finite64(), finite64(), any::<[u32; 4]>()).prop_map(|(a, b, c, d, s)| {
            LrSchedule::WarmupStableDecay {
                base_lr: a,
                warmup_init_lr: b,
                cosine_decay_final_lr: c,
                linear_decay_final_lr: d,
                warmup_steps: s[0],
                stable_steps: s[1],
                cosine_decay_steps: s[2],
                linear_decay_steps: s[3],
            }
        }),
    ]
}

fn optimizer() -> impl Strategy<Value = Optimizer> {
    prop_oneof![
        Just(Optimizer::Dummy),
        (finite32(), finite32(), finite32(), finite32(), proptest::option::of(finite32())).prop_map(
            |(b0, b1, weight_decay, eps, clip_grad_norm)| Optimizer::AdamW {
                betas: [b0, b1],
                weight_decay,
                eps,
                clip_grad_norm
            }
        ),
        (
            proptest::option::of(finite32()),
            proptest::option::of(finite32()),
            finite32(),
            any::<u16>(),
            any::<u16>(),
            any::<bool>()
        )
            .prop_map(
                |(
                    clip_grad_norm,
                    weight_decay,
                    compression_decay,
                    compression_topk,
                    compression_chunk,
                    quantize_1bit,
                )| {
                    Optimizer::Distro {
                        clip_grad_norm,
                        weight_decay,
                        compression_decay,
                        compression_topk,
                        compression_chunk,
                        quantize_1bit,
                    }
                }
            ),
    ]
}

fn model() -> impl Strategy<Value = Model> {
    (
        any::<u32>(),
        any::<u32>(),
        prop_oneof![
            Just(Architecture::HfLlama),
            Just(Architecture::HfDeepseek),
            Just(Architecture::HfAuto),
            Just(Architecture::Torchtitan)
        ],
        checkpoint(),
        prop_oneof![Just(DataType::Pretraining), Just(DataType::Finetuning)],
        data_location(),
        lr_schedule(),
        optimizer(),
    )
        .prop_map(
            |(
                max_seq_len,
                cold_start_warmup_steps,
                architecture,
                checkpoint,
                data_type,
                data_location,
                lr_schedule,
                optimizer,
            )| {
                Model::LLM(Llm {
                    max_seq_len,
                    cold_start_warmup_steps,
                    architecture,
                    checkpoint,
                    data_type,
                    data_location,
                    lr_schedule,
                    optimizer,
                })
            },
        )
}

fn config() -> impl Strategy<Value = CoordinatorConfig> {
    (any::<[u64; 6]>(), any::<u32>(), any::<[u16; 5]>(), any::<[u8; 2]>()).prop_map(|(a, total_steps, b, c)| {
        CoordinatorConfig {
            warmup_time: a[0],
            cooldown_time: a[1],
            max_round_train_time: a[2],
            round_witness_time: a[3],
            global_batch_size_warmup_tokens: a[4],
            epoch_time: a[5],
            total_steps,
            init_min_clients: b[0],
            min_clients: b[1],
            witness_nodes: b[2],
            global_batch_size_start: b[3],
            global_batch_size_end: b[4],
            verification_percent: c[0],
            waiting_for_members_extra_time: c[1],
        }
    })
}

fn metadata() -> impl Strategy<Value = RunMetadata> {
    (fixed::<64>(), fixed::<280>(), any::<u64>(), any::<u64>()).prop_map(
        |(name, description, num_parameters, vocab_size)| RunMetadata { name, description, num_parameters, vocab_size },
    )
}

fn client_state() -> impl Strategy<Value = ClientState> {
    prop_oneof![
        Just(ClientState::Healthy),
        Just(ClientState::Dropped),
        Just(ClientState::Withdrawn),
        Just(ClientState::Ejected)
    ]
}

fn epoch_client() -> impl Strategy<Value = EpochClient> {
    (pubkey(), any::<[u8; 32]>(), client_state(), any::<u32>()).prop_map(
        |(signer, p2p_identity, state, exited_height)| EpochClient { signer, p2p_identity, state, exited_height },
    )
}

fn registered_client() -> impl Strategy<Value = RegisteredClient> {
    (pubkey(), any::<[u8; 32]>(), any::<[u64; 3]>()).prop_map(|(signer, p2p_identity, n)| RegisteredClient {
        signer,
        p2p_identity,
        earned: n[0],
        slashed: n[1],
        active: n[2],
    })
}

fn witness() -> impl Strategy<Value = Witness> {
    (any::<u64>(), any::<u64>(), any::<u8>(), vec(any::<u8>(), 192), vec(any::<u8>(), 192), any::<[u8; 32]>()).prop_map(
        |(position, index, witness, participant, broadcast, broadcast_merkle)| Witness {
            position,
            index,
            witness,
            participant_bloom: participant.try_into().unwrap(),
            broadcast_bloom: broadcast.try_into().unwrap(),
            broadcast_merkle,
        },
    )
}

fn round() -> impl Strategy<Value = Round> {
    (vec(witness(), 0..3), any::<u64>(), any::<u64>(), any::<u32>(), any::<u16>(), any::<u16>()).prop_map(
        |(witnesses, data_index, random_seed, height, clients_len, tie_breaker_tasks)| Round {
            witnesses,
            data_index,
            random_seed,
            height,
            clients_len,
            tie_breaker_tasks,
        },
    )
}

fn account() -> impl Strategy<Value = CoordinatorAccount> {
    let epoch = (
        [round(), round(), round(), round()],
        vec(epoch_client(), 0..8),
        vec(epoch_client(), 0..4),
        any::<[u32; 3]>(),
        any::<u64>(),
        any::<[bool; 2]>(),
    )
        .prop_map(|(rounds, clients, exited_clients, steps, start_timestamp, flags)| EpochState {
            rounds,
            clients,
            exited_clients,
            rounds_head: steps[0],
            start_step: steps[1],
            last_step: steps[2],
            start_timestamp,
            first_round: flags[0],
            cold_start_epoch: flags[1],
        });
    (
        (metadata(), fixed::<32>(), proptest::sample::select(RunState::ALL.to_vec()), model(), config()),
        (any::<(u16, u32, u64)>(), epoch, any::<u64>(), any::<bool>(), vec(registered_client(), 0..10)),
        (any::<[u64; 6]>(), any::<[bool; 2]>(), fixed::<96>()),
    )
        .prop_map(
            |((metadata, run_id, run_state, model, config), (p, epoch_state, start, pending, clients), (n, t, v))| {
                CoordinatorAccount {
                    version: coordinator_account::VERSION,
                    metadata,
                    run_id,
                    run_state,
                    model,
                    config,
                    progress: CoordinatorProgress { epoch: p.0, step: p.1, epoch_start_data_index: p.2 },
                    epoch_state,
                    run_state_start_unix_timestamp: start,
                    pending_pause: pending,
                    clients,
                    next_active: n[0],
                    current_epoch_rates: EpochRates { earning_rate_total_shared: n[1], slashing_rate_per_client: n[2] },
                    future_epoch_rates: EpochRates { earning_rate_total_shared: n[3], slashing_rate_per_client: n[4] },
                    is_warmup_first_tick: t[0],
                    is_training_first_tick: t[1],
                    client_version: v,
                    nonce: n[5],
                }
            },
        )
}

fn roundtrip<T: AnchorDeserialize + anchor_lang::AnchorSerialize + PartialEq + std::fmt::Debug>(value: &T) {
    let bytes = borsh_bytes(value);
    assert_eq!(&T::try_from_slice(&bytes).unwrap(), value);
}

/// Instruction data = discriminator + Borsh args, decoding back to the same args.
fn instruction_roundtrip<T: InstructionData + AnchorDeserialize + PartialEq + std::fmt::Debug>(args: &T) {
    let data = args.data();
    assert_eq!(&data[..8], T::DISCRIMINATOR);
    assert_eq!(&T::try_from_slice(&data[8..]).unwrap(), args);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn config_model_and_metadata_roundtrip_through_borsh(c in config(), m in model(), md in metadata()) {
        prop_assert_eq!(borsh_bytes(&c).len(), 64);
        roundtrip(&c);
        roundtrip(&m);
        roundtrip(&md);
    }

    #[test]
    fn config_and_model_roundtrip_through_toml(c in config(), m in model()) {
        let rc = psyche_runbook::psyche::config::RunConfig { config: c, model: m };
        let text = toml::to_string(&rc).unwrap();
        let back = psyche_runbook::psyche::config::RunConfig::from_toml_str(&text, "generated").unwrap();
        prop_assert_eq!(back, rc);
    }

    #[test]
    fn coordinator_account_roundtrips_through_its_layout(a in account()) {
        let bytes = a.encode();
        prop_assert_eq!(bytes.len(), coordinator_account::SIZE);
        prop_assert_eq!(CoordinatorAccount::decode(&bytes).unwrap(), a);
    }

    #[test]
    fn borsh_accounts_roundtrip(
        keys in vec(pubkey(), 6),
        run_id in "[a-z0-9-]{1,32}",
        numbers in any::<[u64; 4]>(),
        bump in any::<u8>(),
        active in any::<bool>(),
        delegates in vec(pubkey(), 0..4),
    ) {
        let instance = CoordinatorInstance { bump, main_authority: keys[0], join_authority: keys[1], coordinator_account: keys[2], run_id };
        prop_assert_eq!(CoordinatorInstance::decode(&instance.encode(173)).unwrap(), instance);
        let auth = Authorization {
            bump, grantor: keys[0], grantee: keys[1], scope: b"CoordinatorJoinRun".to_vec(), active,
            delegates: delegates.clone(), grantor_update_unix_timestamp: numbers[0] as i64,
        };
        let space = Authorization::space(18, delegates.len());
        prop_assert_eq!(Authorization::decode(&auth.encode(space)).unwrap(), auth);
        let run = TreasurerRun {
            bump, index: numbers[0], main_authority: keys[0], join_authority: keys[1], coordinator_account: keys[2],
            coordinator_instance: keys[3], collateral_mint: keys[4], total_claimed_collateral_amount: numbers[1],
            total_claimed_earned_points: numbers[2],
        };
        prop_assert_eq!(TreasurerRun::decode(&run.encode(200)).unwrap(), run);
        let participant = Participant { bump, claimed_collateral_amount: numbers[1], claimed_earned_points: numbers[3] };
        prop_assert_eq!(Participant::decode(&participant.encode(32)).unwrap(), participant);
    }

    #[test]
    fn instruction_arguments_roundtrip(
        keys in vec(pubkey(), 3),
        run_id in "[a-z0-9-]{1,32}",
        version in "[a-z0-9:.-]{0,96}",
        m in proptest::option::of(model()),
        c in proptest::option::of(config()),
        md in proptest::option::of(metadata()),
        rates in any::<(Option<u64>, Option<u64>)>(),
        flags in any::<(bool, bool, Option<bool>)>(),
        index in any::<u64>(),
        cp in checkpoint(),
        repo in hub(),
    ) {
        instruction_roundtrip(&coordinator::InitCoordinator { params: coordinator::InitCoordinatorParams {
            main_authority: keys[0], join_authority: keys[1], run_id: run_id.clone(), client_version: version.clone() } });
        let progress = Some(CoordinatorProgress { epoch: 1, step: 2, epoch_start_data_index: index });
        instruction_roundtrip(&coordinator::Update { metadata: md.clone(), config: c, model: m.clone(), progress });
        instruction_roundtrip(&coordinator::UpdateClientVersion { new_version: version.clone() });
        instruction_roundtrip(&coordinator::SetFutureEpochRates { epoch_earning_rate_total_shared: rates.0, epoch_slashing_rate_per_client: rates.1 });
        instruction_roundtrip(&coordinator::SetPaused { paused: flags.0 });
        instruction_roundtrip(&coordinator::JoinRun { params: coordinator::JoinRunParams {
            client_id: coordinator::NodeIdentity { signer: keys[0], p2p_identity: keys[1].to_bytes() } } });
        instruction_roundtrip(&coordinator::Tick {});
        instruction_roundtrip(&coordinator::FreeCoordinator::default());
        instruction_roundtrip(&coordinator::CheckpointIx { repo: cp });
        instruction_roundtrip(&coordinator::CheckpointHubRepoIx { repo });
        instruction_roundtrip(&authorizer::AuthorizationCreate { params: authorizer::AuthorizationCreateParams { grantee: keys[2], scope: b"CoordinatorJoinRun".to_vec() } });
        instruction_roundtrip(&authorizer::AuthorizationGrantorUpdate { params: authorizer::AuthorizationGrantorUpdateParams { active: flags.1 } });
        instruction_roundtrip(&authorizer::AuthorizationGranteeUpdate { params: authorizer::AuthorizationGranteeUpdateParams { delegates_clear: flags.0, delegates_added: keys.clone() } });
        instruction_roundtrip(&authorizer::AuthorizationClose::default());
        instruction_roundtrip(&treasurer::RunCreate { params: treasurer::RunCreateParams {
            index, run_id, client_version: version.clone(), main_authority: keys[0], join_authority: keys[1] } });
        instruction_roundtrip(&treasurer::RunUpdate { params: treasurer::RunUpdateParams {
            metadata: md, config: c, model: m, progress, epoch_earning_rate_total_shared: rates.0,
            epoch_slashing_rate_per_client: rates.1, paused: flags.2, client_version: Some(version) } });
        instruction_roundtrip(&treasurer::ParticipantCreate::default());
        instruction_roundtrip(&treasurer::ParticipantClaim { params: treasurer::ParticipantClaimParams { claim_earned_points: index } });
    }

    #[test]
    fn decoding_random_bytes_never_panics(bytes in vec(any::<u8>(), 0..400), tail in vec(any::<u8>(), coordinator_account::SIZE - 16)) {
        let _ = CoordinatorInstance::decode(&bytes);
        let _ = Authorization::decode(&bytes);
        let _ = TreasurerRun::decode(&bytes);
        let _ = Participant::decode(&bytes);
        let _ = CoordinatorAccount::decode(&bytes);
        // Past the length, discriminator and version checks, into the layout itself.
        let mut account = coordinator_account::DISCRIMINATOR.to_vec();
        account.extend_from_slice(&coordinator_account::VERSION.to_le_bytes());
        account.extend_from_slice(&tail);
        let _ = CoordinatorAccount::decode(&account);
        // Borsh accounts with a valid discriminator and random contents.
        for disc in [CoordinatorInstance::DISCRIMINATOR, Authorization::DISCRIMINATOR, TreasurerRun::DISCRIMINATOR, Participant::DISCRIMINATOR] {
            let mut data = disc.to_vec();
            data.extend_from_slice(&bytes);
            let _ = CoordinatorInstance::decode(&data);
            let _ = Authorization::decode(&data);
            let _ = TreasurerRun::decode(&data);
            let _ = Participant::decode(&data);
        }
    }
}
