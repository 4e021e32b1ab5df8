// Test: `State<T>` in a controller that declares no state: the error is at the argument and
// says what to add to the attribute.
use axum::extract::State;
use live_runtime::prelude::*;

#[derive(Clone)]
pub struct AppState;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn index(&self, State(_app): State<AppState>) -> &'static str {
        "index"
    }
}

fn main() {}
