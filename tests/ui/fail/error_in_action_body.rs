// Test: a type error inside an ordinary action's body: rustc's own error, at the user's tokens
// in the body; the macro adds nothing.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index(&self) -> String {
        let count: u32 = "three";
        count.to_string()
    }
}

fn main() {}
