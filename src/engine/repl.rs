//! The interactive REPL. A session keeps one scope, the functions defined so far and the
//! imports made so far; each input runs on its own and its statements are then dropped, so
//! functions and variables survive across lines. When stdin is not a terminal the same session
//! reads statements from stdin, so the REPL can be driven by a pipe. Results are shown for
//! people (`display`), with runs as they are on chain now.

use crate::api::ops::runs::handle::show;
use crate::engine::Runtime;
use crate::engine::completion::Completions;
use crate::engine::errors::Diagnostic;
use crate::exit::ExitCode;
use rhai::{AST, Dynamic, Expr, Scope, Stmt};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper, Highlighter, Hinter};
use std::io::BufRead;
use std::path::{Path, PathBuf};

const HELP: &str = "\
Statements run as you enter them; variables, functions and imports persist.
An incomplete statement (open bracket or string) continues on the next line.
Tab completes names; after `value.` it offers that value's methods, properties and keys.
  :help          this text
  :functions     host functions and the functions defined in this session
  :load FILE     run a runbook into this session
  :save FILE     write the statements entered so far as a runbook that replays them
  :quit          leave (or Ctrl-D); Ctrl-C cancels the running statement";

pub struct Session {
    runtime: Runtime,
    scope: Scope<'static>,
    /// Functions defined so far.
    kept: AST,
    /// Inputs that ran successfully, in order: what `:save` writes.
    transcript: Vec<String>,
    inputs: usize,
}

/// What one input did.
pub enum Outcome {
    Value(Dynamic),
    Text(String),
    Quit,
}

impl Session {
    pub fn new(runtime: Runtime) -> Self {
        let scope = Runtime::scope(&[], &[]);
        Self { runtime, scope, kept: AST::empty(), transcript: Vec::new(), inputs: 0 }
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Runs one complete input: a meta command or Rhai statements.
    pub fn handle(&mut self, input: &str) -> Result<Outcome, Diagnostic> {
        let trimmed = input.trim();
        if let Some(meta) = trimmed.strip_prefix(':') {
            return self.meta(meta.trim());
        }
        if trimmed.is_empty() {
            return Ok(Outcome::Value(Dynamic::UNIT));
        }
        self.eval(input, None).map(Outcome::Value)
    }

    fn eval(&mut self, input: &str, name: Option<String>) -> Result<Dynamic, Diagnostic> {
        self.inputs += 1;
        let name = name.unwrap_or_else(|| format!("repl[{}]", self.inputs));
        let ast = self.runtime.compile_text(&name, input, &self.scope)?;
        let program = self.kept.merge(&ast);
        let result = self.runtime.run(&mut self.scope, &program);
        // A Ctrl-C is spent once the statement it cancelled (or that just finished) is over.
        self.runtime.interrupt.take();
        // Keep the embedded chain on disk after every statement, so quitting loses nothing.
        if let Err(e) = self.runtime.host.finish() {
            self.runtime.host.log.error(&format!("error: {}", e.message));
        }
        let value = result?;
        self.keep_imports(&ast);
        let mut functions = ast;
        functions.clear_statements();
        self.kept = self.kept.merge(&functions);
        self.transcript.push(input.trim_end().to_string());
        Ok(value)
    }

    /// Makes modules imported at the top level of an input available to later inputs, by
    /// registering them under their alias (strict variables then know the name too).
    fn keep_imports(&mut self, ast: &AST) {
        for statement in ast.statements() {
            let Stmt::Import(import, pos) = statement else {
                continue;
            };
            let (Expr::StringConstant(path, _), alias) = (&import.0, &import.1) else {
                continue;
            };
            if alias.name.is_empty() {
                continue;
            }
            let engine = &self.runtime.engine;
            // The import just ran, so it resolves (from the resolver's cache).
            if let Ok(module) = engine.module_resolver().resolve(engine, None, path, *pos) {
                self.runtime.engine.register_static_module(alias.name.as_str(), module);
            }
        }
    }

    fn meta(&mut self, command: &str) -> Result<Outcome, Diagnostic> {
        let (name, arg) = command.split_once(char::is_whitespace).map_or((command, ""), |(n, a)| (n, a.trim()));
        match name {
            "help" | "h" => Ok(Outcome::Text(HELP.to_string())),
            "quit" | "q" | "exit" => Ok(Outcome::Quit),
            "functions" | "fns" => Ok(Outcome::Text(self.functions_text())),
            "load" if !arg.is_empty() => {
                let path = Path::new(arg);
                let text = crate::files::boundary::read_text_at(path, arg, "a runbook")
                    .map_err(|e| meta_error(format!("cannot read {}", e.0)))?;
                let text = crate::engine::sources::strip_shebang(&text);
                self.eval(&text, Some(path.display().to_string())).map(Outcome::Value)
            }
            "save" if !arg.is_empty() => {
                let mut text = String::from("// Saved from a psyche-runbook REPL session.\n");
                for input in &self.transcript {
                    text += input;
                    text.push('\n');
                }
                std::fs::write(arg, text).map_err(|e| meta_error(format!("cannot write {arg}: {e}")))?;
                Ok(Outcome::Text(format!("saved {} statement(s) to {arg}", self.transcript.len())))
            }
            "load" | "save" => Err(meta_error(format!(":{name} needs a FILE"))),
            _ => Err(meta_error(format!("unknown command :{name} (try :help)"))),
        }
    }

    fn functions_text(&self) -> String {
        let (functions, _) = crate::engine::docs::catalogue(&self.runtime.engine);
        let mut text = functions
            .iter()
            .map(|f| {
                let signature = f["signature"].as_str().unwrap_or_default();
                match f["description"].as_str().unwrap_or_default() {
                    "" => signature.to_string(),
                    description => format!("{signature}  — {description}"),
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let own: Vec<_> = self.kept.iter_functions().map(|f| format!("{}({})", f.name, f.params.join(", "))).collect();
        if !own.is_empty() {
            text += "\n-- defined in this session --\n";
            text += &own.join("\n");
        }
        text
    }

    /// What Tab offers now: functions, variables and the members of each variable's value.
    fn completions(&self) -> Completions {
        let functions = crate::engine::docs::known_functions(&self.runtime.engine)
            .into_keys()
            .chain(self.kept.iter_functions().map(|f| f.name.to_string()));
        Completions::gather(&self.runtime, &self.scope, functions)
    }
}

fn meta_error(message: String) -> Diagnostic {
    Diagnostic {
        message,
        at: crate::engine::errors::Location { file: "repl".into(), line: None, column: None },
        called_from: Vec::new(),
        code: ExitCode::Usage,
    }
}

/// True while brackets, strings or a block comment are still open: the input continues.
pub fn is_incomplete(input: &str) -> bool {
    let mut depth: i64 = 0;
    let mut chars = input.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' && q != '`' {
                    chars.next();
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '`' | '\'' => quote = Some(c),
                '/' if chars.peek() == Some(&'/') => {
                    for c in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        if c == '*' && chars.peek() == Some(&'/') {
                            chars.next();
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        return true;
                    }
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            },
        }
    }
    quote.is_some() || depth > 0
}

#[derive(Helper, Hinter, Highlighter)]
struct ReplHelper {
    completions: Completions,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, names) = self.completions.complete(line, pos);
        Ok((start, names.into_iter().map(|n| Pair { display: n.clone(), replacement: n }).collect()))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if !input.trim_start().starts_with(':') && is_incomplete(input) {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

/// `$PSYCHE_RUNBOOK_HISTORY`, else `$XDG_STATE_HOME/psyche-runbook/history`, else
/// `~/.local/state/psyche-runbook/history`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PSYCHE_RUNBOOK_HISTORY") {
        return Some(PathBuf::from(path));
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))?;
    Some(state.join("psyche-runbook/history"))
}

fn print_outcome(session: &Session, result: Result<Outcome, Diagnostic>, prefix: &str) -> Result<bool, ExitCode> {
    match result {
        Ok(Outcome::Value(value)) => {
            if !value.is_unit() {
                session.runtime.host.log.result(&format!("{prefix}{}", show(&value, &session.runtime.host)));
            }
            Ok(true)
        }
        Ok(Outcome::Text(text)) => {
            eprintln!("{}", session.runtime.host.redactor().text(&text));
            Ok(true)
        }
        Ok(Outcome::Quit) => Ok(false),
        Err(diagnostic) => {
            eprint!("{}", session.runtime.host.redactor().text(&session.runtime.render(&diagnostic)));
            Err(diagnostic.code)
        }
    }
}

/// The interactive loop on a terminal. Returns when the operator quits.
pub fn interactive(mut session: Session) -> ExitCode {
    let mut editor: Editor<ReplHelper, rustyline::history::DefaultHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return ExitCode::RunbookError;
        }
    };
    // After the editor exists: it installs a SIGINT handler of its own, which ours chains to.
    session.runtime.interrupt.bind_to_signals();
    editor.set_helper(Some(ReplHelper { completions: session.completions() }));
    let history = history_path();
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = crate::files::private::private_dir(dir);
        }
        let _ = editor.load_history(path);
    }
    eprintln!(
        "psyche-runbook REPL on {} — :help for commands, Ctrl-D to quit",
        session.runtime.host.settings.cluster_name()
    );
    loop {
        match editor.readline("rb> ") {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                    if let Some(path) = &history {
                        let _ = editor.append_history(path);
                    }
                }
                let result = session.handle(&line);
                if let Ok(false) = print_outcome(&session, result, "=> ") {
                    return ExitCode::Success;
                }
                if let Some(helper) = editor.helper_mut() {
                    helper.completions = session.completions();
                }
            }
            // Ctrl-C at the prompt clears the line; it never leaves the REPL.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return ExitCode::Success,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::RunbookError;
            }
        }
    }
}

/// Reads statements from a pipe, printing each result on stdout. Exits with the first error's
/// code after running everything, or 0.
pub fn piped(mut session: Session, input: impl BufRead) -> ExitCode {
    session.runtime.interrupt.bind_to_signals();
    let mut first_error = None;
    let mut buffer = String::new();
    for line in input.lines() {
        let Ok(line) = line else { break };
        buffer.push_str(&line);
        buffer.push('\n');
        if !buffer.trim_start().starts_with(':') && is_incomplete(&buffer) {
            continue;
        }
        let result = session.handle(&buffer);
        buffer.clear();
        match print_outcome(&session, result, "") {
            Ok(true) => {}
            Ok(false) => break,
            Err(code) => {
                first_error.get_or_insert(code);
            }
        }
    }
    if !buffer.trim().is_empty() {
        eprintln!("error: input ended inside an unfinished statement");
        first_error.get_or_insert(ExitCode::Usage);
    }
    first_error.unwrap_or(ExitCode::Success)
}

#[cfg(test)]
mod tests {
    use super::is_incomplete;

    #[test]
    fn open_brackets_and_strings_continue() {
        assert!(is_incomplete("fn f(x) {"));
        assert!(is_incomplete("let s = \"abc"));
        assert!(is_incomplete("let a = [1,\n2"));
        assert!(is_incomplete("/* comment"));
        assert!(!is_incomplete("let a = [1, 2]; // ( not counted"));
        assert!(!is_incomplete("let s = \"(\";"));
    }
}
