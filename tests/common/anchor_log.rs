//! Anchor's error log lines read the way clients read them (Anchor's TypeScript
//! `AnchorError.parse`): the first `Program log: AnchorError` line must have one of Anchor's
//! three forms (`occurred`, `thrown in <file>:<line>`, `caused by account: <name>`), and may be
//! followed by the compared values (`Left:`/pubkey/`Right:`/pubkey, or `Left: v`/`Right: v`).
//! Failing tests check every program error against these forms.

use std::path::Path;

/// Where the error line says the error came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    Occurred,
    Thrown { file: String, line: u32 },
    Account(String),
}

/// One parsed Anchor error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub form: Form,
    pub name: String,
    pub number: u32,
    pub message: String,
    /// The two compared values (pubkeys or values), when logged.
    pub compared: Option<(String, String)>,
}

impl Logged {
    /// The account the error names (panics for the other forms).
    pub fn account(&self) -> &str {
        match &self.form {
            Form::Account(name) => name,
            other => panic!("expected an account error, got {other:?} ({self:?})"),
        }
    }

    pub fn is_thrown(&self) -> bool {
        matches!(self.form, Form::Thrown { .. })
    }
}

const PREFIX: &str = "Program log: ";

/// `Error Code: <name>. Error Number: <n>. Error Message: <msg>.`
fn fields(text: &str) -> Option<(String, u32, String)> {
    let rest = text.strip_prefix("Error Code: ")?;
    let (name, rest) = rest.split_once(". Error Number: ")?;
    let (number, message) = rest.split_once(". Error Message: ")?;
    let message = message.strip_suffix('.')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((name.to_string(), number.parse().ok()?, message.to_string()))
}

fn parse_line(line: &str) -> Option<(Form, String, u32, String)> {
    let text = line.strip_prefix(PREFIX)?;
    let (head, tail) = text.split_once(". ")?;
    let form = if head == "AnchorError occurred" {
        Form::Occurred
    } else if let Some(at) = head.strip_prefix("AnchorError thrown in ") {
        let (file, line) = at.rsplit_once(':')?;
        Form::Thrown { file: file.to_string(), line: line.parse().ok()? }
    } else {
        let name = head.strip_prefix("AnchorError caused by account: ")?;
        Form::Account(name.to_string())
    };
    let (name, number, message) = fields(tail)?;
    Some((form, name, number, message))
}

/// The Anchor error in `logs`, or why there is none in Anchor's forms.
pub fn parse(logs: &[String]) -> Result<Logged, String> {
    let at = logs
        .iter()
        .position(|l| l.starts_with("Program log: AnchorError"))
        .ok_or("no `Program log: AnchorError` line")?;
    let (form, name, number, message) =
        parse_line(&logs[at]).ok_or_else(|| format!("not one of Anchor's three forms: {}", logs[at]))?;
    let next = |i: usize| logs.get(at + i).and_then(|l| l.strip_prefix(PREFIX));
    let compared = match next(1) {
        Some("Left:") => {
            let (left, right_label, right) = (next(2), next(3), next(4));
            match (left, right_label, right) {
                (Some(left), Some("Right:"), Some(right)) => Some((left.to_string(), right.to_string())),
                _ => return Err(format!("`Left:` without its pubkeys: {:?}", &logs[at..])),
            }
        }
        Some(line) if line.starts_with("Left: ") => match next(2).and_then(|l| l.strip_prefix("Right: ")) {
            Some(right) => Some((line["Left: ".len()..].to_string(), right.to_string())),
            None => return Err(format!("`Left: <value>` without `Right: <value>`: {:?}", &logs[at..])),
        },
        _ => None,
    };
    Ok(Logged { form, name, number, message, compared })
}

/// The Anchor error a transaction that failed with custom error `code` logged: checked to be
/// in one of Anchor's forms with that number, a source location that exists in this crate, or
/// an account named like a field.
pub fn expect(logs: &[String], code: u32) -> Logged {
    let logged = parse(logs).unwrap_or_else(|why| panic!("{why}\n{}", logs.join("\n")));
    assert_eq!(logged.number, code, "the error line's number\n{}", logs.join("\n"));
    match &logged.form {
        Form::Thrown { file, line } => {
            assert!(*line > 0, "{logged:?}");
            assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(file).is_file(), "no source file {file}: {logged:?}");
        }
        Form::Account(name) => {
            let field = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            assert!(field, "not an account name: {logged:?}");
        }
        Form::Occurred => {}
    }
    logged
}
