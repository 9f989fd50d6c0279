//! Modules that import one way only: a checker run over each crate's
//! sources by `tests/layers.rs`.
//!
//! A crate's modules are listed in its `layers.txt`, lowest first, a line a
//! rank (modules on one line are side by side); a module may use those on
//! lines above its own, never one on its line or below. Crate roots (`lib.rs`,
//! `main.rs`), test files (`tests.rs`, and code after `#[cfg(test)]`) and
//! test fixtures (`samples`) may use anything, and a folder's `mod.rs` may
//! re-export its children (`pub use`). An item taken from the crate root
//! (`crate::Checkpoint`) hides its layer and is reported too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Source files and the module each one is.
fn modules(src: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let module = parts.join("::");
            let skip = module == "lib"
                || module == "main"
                || module == "samples"
                || parts.last().is_some_and(|p| p == "tests");
            if !skip {
                out.push((path, module));
            }
        }
    }
    out.sort();
    out
}

/// The known module a path such as `signed::trust::TrustStore` names: its
/// longest prefix in the table.
fn known(path: &str, table: &BTreeMap<&str, usize>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|p| table.contains_key(p.as_str()))
}

/// Module paths a line of code refers to: `crate::…`, `super::…`, and in a
/// folder's `mod.rs` its own children used bare (`use reason::Reason`).
fn references(line: &str, module: &str, is_folder: bool) -> Vec<String> {
    let mut found = Vec::new();
    let path_at = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect::<String>()
            .trim_end_matches(':')
            .to_string()
    };
    for (i, _) in line.match_indices("crate::") {
        found.push(path_at(&line[i + "crate::".len()..]));
    }
    // Each `super` is one module up (from a file, or from a folder's
    // `mod.rs` alike), so `super::super::x` is the grandparent's `x`.
    let parent = |m: &str| m.rsplit_once("::").map_or("", |(p, _)| p).to_string();
    let mut at = 0;
    while let Some(i) = line[at..].find("super::") {
        let mut rest = &line[at + i..];
        let mut base = module.to_string();
        while let Some(r) = rest.strip_prefix("super::") {
            base = parent(&base);
            rest = r;
        }
        let path = path_at(rest);
        found.push(if base.is_empty() {
            path
        } else {
            format!("{base}::{path}")
        });
        at = line.len() - rest.len();
    }
    // A folder's own children, used bare; re-exporting one (`pub use`)
    // only gives it a shorter name, so only private uses count.
    if let Some(rest) = line.trim_start().strip_prefix("use ").filter(|_| is_folder) {
        if !rest.starts_with("crate::") && !rest.starts_with("super::") {
            found.push(format!("{module}::{}", path_at(rest)));
        }
    }
    // `use super::*` in an inline module names the file itself.
    found.retain(|r| !r.is_empty());
    found
}

/// The rank of each module in a `layers.txt` (`#` comments, blank lines and
/// then a line a rank, lowest first).
pub fn ranks(layers: &str) -> BTreeMap<&str, usize> {
    layers
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .enumerate()
        .flat_map(|(rank, line)| line.split_whitespace().map(move |m| (m, rank)))
        .collect()
}

/// Every import in the crate at `src` that goes the wrong way, or names a
/// module missing from `layers` (a `layers.txt`).
pub fn problems(src: &Path, layers: &str) -> Vec<String> {
    let table = ranks(layers);
    let mut problems = Vec::new();
    for (path, module) in modules(src) {
        let Some(&own) = table.get(module.as_str()) else {
            problems.push(format!("{module}: not in layers.txt"));
            continue;
        };
        let is_folder = path.file_name().is_some_and(|n| n == "mod.rs");
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            // Code after `#[cfg(test)]` is the module's tests.
            if code.starts_with("#[cfg(test)]") {
                break;
            }
            for reference in references(line, &module, is_folder) {
                let Some(target) = known(&reference, &table) else {
                    // An item re-exported at the root hides its layer.
                    problems.push(format!(
                        "{}:{}: {module} uses {reference}: name its module, not the root re-export",
                        path.strip_prefix(src).unwrap().display(),
                        n + 1
                    ));
                    continue;
                };
                if target == module {
                    continue;
                }
                if table[target.as_str()] >= own {
                    problems.push(format!(
                        "{}:{}: {module} uses {target}, which is not below it",
                        path.strip_prefix(src).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    problems
}
