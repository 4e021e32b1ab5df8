// Test: `State<Other>` in a controller whose state is `AppState`, with no `FromRef` between
// them: the error is at the argument, names both types and says what is needed.
use axum::extract::{Path, State};
use live_runtime::prelude::*;

#[derive(Clone)]
pub struct AppState;

#[derive(Clone)]
pub struct Other;

pub struct StocksController;

#[live_controller(state = AppState)]
impl StocksController {
    pub async fn index(&self, State(_other): State<Other>) -> &'static str {
        "index"
    }

    pub async fn show(&self, State(_other): State<Other>, Path(id): Path<u32>) -> String {
        id.to_string()
    }
}

fn main() {}
