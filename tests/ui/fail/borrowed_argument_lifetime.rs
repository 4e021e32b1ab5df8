// Test: an argument that borrows through a lifetime (`Cow<'a, str>`): the error is at the
// type, naming the lifetime.
use std::borrow::Cow;

use live_runtime::prelude::*;

pub struct StocksController;

#[live_controller]
impl StocksController {
    pub async fn create<'a>(&self, body: Cow<'a, str>) -> String {
        body.into_owned()
    }
}

fn main() {}
