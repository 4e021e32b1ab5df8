//! Compile-time guarantees, checked with trybuild on the machine's stable rustc. Regenerate
//! the expected output with `TRYBUILD=overwrite cargo test --test ui`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
