// Test: `#[post()]` with nothing inside: the error is at the attribute and shows the usage.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    #[post()]
    pub async fn refresh(&self) -> &'static str {
        "refreshed"
    }
}

fn main() {}
