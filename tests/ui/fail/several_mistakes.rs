// Test: several mistakes in one impl block are all reported together, each at its own tokens,
// in source order; nothing else is reported.
use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller(buffer = 0, colour = "blue")]
impl StocksController {
    pub fn index(&self) -> &'static str {
        "stocks"
    }

    pub async fn update(&mut self) -> &'static str {
        "updated"
    }

    pub async fn create(&self, body: &str) -> String {
        body.to_owned()
    }

    #[get("prices")]
    pub async fn prices(&self) -> &'static str {
        "prices"
    }

    #[post("/refresh")]
    async fn refresh(&self) -> &'static str {
        "refreshed"
    }

    pub async fn show(&self, live: Live, _again: Live) -> live_runtime::Result {
        drop(live);
        Ok(())
    }
}

fn main() {}
