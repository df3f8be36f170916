//! The cluster a runbook runs against and the program IDs in use there.

use crate::api::host::Host;
use rhai::Map;
use rhai::plugin::*;

#[export_module]
pub mod cluster_api {
    use super::*;

    /// The resolved cluster: `#{name, url, ws_url, commitment, embedded, mainnet, origin}`;
    /// `origin` says which flag, variable or file chose it.
    pub fn cluster(ctx: NativeCallContext) -> Map {
        let host = Host::of(&ctx);
        let s = &host.settings;
        let mut map = Map::new();
        map.insert("name".into(), s.cluster.name().to_string().into());
        map.insert("url".into(), s.cluster.url().map_or(Dynamic::UNIT, |u| u.to_string().into()));
        map.insert("ws_url".into(), s.ws_url.clone().map_or(Dynamic::UNIT, Into::into));
        map.insert("commitment".into(), s.commitment.as_str().to_string().into());
        map.insert("embedded".into(), (s.cluster == crate::chain::cluster::Cluster::Embedded).into());
        map.insert("mainnet".into(), s.cluster.is_mainnet().into());
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
