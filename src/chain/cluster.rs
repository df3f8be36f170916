//! Cluster selection: the embedded localnet (the default) or a JSON-RPC URL, from Solana's
//! monikers or any http(s) URL.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// The in-process chain kept in the localnet directory.
    Embedded,
    /// A cluster reached over JSON-RPC.
    Rpc { url: String },
}

pub const MAINNET_URL: &str = "https://api.mainnet-beta.solana.com";
pub const DEVNET_URL: &str = "https://api.devnet.solana.com";
pub const TESTNET_URL: &str = "https://api.testnet.solana.com";
pub const LOCALHOST_URL: &str = "http://127.0.0.1:8899";

impl Cluster {
    /// Parses `-u` input: a moniker (`m`/`mainnet-beta`, `d`/`devnet`, `t`/`testnet`,
    /// `l`/`localhost`, `embedded`) or an http(s) URL. Surrounding quotes are trimmed, as
    /// upstream's run-manager does for `RPC`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim().trim_matches('"');
        Ok(match input {
            "embedded" => Cluster::Embedded,
            "m" | "mainnet-beta" | "mainnet" => Cluster::Rpc { url: MAINNET_URL.into() },
            "d" | "devnet" => Cluster::Rpc { url: DEVNET_URL.into() },
            "t" | "testnet" => Cluster::Rpc { url: TESTNET_URL.into() },
            "l" | "localhost" => Cluster::Rpc { url: LOCALHOST_URL.into() },
            url if url.starts_with("http://") || url.starts_with("https://") => Cluster::Rpc { url: url.into() },
            other => {
                return Err(format!(
                    "{other:?} is not a cluster: use embedded, mainnet-beta (m), devnet (d), testnet (t), localhost (l) or an http(s) URL"
                ));
            }
        })
    }

    /// A short name: a moniker when the URL is a well-known one.
    pub fn name(&self) -> &str {
        match self {
            Cluster::Embedded => "embedded",
            Cluster::Rpc { url } => match url.as_str() {
                MAINNET_URL => "mainnet-beta",
                DEVNET_URL => "devnet",
                TESTNET_URL => "testnet",
                LOCALHOST_URL => "localhost",
                _ => url,
            },
        }
    }

    /// True for Solana's mainnet-beta, where mutations need `--yes` or a confirmation.
    pub fn is_mainnet(&self) -> bool {
        match self {
            Cluster::Embedded => false,
            Cluster::Rpc { url } => url.contains("mainnet"),
        }
    }

    pub fn url(&self) -> Option<&str> {
        match self {
            Cluster::Embedded => None,
            Cluster::Rpc { url } => Some(url),
        }
    }

    /// The websocket URL Solana's tools derive: ws(s) scheme, port + 1 when a port is given.
    pub fn default_ws_url(&self) -> Option<String> {
        let url = self.url()?;
        let (scheme, rest) = url.split_once("://")?;
        let ws_scheme = if scheme == "https" { "wss" } else { "ws" };
        let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        let host = match host.rsplit_once(':') {
            Some((name, port)) => match port.parse::<u16>() {
                Ok(port) => format!("{name}:{}", port.saturating_add(1)),
                Err(_) => host.to_string(),
            },
            None => host.to_string(),
        };
        Some(if path.is_empty() { format!("{ws_scheme}://{host}") } else { format!("{ws_scheme}://{host}/{path}") })
    }
}

impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cluster::Embedded => f.write_str("embedded localnet"),
            Cluster::Rpc { url } if self.name() == url => f.write_str(url),
            Cluster::Rpc { url } => write!(f, "{} ({url})", self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monikers_and_urls() {
        assert_eq!(Cluster::parse("d").unwrap().name(), "devnet");
        assert!(Cluster::parse("m").unwrap().is_mainnet());
        assert_eq!(Cluster::parse("\"http://x:1\"").unwrap(), Cluster::Rpc { url: "http://x:1".into() });
        assert!(Cluster::parse("mainnet-bet").is_err());
    }

    #[test]
    fn websocket_url_follows_solana_habit() {
        assert_eq!(Cluster::parse("l").unwrap().default_ws_url().unwrap(), "ws://127.0.0.1:8900");
        assert_eq!(Cluster::parse("d").unwrap().default_ws_url().unwrap(), "wss://api.devnet.solana.com");
    }
}
