// Test: a borrowed argument (`&str`) in a live action (one that takes `Live`): the error is
// at the type and says the live action runs in a spawned `'static` task. (An ordinary action
// runs inline: `borrowed_argument.rs` gives its reason.)
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn create(&self, name: &str, live: Live) -> live_runtime::Result {
        live.text(name.to_owned())
    }
}

fn main() {}
