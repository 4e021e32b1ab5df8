//! The fuzz targets' corpus, replayed on stable by every `cargo test`: each target's
//! checked-in seeds (`fuzz/seeds/<target>/`, plus `fuzz/corpus/<target>/` when a long run left
//! one here), then [`GENERATED`] deterministic mutations of them, each checked against the
//! same property the fuzz target asserts (`fuzz/properties.rs`). The long run (cargo-fuzz on
//! nightly) is in RELIABILITY.md.

#[path = "../fuzz/properties.rs"]
mod properties;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Mutated inputs per target: about a second for the four targets in a debug build.
const GENERATED: usize = 20_000;

/// What mutations splice in: the bytes each parser treats specially.
const TOKENS: &[&[u8]] = &[
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\0",
    b":",
    b": ",
    b"data",
    b"event",
    b"id",
    b"retry",
    b"\xef\xbb\xbf",
    b"%",
    b"\"",
    b"\\",
    b";",
    b"'",
    b" ",
    b"-",
    b"+",
    b"0",
    b"9",
    b"18446744073709551616",
    b"0a1b2c3d",
    "é".as_bytes(),
    "日".as_bytes(),
    b"\xff",
    b"\x7f",
];

/// A small deterministic generator (xorshift64*): the same inputs on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The input after 1 to 8 mutations of a seed: bytes flipped, set, deleted, duplicated,
/// tokens inserted, a piece of another seed spliced in.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(8) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if at < input.len() => input[at] ^= 1 << rng.below(8),
            1 if at < input.len() => input[at] = rng.next() as u8,
            2 => {
                let end = (at + rng.below(8)).min(input.len());
                input.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(16)).min(input.len());
                let copy = input[at..end].to_vec();
                input.splice(at..at, copy);
            }
            4 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
            _ => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(32)).min(other.len());
                input.splice(at..at, other[from..end].iter().copied());
            }
        }
    }
    input
}

/// Every file of `dir`, sorted by name; none if it does not exist.
fn files(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries.map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

/// Runs `target`'s property on its corpus and the mutations of it; a failure names the
/// input, as escaped bytes to put in a seed file.
fn replay(target: &str) {
    let (_, property) = properties::TARGETS
        .into_iter()
        .find(|(name, _)| *name == target)
        .expect("a fuzz target");
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut seeds = files(&fuzz.join("seeds").join(target));
    assert!(!seeds.is_empty(), "no seeds for {target}");
    seeds.extend(files(&fuzz.join("corpus").join(target)));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    let generated = (0..GENERATED).map(|_| mutate(&mut rng, &seeds));
    for (n, input) in seeds.clone().into_iter().chain(generated).enumerate() {
        if catch_unwind(AssertUnwindSafe(|| property(&input))).is_err() {
            panic!("{target}: input {n} fails: b\"{}\"", input.escape_ascii());
        }
    }
}

/// Each cargo-fuzz binary is a target replayed here, and each has a test below.
#[test]
fn every_fuzz_target_is_replayed() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .unwrap();
    let bins: Vec<_> = manifest
        .split("[[bin]]")
        .skip(1)
        .map(|bin| bin.split('"').nth(1).unwrap())
        .collect();
    let targets: Vec<_> = properties::TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(bins, targets);
    assert_eq!(
        targets,
        [
            "sse_encode",
            "sse_parse",
            "content_disposition",
            "last_event_id"
        ]
    );
}

#[test]
fn sse_encode() {
    replay("sse_encode");
}

#[test]
fn sse_parse() {
    replay("sse_parse");
}

#[test]
fn content_disposition() {
    replay("content_disposition");
}

#[test]
fn last_event_id() {
    replay("last_event_id");
}
