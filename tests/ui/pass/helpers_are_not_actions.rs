// Test: only `pub async fn` methods taking `&self` are actions. Private and `pub(crate)` methods,
// sync or async, with or without `self`, are helpers called from actions, even one named as a
// Rails action; constants and associated functions stay usable; doc comments and lint
// attributes on actions are kept.
#![deny(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use live_runtime::prelude::*;
use live_runtime::routing::Route;

pub struct CounterController {
    hits: AtomicU64,
}

#[live_controller]
impl CounterController {
    pub const START: u64 = 0;

    pub(crate) fn build() -> Self {
        CounterController {
            hits: AtomicU64::new(Self::START),
        }
    }

    /// `GET /counter/hit`: counts, through helpers.
    #[allow(clippy::unused_async)]
    pub async fn hit(&self) -> String {
        let n = self.bump();
        self.render(n).await
    }

    pub async fn stream(&self, live: Live) -> live_runtime::Result {
        let n = self.bump();
        live.stream().writeln(Self::label(n)).await?;
        Ok(())
    }

    fn bump(&self) -> u64 {
        self.hits.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) async fn render(&self, n: u64) -> String {
        self.show(n).await
    }

    async fn show(&self, n: u64) -> String {
        Self::label(n)
    }

    fn label(n: u64) -> String {
        format!("hit {n}")
    }
}

fn main() {
    assert_eq!(
        <CounterController as Controller>::ROUTES,
        [
            Route {
                method: "GET",
                path: "/counter/hit",
                controller: "CounterController",
                action: "hit",
            },
            Route {
                method: "GET",
                path: "/counter/stream",
                controller: "CounterController",
                action: "stream",
            },
        ]
    );
    let controller = CounterController::build();
    assert_eq!(controller.bump(), 1);
    let _router: axum::Router = controller.into_router();
}
