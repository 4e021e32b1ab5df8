// Test: mistakes in two route attributes of one action, and in a second action, are all
// reported, each at its own path string.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[get("prices")]
    #[post("/prices//all")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }

    #[delete("/{id")]
    pub async fn remove(&self) -> &'static str {
        "removed"
    }
}

fn main() {}
