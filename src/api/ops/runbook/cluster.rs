//! The cluster a runbook runs against and the program IDs in use there.

use crate::api::host::Host;
use rhai::Map;
use rhai::plugin::*;

#[export_module]
pub mod cluster_api {
    use super::*;

    /// The resolved cluster: `#{name, url, ws_url, genesis_hash, commitment, embedded, mainnet,
    /// origin}`. `name` is `mainnet-beta`, `devnet` or `testnet` by the cluster's genesis hash,
    /// `embedded`, or the URL's scheme, host and port; `url` and `ws_url` are shown the same way
    /// (a provider URL's credentials are never handed to runbooks); `origin` says which flag,
    /// variable or file chose it.
    pub fn cluster(ctx: NativeCallContext) -> Map {
        let host = Host::of(&ctx);
        let s = &host.settings;
        let mut map = Map::new();
        map.insert("name".into(), s.cluster_name().to_string().into());
        map.insert("url".into(), s.cluster.url().map_or(Dynamic::UNIT, |u| u.display().into()));
        map.insert("ws_url".into(), s.ws_url.as_ref().map_or(Dynamic::UNIT, |u| u.display().into()));
        map.insert("genesis_hash".into(), s.identity.genesis.clone().map_or(Dynamic::UNIT, Into::into));
        map.insert("commitment".into(), s.commitment.as_str().to_string().into());
        map.insert("embedded".into(), (s.cluster == crate::chain::cluster::Cluster::Embedded).into());
        map.insert("mainnet".into(), s.is_mainnet().into());
        map.insert("origin".into(), s.cluster_origin.clone().into());
        map.insert("signer_origin".into(), s.signer_origin.clone().into());
        map
    }

    /// The Psyche program IDs for this cluster: `#{coordinator, authorizer, treasurer}`.
    pub fn program_ids(ctx: NativeCallContext) -> Map {
        let host = Host::of(&ctx);
        let ids = &host.settings.programs;
        let mut map = Map::new();
        map.insert("coordinator".into(), Dynamic::from(ids.coordinator));
        map.insert("authorizer".into(), Dynamic::from(ids.authorizer));
        map.insert("treasurer".into(), Dynamic::from(ids.treasurer));
        map
    }
}
