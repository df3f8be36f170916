//! The shape of the source tree, checked from the code itself: no import circle between the
//! files of `src/`, and no source file (library, tests, benches) over 750 lines.
//!
//! A file depends on another when it names a path into it: a `use crate::..` line (grouped
//! trees included), a `crate::..` path written inline (macro bodies included), a `super::..` or
//! `self::..` path, or a path through a child module it declares (`mod keys;` then
//! `keys::register`). Each path is resolved to the deepest module that is a file, so
//! `crate::api::host::Host` depends on `src/api/host.rs`. Files are tokenized with
//! `proc-macro2`, so comments, doc links and strings never count. The files that depend on
//! each other round a circle are a strongly connected component of that graph (Tarjan's
//! algorithm); every one with more than one file is reported with the paths that close it.
//!
//! Run it alone with `cargo test --locked --test architecture`.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The most lines a source file may have.
const MAX_LINES: usize = 750;

/// A module path below the crate root (`["api", "host"]`).
type ModPath = Vec<String>;

/// One source file of the library and what it names.
struct SourceFile {
    /// Relative to the crate root, e.g. `src/api/host.rs`.
    path: String,
    module: ModPath,
    /// Every path it names, resolved to absolute module paths, with the text as written.
    references: Vec<(ModPath, String)>,
}

#[test]
fn no_import_circle_between_source_files() {
    let files = library_files();
    let graph = dependency_graph(&files);
    let circles: Vec<Vec<usize>> =
        strongly_connected(files.len(), &graph).into_iter().filter(|c| c.len() > 1).collect();
    let report: Vec<String> = circles.iter().map(|circle| describe_circle(&files, &graph, circle)).collect();
    assert!(report.is_empty(), "{} import circle(s) between source files:\n{}", report.len(), report.join("\n"));
}

#[test]
fn no_source_file_is_over_750_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut too_long = Vec::new();
    for dir in ["src", "tests", "benches"] {
        for file in rust_files(&root.join(dir)) {
            let lines = std::fs::read_to_string(&file).expect("source file reads").lines().count();
            if lines > MAX_LINES {
                too_long.push(format!("{} has {lines} lines", relative(root, &file)));
            }
        }
    }
    assert!(too_long.is_empty(), "files over {MAX_LINES} lines:\n{}", too_long.join("\n"));
}

/// The finder itself, on a made-up tree: a circle through a grouped `use`, an inline path and
/// a child module is found; a test module's `super::*` and a doc comment are not edges.
#[test]
fn the_circle_finder_sees_every_kind_of_path() {
    let sources = [
        ("src/lib.rs", "pub mod a; pub mod b; pub mod c; pub mod d; pub mod e;"),
        ("src/a/mod.rs", "//! [`crate::c`]\npub mod inner;\npub fn f() { inner::g(); }"),
        ("src/a/inner.rs", "use crate::{b::{self, x}, c as _};\npub fn g() {}"),
        ("src/b.rs", "pub fn x() { let _ = format!(\"{}\", crate::a::f()); }"),
        ("src/d.rs", "struct S { f: u8 }\nfn s() -> S { S { f: crate::e::F } }"),
        ("src/e.rs", "pub const F: u8 = 1;\nfn g() -> u8 { crate::d::s().f }"),
        ("src/c.rs", "pub fn y() {}\n#[cfg(test)]\nmod tests { use super::*; fn t() { y(); } }"),
    ];
    let files: Vec<SourceFile> = sources.iter().map(|(path, text)| parse_file(path, text)).collect();
    let graph = dependency_graph(&files);
    let circles: Vec<Vec<String>> = strongly_connected(files.len(), &graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut names: Vec<String> = c.iter().map(|&i| files[i].path.clone()).collect();
            names.sort();
            names
        })
        .collect();
    assert_eq!(circles, vec![vec!["src/a/inner.rs", "src/a/mod.rs", "src/b.rs"], vec!["src/d.rs", "src/e.rs"]]);
    let c = files.iter().position(|f| f.path == "src/c.rs").unwrap();
    assert!(graph[c].is_empty(), "a test module's `use super::*` is the file itself");
    let a = files.iter().position(|f| f.path == "src/a/mod.rs").unwrap();
    assert!(!graph[a].contains_key(&c), "a doc link is not an import");
}

/// Every `.rs` file of the library (the binary's `main.rs` is its own crate).
fn library_files() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    rust_files(&root.join("src"))
        .into_iter()
        .map(|file| relative(root, &file))
        .filter(|path| path != "src/main.rs")
        .map(|path| {
            let text = std::fs::read_to_string(root.join(&path)).expect("source file reads");
            parse_file(&path, &text)
        })
        .collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root).expect("below the crate root").to_string_lossy().replace('\\', "/")
}

/// `src/lib.rs` → `[]`, `src/api/mod.rs` → `[api]`, `src/api/host.rs` → `[api, host]`.
fn module_of(path: &str) -> ModPath {
    let inner = path.strip_prefix("src/").expect("a library file").strip_suffix(".rs").expect("a Rust file");
    let mut parts: ModPath = inner.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn parse_file(path: &str, text: &str) -> SourceFile {
    let tokens = TokenStream::from_str(text).unwrap_or_else(|e| panic!("{path} does not tokenize: {e:?}"));
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let module = module_of(path);
    let mut references = Vec::new();
    scan_scope(&tokens, &module, &mut references);
    SourceFile { path: path.to_string(), module, references }
}

/// Collects the paths named in one module scope (a file, or an inline `mod name { .. }`).
fn scan_scope(tokens: &[TokenTree], module: &ModPath, out: &mut Vec<(ModPath, String)>) {
    // Modules declared here may be named before their declaration.
    let children: BTreeSet<String> = tokens
        .windows(2)
        .filter_map(|pair| match pair {
            [TokenTree::Ident(kw), TokenTree::Ident(name)] if kw == "mod" => Some(name.to_string()),
            _ => None,
        })
        .collect();
    scan_tokens(tokens, module, &children, out);
}

fn scan_tokens(tokens: &[TokenTree], module: &ModPath, children: &BTreeSet<String>, out: &mut Vec<(ModPath, String)>) {
    let mut i = 0;
    while i < tokens.len() {
        // An inline module is a scope of its own.
        if let (TokenTree::Ident(kw), Some(TokenTree::Ident(name)), Some(TokenTree::Group(body))) =
            (&tokens[i], tokens.get(i + 1), tokens.get(i + 2))
            && kw == "mod"
            && body.delimiter() == Delimiter::Brace
        {
            let mut inner = module.clone();
            inner.push(name.to_string());
            let body: Vec<TokenTree> = body.stream().into_iter().collect();
            scan_scope(&body, &inner, out);
            i += 3;
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(group) => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                scan_tokens(&inner, module, children, out);
            }
            TokenTree::Ident(first) if starts_path(tokens, i) => {
                let first = first.to_string();
                let base = match first.as_str() {
                    "crate" => Some(Vec::new()),
                    "self" => Some(module.clone()),
                    "super" => Some(module[..module.len().saturating_sub(1)].to_vec()),
                    name if children.contains(name) => Some([module.clone(), vec![name.to_string()]].concat()),
                    _ => None,
                };
                if let Some(base) = base {
                    let consumed = path_tails(&tokens[i + 1..], base, &first, out);
                    i += 1 + consumed;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// True when the identifier at `i` begins a path (`name::`), not continues one (`a::name`)
/// nor is a macro's `$crate`. A single colon before it (`field: crate::f()`) still begins one.
fn starts_path(tokens: &[TokenTree], i: usize) -> bool {
    let is = |at: Option<usize>, c: char| matches!(at.and_then(|j| tokens.get(j)), Some(TokenTree::Punct(p)) if p.as_char() == c);
    let continues = is(i.checked_sub(1), ':') && is(i.checked_sub(2), ':');
    is(Some(i + 1), ':') && is(Some(i + 2), ':') && !continues && !is(i.checked_sub(1), '$')
}

/// Follows `::segment` after a path's first identifier, expanding `{a, b::c}` trees; records
/// each complete path and returns how many tokens it consumed.
fn path_tails(tokens: &[TokenTree], mut base: ModPath, text: &str, out: &mut Vec<(ModPath, String)>) -> usize {
    let mut text = text.to_string();
    let mut i = 0;
    loop {
        let colons = matches!(
            (tokens.get(i), tokens.get(i + 1)),
            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':'
        );
        if !colons {
            break;
        }
        match tokens.get(i + 2) {
            Some(TokenTree::Ident(segment)) => {
                let segment = segment.to_string();
                match segment.as_str() {
                    "super" => {
                        base.pop();
                    }
                    "self" => {}
                    _ => base.push(segment.clone()),
                }
                text = format!("{text}::{segment}");
                i += 3;
            }
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                for tree in inner.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
                    let Some(TokenTree::Ident(head)) = tree.first() else { continue };
                    let mut nested = base.clone();
                    if head != "self" {
                        nested.push(head.to_string());
                    }
                    path_tails(&tree[1..], nested, &format!("{text}::{head}"), out);
                }
                return i + 3;
            }
            _ => break,
        }
    }
    out.push((base, text));
    i
}

/// For each file, the files it names, with the first path that names each.
fn dependency_graph(files: &[SourceFile]) -> Vec<BTreeMap<usize, String>> {
    let by_module: BTreeMap<&ModPath, usize> = files.iter().enumerate().map(|(i, f)| (&f.module, i)).collect();
    files
        .iter()
        .enumerate()
        .map(|(from, file)| {
            let mut edges = BTreeMap::new();
            for (path, text) in &file.references {
                // The deepest module on the path that is a file of its own.
                let target = (0..=path.len()).rev().find_map(|n| by_module.get(&path[..n].to_vec()).copied());
                if let Some(to) = target
                    && to != from
                {
                    edges.entry(to).or_insert_with(|| text.clone());
                }
            }
            edges
        })
        .collect()
}

/// Tarjan's strongly connected components, iteratively (no recursion depth limit).
fn strongly_connected(n: usize, graph: &[BTreeMap<usize, String>]) -> Vec<Vec<usize>> {
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next = 0;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, its successors, how many of them were visited)
        let mut work: Vec<(usize, Vec<usize>, usize)> = vec![(start, graph[start].keys().copied().collect(), 0)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some((node, successors, seen)) = work.last_mut() {
            let node = *node;
            if let Some(&succ) = successors.get(*seen) {
                *seen += 1;
                if index[succ] == usize::MAX {
                    index[succ] = next;
                    low[succ] = next;
                    next += 1;
                    stack.push(succ);
                    on_stack[succ] = true;
                    work.push((succ, graph[succ].keys().copied().collect(), 0));
                } else if on_stack[succ] {
                    low[node] = low[node].min(index[succ]);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _, _)) = work.last() {
                low[*parent] = low[*parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The files of one circle and every dependency between them, with the path that makes it.
fn describe_circle(files: &[SourceFile], graph: &[BTreeMap<usize, String>], circle: &[usize]) -> String {
    let mut members: Vec<usize> = circle.to_vec();
    members.sort_by_key(|&i| &files[i].path);
    let names: Vec<&str> = members.iter().map(|&i| files[i].path.as_str()).collect();
    let mut lines = vec![format!("  circle of {}: {}", members.len(), names.join(", "))];
    for &from in &members {
        for (to, text) in &graph[from] {
            if members.contains(to) {
                lines.push(format!("    {} → {} ({text})", files[from].path, files[*to].path));
            }
        }
    }
    lines.join("\n")
}
