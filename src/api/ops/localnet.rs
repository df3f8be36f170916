//! Localnet services for runbooks: airdrops, mints, the clock, throwaway keys, the epoch
//! simulator and background training clients. Each is refused on real clusters.

use crate::api::host::Host;
use crate::api::values::amounts::{to_native, to_ui};
use crate::api::values::error::HostError;
use crate::api::values::keys::{PubkeyArg, SignerHandle, to_pubkey};
use crate::api::values::runs::RunHandle;
use crate::localnet::trainer::{self, Crew, Trainer};
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, FLOAT, INT, Map};
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;

/// `train`'s clients argument: a count or `#{clients, silent, unhealthy}`.
fn crew_of(value: &Dynamic) -> Result<Crew, Box<EvalAltResult>> {
    let count = |v: &Dynamic, what: &str| {
        v.as_int()
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| HostError::input(format!("train: {what} must be a count, not {v}")))
    };
    let crew = if let Some(map) = value.clone().try_cast::<Map>() {
        let get = |key: &str| map.get(key).map_or(Ok(0), |v| count(v, key));
        Crew { clients: get("clients")?, silent: get("silent")?, unhealthy: get("unhealthy")? }
    } else {
        Crew { clients: count(value, "clients")?, ..Crew::default() }
    };
    if crew.clients == 0 || crew.silent + crew.unhealthy > crew.clients {
        return Err(HostError::input(format!(
            "train: {} clients, of which {} silent and {} unhealthy, is not a crew",
            crew.clients, crew.silent, crew.unhealthy
        ))
        .into());
    }
    Ok(crew)
}

#[export_module]
pub mod localnet_api {
    use super::*;

    /// Localnet only: sends `sol` SOL from the localnet faucet to `to`; returns the signature.
    #[rhai_fn(return_raw)]
    pub fn airdrop(ctx: NativeCallContext, to: PubkeyArg, sol: Dynamic) -> Result<String, Box<EvalAltResult>> {
        let to = to_pubkey(&to)?;
        let host = Host::of(&ctx);
        let lamports = to_native(&sol, 9, "airdrop amount")?;
        let handle = host.localnet()?;
        handle.read_from_cluster(&[to]).map_err(HostError::chain)?;
        let signature = handle.lock().airdrop(&to, lamports).map_err(|e| HostError::chain(e.to_string()))?;
        host.record_sent(signature.to_string());
        Ok(signature.to_string())
    }

    /// Localnet only: creates an SPL token mint with `decimals` (the faucet is its authority).
    #[rhai_fn(return_raw)]
    pub fn create_mint(ctx: NativeCallContext, decimals: INT) -> Result<Pubkey, Box<EvalAltResult>> {
        let decimals = u8::try_from(decimals)
            .ok()
            .filter(|d| *d <= 18)
            .ok_or_else(|| HostError::input(format!("mint decimals {decimals} must be between 0 and 18")))?;
        let host = Host::of(&ctx);
        let (mint, signature) =
            host.localnet()?.lock().create_mint_signed(decimals).map_err(|e| HostError::chain(e.to_string()))?;
        host.record_sent(signature.to_string());
        Ok(mint)
    }

    /// Localnet only: mints a UI `amount` of `mint` to `owner`'s token account (created if
    /// needed); returns that token account.
    #[rhai_fn(return_raw)]
    pub fn mint_tokens(
        ctx: NativeCallContext,
        mint: PubkeyArg,
        owner: PubkeyArg,
        amount: Dynamic,
    ) -> Result<Pubkey, Box<EvalAltResult>> {
        let (mint, owner) = (to_pubkey(&mint)?, to_pubkey(&owner)?);
        let handle = Host::of(&ctx).localnet()?;
        let ata = crate::psyche::pdas::associated_token(&owner, &mint);
        handle.read_from_cluster(&[mint, owner, ata]).map_err(HostError::chain)?;
        let mut net = handle.lock();
        let decimals =
            net.mint_decimals(&mint).ok_or_else(|| HostError::input(format!("{mint} is not a token mint")))?;
        let native = to_native(&amount, decimals, "mint amount")?;
        Ok(net.mint_to(&mint, &owner, native).map_err(|e| HostError::chain(e.to_string()))?)
    }

    /// Localnet only: moves the chain clock forward by `seconds` (runs advance on the clock),
    /// and the slots with it (2.5 a second), so blockhashes older than about 60 s expire.
    #[rhai_fn(return_raw)]
    pub fn advance_clock(ctx: NativeCallContext, seconds: INT) -> Result<(), Box<EvalAltResult>> {
        let seconds = u64::try_from(seconds)
            .map_err(|_| HostError::input(format!("cannot move the clock back ({seconds} s)")))?;
        Host::of(&ctx).localnet()?.lock().advance_clock(seconds);
        Ok(())
    }

    /// Localnet only: a new throwaway keypair (for simulated clients and tests), funded with 1 SOL.
    #[rhai_fn(return_raw)]
    pub fn new_keypair(ctx: NativeCallContext) -> Result<SignerHandle, Box<EvalAltResult>> {
        let host = Host::of(&ctx);
        let keypair = Keypair::new();
        let key = solana_sdk::signer::Signer::pubkey(&keypair);
        let signature =
            host.localnet()?.lock().airdrop(&key, LAMPORTS_PER_SOL).map_err(|e| HostError::chain(e.to_string()))?;
        host.record_sent(signature.to_string());
        Ok(SignerHandle::new(keypair, "throwaway localnet keypair".into()))
    }

    /// Localnet only: runs one whole epoch of `run_id` with `clients` (signers) joining and
    /// witnessing every round; returns `#{epoch, step, state, earned: #{pubkey: points}}`.
    #[rhai_fn(return_raw)]
    pub fn simulate_epoch(ctx: NativeCallContext, run_id: &str, clients: Array) -> Result<Map, Box<EvalAltResult>> {
        let handle = Host::of(&ctx).localnet()?;
        let keys = clients
            .into_iter()
            .map(|c| {
                let signer = c
                    .try_cast::<SignerHandle>()
                    .ok_or_else(|| HostError::input("simulate_epoch: clients must be signers (new_keypair())"))?;
                Ok::<_, HostError>(signer.keypair("simulate_epoch")?.insecure_clone())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pubkeys: Vec<_> = keys.iter().map(solana_sdk::signer::Signer::pubkey).collect();
        trainer::read_from_cluster(&handle, &[run_id.to_string()], &pubkeys).map_err(HostError::chain)?;
        let summary = handle.lock().simulate_epoch(run_id, &keys).map_err(|e| HostError::chain(e.to_string()))?;
        let mut earned = Map::new();
        for (key, points) in summary.earned {
            earned.insert(key.to_string().into(), crate::api::values::big_int::from_u64(points));
        }
        let mut map = Map::new();
        map.insert("epoch".into(), INT::from(summary.epoch).into());
        map.insert("step".into(), INT::from(summary.steps).into());
        map.insert("state".into(), summary.final_state.display().to_string().into());
        map.insert("earned".into(), earned.into());
        Ok(map)
    }

    /// Localnet only: starts `clients` simulated clients training `run_id` in the background,
    /// on the chain's clock, until the runbook ends: they join, witness and tick epoch after
    /// epoch, so a `pause` waits for the epoch's end as on a cluster (see `wait_for`).
    /// `clients` is a count, or `#{clients: 4, silent: 1, unhealthy: 1}` where `silent` clients
    /// stop witnessing and `unhealthy` ones are dropped by health checks. Returns the clients'
    /// public keys. The run must accept them (for example `grant_public`).
    ///
    /// ```rhai
    /// train("my-run", 3);
    /// run("my-run").wait_for("Training", 60);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn train(ctx: NativeCallContext, run_id: &str, clients: Dynamic) -> Result<Array, Box<EvalAltResult>> {
        let crew = crew_of(&clients)?;
        let host = Host::of(&ctx);
        let handle = host.localnet()?;
        let trainer = Trainer::new(vec![run_id.to_string()], crew);
        let keys =
            trainer.clients().iter().map(|c| Dynamic::from(solana_sdk::signer::Signer::pubkey(&c.keypair))).collect();
        let log = host.log.clone();
        trainer::spawn(std::sync::Arc::downgrade(&handle), trainer, move |problem| {
            log.warn(&format!("simulated clients: {problem}"))
        });
        Ok(keys)
    }

    /// Localnet only: `train` as a method of a run.
    #[rhai_fn(name = "train", return_raw)]
    pub fn train_run(ctx: NativeCallContext, r: &mut RunHandle, clients: Dynamic) -> Result<Array, Box<EvalAltResult>> {
        let run_id = r.run_id.clone();
        train(ctx, &run_id, clients)
    }

    /// Localnet only: `simulate_epoch` as a method of a run.
    #[rhai_fn(name = "simulate_epoch", return_raw)]
    pub fn simulate_run_epoch(
        ctx: NativeCallContext,
        r: &mut RunHandle,
        clients: Array,
    ) -> Result<Map, Box<EvalAltResult>> {
        let run_id = r.run_id.clone();
        simulate_epoch(ctx, &run_id, clients)
    }

    /// The SOL balance of an account, on any cluster.
    #[rhai_fn(return_raw)]
    pub fn sol_balance(ctx: NativeCallContext, key: PubkeyArg) -> Result<FLOAT, Box<EvalAltResult>> {
        let key = to_pubkey(&key)?;
        let chain = Host::of(&ctx).chain()?;
        let lamports = chain.balance(&key).map_err(|e| HostError::chain(e.to_string()))?;
        Ok(to_ui(lamports, 9))
    }
}
