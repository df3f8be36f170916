//! Cluster selection: the embedded localnet (the default) or a JSON-RPC URL, from Solana's
//! monikers or any http(s) URL.
//!
//! An RPC URL is a secret: providers put API keys in its query, its path or its user info. The
//! text is kept in `RpcUrl`, which only connections read (`expose`); everything that leaves the
//! process names the cluster by its display name (a moniker, or the URL's scheme, host and
//! port). Which cluster a URL reaches is its genesis hash (`chain::identity`), never its text.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// The in-process chain kept in the localnet directory.
    Embedded,
    /// A cluster reached over JSON-RPC.
    Rpc { url: RpcUrl },
}

pub const MAINNET_URL: &str = "https://api.mainnet-beta.solana.com";
pub const DEVNET_URL: &str = "https://api.devnet.solana.com";
pub const TESTNET_URL: &str = "https://api.testnet.solana.com";
pub const LOCALHOST_URL: &str = "http://127.0.0.1:8899";

/// Path segments and query values at least this long are taken for credentials.
const SECRET_PART_MIN: usize = 8;

/// An http(s) or ws(s) URL whose text never leaves the process.
#[derive(Clone, PartialEq, Eq)]
pub struct RpcUrl(String);

impl RpcUrl {
    /// Checks that `text` is an http(s) URL with a host.
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = RpcUrl(text.to_string());
        let parsed = reqwest::Url::parse(text).map_err(|e| format!("{} is not a URL: {e}", url.display()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!("{} is not an http(s) URL", url.display()));
        }
        Ok(url)
    }

    /// The URL itself, for the transports that connect to it. Never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `scheme://host[:port]`: what may be shown of the URL (no user info, path or query).
    pub fn display(&self) -> String {
        match reqwest::Url::parse(&self.0) {
            Ok(url) => {
                let host = url.host_str().unwrap_or("?");
                match url.port() {
                    Some(port) => format!("{}://{host}:{port}", url.scheme()),
                    None => format!("{}://{host}", url.scheme()),
                }
            }
            // Not a URL at all: show only its scheme, if it has one.
            Err(_) => self.0.split_once("://").map_or("an RPC URL".into(), |(scheme, _)| format!("{scheme}://…")),
        }
    }

    /// The parts of the URL that may be credentials, as they appear in its text and decoded:
    /// the user info, and every path segment and query value of 8 characters or more.
    pub fn secret_parts(&self) -> Vec<String> {
        let Ok(url) = reqwest::Url::parse(&self.0) else { return vec![self.0.clone()] };
        let mut parts = Vec::new();
        if !url.username().is_empty() {
            parts.push(url.username().to_string());
        }
        if let Some(password) = url.password() {
            parts.push(password.to_string());
        }
        for segment in url.path_segments().into_iter().flatten() {
            if segment.len() >= SECRET_PART_MIN {
                parts.push(segment.to_string());
            }
        }
        if let Some(query) = url.query() {
            for pair in query.split('&') {
                let value = pair.split_once('=').map_or(pair, |(_, v)| v);
                if value.len() >= SECRET_PART_MIN {
                    parts.push(value.to_string());
                }
            }
        }
        // Decoded forms too: an error may print either.
        let decoded: Vec<String> =
            parts.iter().filter_map(|p| percent_decoded(p)).filter(|d| !parts.contains(d)).collect();
        parts.extend(decoded);
        parts
    }

    /// What earlier releases keyed journals, locks and `[programs.*]` tables on: the moniker of
    /// a well-known URL, else the URL's text.
    pub fn legacy_name(&self) -> &str {
        match self.0.as_str() {
            MAINNET_URL => "mainnet-beta",
            DEVNET_URL => "devnet",
            TESTNET_URL => "testnet",
            LOCALHOST_URL => "localhost",
            url => url,
        }
    }

    /// Whether the URL's text names mainnet: a guard for when the cluster's genesis hash is not
    /// known yet (the genesis hash decides once it is).
    pub fn names_mainnet(&self) -> bool {
        self.0.contains("mainnet")
    }

    /// The websocket URL Solana's tools derive: ws(s) scheme, port + 1 when a port is given,
    /// the same path and query (providers authenticate websockets the same way).
    pub fn default_ws_url(&self) -> Option<RpcUrl> {
        let (scheme, rest) = self.0.split_once("://")?;
        let ws_scheme = if scheme == "https" { "wss" } else { "ws" };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let (userinfo, host) = authority.rsplit_once('@').map_or(("", authority), |(u, h)| (u, h));
        let host = match host.rsplit_once(':') {
            Some((name, port)) => match port.parse::<u16>() {
                Ok(port) => format!("{name}:{}", port.saturating_add(1)),
                Err(_) => host.to_string(),
            },
            None => host.to_string(),
        };
        let userinfo = if userinfo.is_empty() { String::new() } else { format!("{userinfo}@") };
        let path = if path == "/" { "" } else { path };
        Some(RpcUrl(format!("{ws_scheme}://{userinfo}{host}{path}")))
    }

    /// A websocket URL given as is (`--ws-url`, `$WS_RPC`, the Solana CLI config).
    pub fn websocket(text: &str) -> RpcUrl {
        RpcUrl(text.to_string())
    }
}

/// `text` with `%XX` escapes decoded, when it has any and decodes to UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| text.get(i + 1..i + 3)).flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

impl fmt::Display for RpcUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// Debug output (logs of settings, panics) shows what Display shows.
impl fmt::Debug for RpcUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RpcUrl({})", self.display())
    }
}

impl Cluster {
    /// Parses `-u` input: a moniker (`m`/`mainnet-beta`, `d`/`devnet`, `t`/`testnet`,
    /// `l`/`localhost`, `embedded`) or an http(s) URL. Surrounding quotes are trimmed, as
    /// upstream's run-manager does for `RPC`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim().trim_matches('"');
        let url = match input {
            "embedded" => return Ok(Cluster::Embedded),
            "m" | "mainnet-beta" | "mainnet" => MAINNET_URL,
            "d" | "devnet" => DEVNET_URL,
            "t" | "testnet" => TESTNET_URL,
            "l" | "localhost" => LOCALHOST_URL,
            url if url.starts_with("http://") || url.starts_with("https://") => url,
            other => {
                // Text that is not a URL is not shown either: it may be a mistyped one.
                let shown =
                    if other.contains("://") { RpcUrl(other.to_string()).display() } else { format!("{other:?}") };
                return Err(format!(
                    "{shown} is not a cluster: use embedded, mainnet-beta (m), devnet (d), testnet (t), localhost (l) or an http(s) URL"
                ));
            }
        };
        Ok(Cluster::Rpc { url: RpcUrl::parse(url)? })
    }

    /// The URL of an RPC cluster.
    pub fn url(&self) -> Option<&RpcUrl> {
        match self {
            Cluster::Embedded => None,
            Cluster::Rpc { url } => Some(url),
        }
    }
}

/// What may be shown before the cluster's identity is known: `embedded`, or the URL's display.
impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cluster::Embedded => f.write_str("embedded"),
            Cluster::Rpc { url } => f.write_str(&url.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> RpcUrl {
        RpcUrl::parse(text).unwrap()
    }

    #[test]
    fn monikers_and_urls() {
        assert_eq!(Cluster::parse("d").unwrap().url().unwrap().legacy_name(), "devnet");
        assert!(Cluster::parse("m").unwrap().url().unwrap().names_mainnet());
        assert_eq!(Cluster::parse("\"http://x:1\"").unwrap(), Cluster::Rpc { url: url("http://x:1") });
        assert!(Cluster::parse("mainnet-bet").is_err());
        let refused = Cluster::parse("htps://user:SEKRET-PASSWORD@host/x").unwrap_err();
        assert!(!refused.contains("SEKRET"), "{refused}");
    }

    #[test]
    fn only_scheme_host_and_port_are_shown() {
        for (text, shown) in [
            ("https://mainnet.helius-rpc.com/?api-key=0123456789abcdef", "https://mainnet.helius-rpc.com"),
            ("https://psyche.rpcpool.com/0123456789abcdef0123", "https://psyche.rpcpool.com"),
            ("https://user:password@node.example:8443/path", "https://node.example:8443"),
            ("https://name.quiknode.pro/0123456789abcdef/", "https://name.quiknode.pro"),
            ("http://127.0.0.1:8899", "http://127.0.0.1:8899"),
        ] {
            assert_eq!(url(text).display(), shown);
            assert_eq!(format!("{:?}", url(text)), format!("RpcUrl({shown})"));
            assert_eq!(Cluster::parse(text).unwrap().to_string(), shown);
        }
    }

    #[test]
    fn credentials_are_the_secret_parts() {
        let parts = url("https://bob:hunter2hunter2@h.example/0123456789abcdef/short/?api-key=SEKRET%2Fvalue1&x=1")
            .secret_parts();
        for part in ["bob", "hunter2hunter2", "0123456789abcdef", "SEKRET%2Fvalue1", "SEKRET/value1"] {
            assert!(parts.contains(&part.to_string()), "{part} in {parts:?}");
        }
        assert!(!parts.contains(&"short".to_string()) && !parts.contains(&"1".to_string()));
    }

    #[test]
    fn websocket_url_follows_solana_habit() {
        let ws = |text: &str| url(text).default_ws_url().unwrap().expose().to_string();
        assert_eq!(ws(LOCALHOST_URL), "ws://127.0.0.1:8900");
        assert_eq!(ws(DEVNET_URL), "wss://api.devnet.solana.com");
        assert_eq!(ws("https://h.example/?api-key=K"), "wss://h.example/?api-key=K");
        assert_eq!(ws("https://u:p@h.example:8899/tok"), "wss://u:p@h.example:8900/tok");
    }
}
