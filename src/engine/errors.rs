//! Diagnostics: a Rhai error (with its chain of function calls and imports) becomes
//! `FILE:LINE:COL: message`, the source line with a caret under the column, and the call chain,
//! innermost first. The error's kind decides the exit code.

use crate::api::values::error::host_error;
use crate::engine::sources::Sources;
use crate::exit::ExitCode;
use rhai::{EvalAltResult, ParseError, ParseErrorType, Position};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Location {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    fn new(file: &str, pos: Position) -> Self {
        Self { file: file.to_string(), line: pos.line(), column: pos.position() }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(col)) => write!(f, "{}:{line}:{col}", self.file),
            (Some(line), None) => write!(f, "{}:{line}", self.file),
            _ => f.write_str(&self.file),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    pub at: Location,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub message: String,
    pub at: Location,
    /// Call sites from the innermost outwards.
    pub called_from: Vec<Frame>,
    #[serde(skip)]
    pub code: ExitCode,
}

impl Diagnostic {
    /// A failure of the runbook `file` as a whole, not at a place in it.
    pub fn plain(code: ExitCode, file: &str, message: &str) -> Self {
        Diagnostic { message: message.into(), at: Location::new(file, Position::NONE), called_from: Vec::new(), code }
    }
}

pub fn from_parse_error(err: &ParseError, file: &str) -> Diagnostic {
    let ParseError(kind, pos) = err;
    let message = match kind.as_ref() {
        ParseErrorType::VariableUndefined(name) => {
            format!("undefined variable `{name}` (a constant the runbook expects from --set?)")
        }
        ParseErrorType::ModuleUndefined(name) => {
            format!("undefined module `{name}` (missing import?)")
        }
        other => format!("syntax error: {other}"),
    };
    Diagnostic { message, at: Location::new(file, *pos), called_from: Vec::new(), code: ExitCode::Usage }
}

pub fn from_eval_error(err: &EvalAltResult, file: &str) -> Diagnostic {
    let mut file = file.to_string();
    let mut frames = Vec::new();
    let mut current = err;
    loop {
        match current {
            EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
                frames.push(Frame { at: Location::new(&file, *pos), note: format!("in call to `{name}`") });
                if !source.is_empty() {
                    file = source.clone();
                }
                current = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                frames.push(Frame { at: Location::new(&file, *pos), note: format!("importing \"{name}\"") });
                file = name.clone();
                current = inner;
            }
            _ => break,
        }
    }
    frames.reverse();
    let (message, code) = describe(current);
    Diagnostic { message, at: Location::new(&file, current.position()), called_from: frames, code }
}

fn describe(err: &EvalAltResult) -> (String, ExitCode) {
    if let Some(host) = host_error(err) {
        let code = host.exit_code();
        return (host.message, code);
    }
    match err {
        EvalAltResult::ErrorRuntime(value, _) => (value.to_string(), ExitCode::RunbookError),
        EvalAltResult::ErrorTerminated(..) => ("interrupted".into(), ExitCode::Interrupted),
        EvalAltResult::ErrorTooManyOperations(_) => {
            ("stopped: the runbook exceeded its operation limit (see --max-operations)".into(), ExitCode::RunbookError)
        }
        EvalAltResult::ErrorParsing(kind, _) => (format!("syntax error: {kind}"), ExitCode::Usage),
        other => {
            // Rhai's Display appends " (line N, position M)"; the location is shown separately.
            let text = other.to_string();
            let suffix = format!(" ({})", other.position());
            (text.strip_suffix(&suffix).unwrap_or(&text).to_string(), ExitCode::RunbookError)
        }
    }
}

/// The diagnostic as the operator reads it on stderr.
pub fn render(d: &Diagnostic, sources: &Sources) -> String {
    let mut out = format!("{}: error: {}\n", d.at, d.message);
    if let (Some(line), Some(text)) = (d.at.line, sources.get(&d.at.file))
        && let Some(source_line) = text.lines().nth(line - 1)
    {
        let gutter = line.to_string();
        out += &format!("{gutter} | {source_line}\n");
        if let Some(col) = d.at.column {
            // Keep tabs so the caret lines up under the column in a terminal.
            let lead: String =
                source_line.chars().take(col.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            out += &format!("{} | {lead}^\n", " ".repeat(gutter.len()));
        }
    }
    for frame in &d.called_from {
        out += &format!("  called from {} ({})\n", frame.at, frame.note);
    }
    out
}
