//! Static checks for `psyche-runbook check`: beyond parsing (with strict variables), find calls
//! to functions that exist nowhere — not in the host API, Rhai's standard library, the script's
//! own functions or Rhai's keywords — and imports that do not resolve. An unknown name comes
//! with the closest known ones.

use crate::api::values::near_miss::did_you_mean;
use crate::engine::Runtime;
use crate::engine::docs::known_functions;
use crate::engine::errors::{Diagnostic, Location};
use crate::exit::ExitCode;
use rhai::{AST, ASTNode, Expr, Position, Stmt};

/// Functions Rhai implements as keywords rather than registered functions.
const KEYWORD_FUNCTIONS: &[&str] =
    &["print", "debug", "type_of", "Fn", "call", "curry", "is_def_var", "is_def_fn", "is_shared", "eval", "fn_name"];

pub fn check_ast(runtime: &Runtime, ast: &AST, file: &str) -> Vec<Diagnostic> {
    let mut known = known_functions(&runtime.engine);
    for f in ast.iter_functions() {
        known.entry(f.name.to_string()).or_default().insert(f.params.len());
    }
    let mut found = Vec::new();
    let problem = |message: String, pos: Position| Diagnostic {
        message,
        at: Location { file: file.to_string(), line: pos.line(), column: pos.position() },
        called_from: Vec::new(),
        code: ExitCode::Usage,
    };
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, pos)))
            | Some(ASTNode::Stmt(Stmt::FnCall(call, pos)))
            | Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => {
                let is_method = matches!(path.last(), Some(ASTNode::Expr(Expr::MethodCall(..))));
                if call.is_qualified() || call.op_token.is_some() || KEYWORD_FUNCTIONS.contains(&call.name.as_str()) {
                    return true;
                }
                let args = call.args.len();
                match known.get(call.name.as_str()) {
                    None => {
                        let hint = did_you_mean(call.name.as_str(), known.keys().map(String::as_str));
                        found.push(problem(format!("unknown function `{}`{hint}", call.name), *pos));
                    }
                    Some(arities) if !(arities.contains(&args) || is_method && arities.contains(&(args + 1))) => {
                        let mut counts: Vec<_> = arities.iter().copied().collect();
                        counts.sort_unstable();
                        let counts = counts.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ");
                        found.push(problem(
                            format!("`{}` takes {counts} argument(s), called with {args}", call.name),
                            *pos,
                        ));
                    }
                    Some(_) => {}
                }
            }
            Some(ASTNode::Stmt(Stmt::Import(import, pos))) => {
                if let Expr::StringConstant(path, _) = &import.0
                    && let Err(message) = runtime.locate_module(file, path)
                {
                    found.push(problem(message, *pos));
                }
            }
            _ => {}
        }
        true
    });
    found
}
