// Test: `error_renderer` names a function of the wrong shape: the error is at its path.
use live_runtime::prelude::*;

fn pages(status: StatusCode) -> String {
    status.to_string()
}

pub struct StocksController;

#[live_controller(error_renderer = pages)]
impl StocksController {
    pub async fn index(&self) -> &'static str {
        "index"
    }
}

fn main() {}
