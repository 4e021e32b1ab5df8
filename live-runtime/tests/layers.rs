//! The runtime's modules form layers: no module reaches, through its code (comments and docs
//! aside), a module that reaches back to it. Read from the sources, so a new circle fails here
//! with the modules it runs through.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and the top-level modules its code names as `crate::x`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut visit = |module: &str, text: &str| {
        let uses = graph.entry(module.to_owned()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            for (at, _) in code.match_indices("crate::") {
                let name: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    uses.insert(name);
                }
            }
        }
    };
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue; // the crate root re-exports everything
        }
        for file in rust_files(&path) {
            visit(&name, &fs::read_to_string(file).unwrap());
        }
    }
    // Names that are items of the crate root, not modules.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for uses in graph.values_mut() {
        uses.retain(|name| modules.contains(name));
    }
    graph
}

/// The `.rs` files at `path`: itself, or every one below it, at any depth.
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_owned()];
    }
    let mut files: Vec<PathBuf> = fs::read_dir(path)
        .unwrap()
        .flat_map(|entry| rust_files(&entry.unwrap().path()))
        .collect();
    files.retain(|file| file.extension().is_some_and(|e| e == "rs"));
    files
}

/// A circle through `from`, if its uses lead back to it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut path = vec![from.to_owned()];
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        from: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let here = path.last().unwrap().clone();
        for next in &graph[&here] {
            if next == from {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, from, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    walk(graph, from, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn no_module_reaches_back() {
    let graph = graph();
    assert!(graph.contains_key("stream_state") && graph.contains_key("broadcast"));
    let circles: Vec<_> = graph.keys().filter_map(|m| circle(&graph, m)).collect();
    assert!(circles.is_empty(), "import circles: {circles:?}");
}

#[test]
fn the_stream_state_stands_on_leaves_only() {
    let graph = graph();
    let allowed: BTreeSet<_> = ["config", "error", "head", "stats"]
        .map(String::from)
        .into();
    assert!(
        graph["stream_state"].is_subset(&allowed),
        "stream_state uses {:?}",
        graph["stream_state"]
    );
}
