// Test: an action with a `Live` argument is live: it returns `()`, `live_runtime::Result`, or
// `Result<(), E>` for an error type that converts, and may set the head before it streams.
use live_runtime::prelude::*;

pub struct EventsController;

#[live_controller]
impl EventsController {
    pub async fn unit(&self, live: Live) {
        let mut stream = live.stream();
        let _ = stream.write("no result").await;
    }

    pub async fn result(&self, mut live: Live) -> live_runtime::Result {
        live.set_status(StatusCode::CREATED);
        live.set_content_type("text/event-stream")?;
        live.set_header("x-accel-buffering", "no")?;
        let mut stream = live.stream();
        stream.write("data: hello\n\n").await?;
        Ok(())
    }

    pub async fn io_error(&self, live: Live) -> Result<(), std::io::Error> {
        drop(live);
        Err(std::io::Error::other("disk gone"))
    }

    pub async fn explicit(&self, live: Live) -> Result<(), live_runtime::Error> {
        live.text("done")
    }
}

fn main() {
    let actions: Vec<&str> = <EventsController as Controller>::ROUTES
        .iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, ["unit", "result", "io_error", "explicit"]);
    let _router: axum::Router = EventsController.into_router();
}
