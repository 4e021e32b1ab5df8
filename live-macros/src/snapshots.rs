//! Expansion snapshots: each `tests/expand/<name>.rs` holds a `#[live_controller]` impl block;
//! its pretty-printed expansion must equal `tests/expand/<name>.expanded.rs`. After a change
//! of the expansion, regenerate with `UPDATE_EXPANDED=1 cargo test -p live-macros snapshots`
//! and read the diff.

use std::path::Path;

use quote::ToTokens;

use crate::expand;

fn expand_file(source: &str) -> String {
    let file: syn::File = syn::parse_str(source).expect("the snapshot input parses");
    let mut out = Vec::new();
    for item in file.items {
        let syn::Item::Impl(mut item) = item else {
            out.push(item.to_token_stream());
            continue;
        };
        let position = item
            .attrs
            .iter()
            .position(|a| a.path().is_ident("live_controller"))
            .expect("the impl block has #[live_controller]");
        let attr = item.attrs.remove(position);
        let args = match attr.meta {
            syn::Meta::List(list) => list.tokens,
            _ => proc_macro2::TokenStream::new(),
        };
        out.push(expand::live_controller(args, item.to_token_stream()));
    }
    let expanded: syn::File = syn::parse2(out.into_iter().collect()).expect("the expansion parses");
    prettyplease::unparse(&expanded)
}

#[test]
fn snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let update = std::env::var_os("UPDATE_EXPANDED").is_some();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if !name.ends_with(".rs") || name.ends_with(".expanded.rs") {
            continue;
        }
        let expanded = expand_file(&std::fs::read_to_string(&path).unwrap());
        let snapshot = path.with_extension("expanded.rs");
        if update {
            std::fs::write(&snapshot, &expanded).unwrap();
        } else {
            let expected = std::fs::read_to_string(&snapshot).unwrap_or_else(|_| {
                panic!("no {}: run with UPDATE_EXPANDED=1", snapshot.display())
            });
            assert_eq!(
                expanded, expected,
                "{name}: the expansion changed; see the module docs"
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "no snapshot inputs in {}", dir.display());
}
