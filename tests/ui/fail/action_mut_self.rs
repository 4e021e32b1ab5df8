// Test: an action taking `&mut self`: the error is at the receiver, says actions share the
// controller, and suggests interior mutability.
use live_runtime::prelude::*;

pub struct CounterController {
    count: u64,
}

#[live_controller]
impl CounterController {
    pub async fn create(&mut self) -> String {
        self.count += 1;
        self.count.to_string()
    }
}

fn main() {}
