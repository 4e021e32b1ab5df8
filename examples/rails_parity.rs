//! Rails' own live-stream test controllers (`actionpack/test/controller/live_stream_test.rb`),
//! action for action under the same names, at `GET /test/<action>`. `tests/it/rails_parity.rs`
//! checks Rails' golden bytes and headers against it over real HTTP.
//!
//! ```sh
//! cargo run --example rails_parity     # PORT overrides 3000
//! curl -N http://127.0.0.1:3000/test/basic_sse
//! ```

use std::sync::Arc;
use std::time::Duration;

#[path = "common/mod.rs"]
mod common;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use live_runtime::prelude::*;
use live_runtime::send_stream::Download;
use serde_json::json;
use tokio::sync::Semaphore;

live_runtime::task_local! {
    /// Rails' `Thread.current[:setting]`.
    pub static SETTING: String;
    /// Rails' `CurrentAttributes`, an `IsolatedExecutionState` value.
    pub static CURRENT_USER: String;
    /// Rails' `:active_record_connected_to_stack`, excluded from this controller's actions.
    pub static CONNECTED_TO_STACK: Vec<String>;
}

/// `TestController` and `SSETestController` of Rails' tests, as one controller.
pub struct TestController {
    /// The latch of `blocking_stream`: each permit lets it go one step further.
    pub latch: Arc<Semaphore>,
}

// Rails' ways where live's default differs: the `/500.html` script and a clean end after an
// error once committed.
#[live_controller(
    buffer = 10,
    write_timeout_ms = none,
    html_error_snippet,
    clean_end_on_error,
    exclude_locals(CONNECTED_TO_STACK)
)]
impl TestController {
    /// `SSETestController#basic_sse`: a string verbatim, then an object as JSON.
    pub async fn basic_sse(&self, mut live: Live) -> live_runtime::Result {
        live.set_content_type("text/event-stream")?;
        let mut sse = Sse::new(live.stream(), SseOptions::new());
        sse.write("{\"name\":\"John\"}").await?;
        sse.write(json!({ "name": "Ryan" })).await?;
        sse.close();
        Ok(())
    }

    /// `sse_with_event`: the constructor's `event` on every event.
    pub async fn sse_with_event(&self, live: Live) -> live_runtime::Result {
        let mut sse = Sse::new(live.stream(), SseOptions::new().event("send-name"));
        sse.write("{\"name\":\"John\"}").await?;
        sse.write(json!({ "name": "Ryan" })).await?;
        sse.close();
        Ok(())
    }

    /// `sse_with_retry`: the constructor's `retry`, overridden by the second write.
    pub async fn sse_with_retry(&self, live: Live) -> live_runtime::Result {
        let mut sse = Sse::new(
            live.stream(),
            SseOptions::new().retry(Duration::from_millis(1000)),
        );
        sse.write("{\"name\":\"John\"}").await?;
        sse.write_with(
            json!({ "name": "Ryan" }),
            Event::new().retry(Duration::from_millis(1500)),
        )
        .await?;
        sse.close();
        Ok(())
    }

    /// `sse_with_id`: an `id` per write.
    pub async fn sse_with_id(&self, live: Live) -> live_runtime::Result {
        let mut sse = Sse::new(live.stream(), SseOptions::new());
        sse.write_with("{\"name\":\"John\"}", Event::id(1)).await?;
        sse.write_with(json!({ "name": "Ryan" }), Event::id(2))
            .await?;
        sse.close();
        Ok(())
    }

    /// `sse_with_multiple_line_message`: one `data:` line per line.
    pub async fn sse_with_multiple_line_message(&self, live: Live) -> live_runtime::Result {
        let mut sse = Sse::new(live.stream(), SseOptions::new());
        sse.write("first line.\nsecond line.").await?;
        sse.close();
        Ok(())
    }

    /// `set_cookie`: a cookie set before the first write.
    pub async fn set_cookie(&self, mut live: Live) -> live_runtime::Result {
        live.set_cookie(Cookie::new("hello", "world"))?;
        let mut stream = live.stream();
        stream.write("hello world").await?;
        stream.close();
        Ok(())
    }

    /// `render_text`: an ordinary render in a live controller.
    pub async fn render_text(&self, live: Live) -> live_runtime::Result {
        live.text("zomg")
    }

    /// `write_lines`: `writeln` adds `\n` only when missing.
    pub async fn write_lines(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.writeln("hello\n").await?;
        stream.writeln("world").await?;
        stream.close();
        Ok(())
    }

    /// `default_header`: no content type set.
    pub async fn default_header(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write("<html><body>hi</body></html>").await?;
        stream.close();
        Ok(())
    }

    /// `basic_stream`: two raw writes under an explicit type.
    pub async fn basic_stream(&self, mut live: Live) -> live_runtime::Result {
        live.set_content_type("text/event-stream")?;
        let mut stream = live.stream();
        stream.write("hello").await?;
        stream.write("world").await?;
        stream.close();
        Ok(())
    }

    /// `basic_send_stream`: the type from the filename.
    pub async fn basic_send_stream(&self, live: Live) -> live_runtime::Result {
        live.send_stream(Download::new("my.csv"), |mut stream| async move {
            stream.write("name,age\ndavid,41").await?;
            Ok(())
        })
        .await
    }

    /// `send_stream_with_options`: inline, typed as JSON; the body is Rails' test's literal
    /// string (a Ruby hash's text, not JSON), byte for byte.
    pub async fn send_stream_with_options(&self, live: Live) -> live_runtime::Result {
        let download = Download::new("export").inline().extension("json");
        live.send_stream(download, |mut stream| async move {
            stream.write(r#"{ name: "David", age: 41 }"#).await?;
            Ok(())
        })
        .await
    }

    /// `send_stream_with_inferred_content_type`.
    pub async fn send_stream_with_inferred_content_type(&self, live: Live) -> live_runtime::Result {
        fruits(live, Download::new("sample.csv")).await
    }

    /// `send_stream_with_implicit_content_type`: Rails' `type: :csv`.
    pub async fn send_stream_with_implicit_content_type(&self, live: Live) -> live_runtime::Result {
        fruits(live, Download::new("sample").extension("csv")).await
    }

    /// `send_stream_with_explicit_content_type`: Rails' `type: "text/csv"`.
    pub async fn send_stream_with_explicit_content_type(&self, live: Live) -> live_runtime::Result {
        fruits(live, Download::new("sample").content_type("text/csv")).await
    }

    /// `blocking_stream`: waits on the latch between writes.
    pub async fn blocking_stream(&self, mut live: Live) -> live_runtime::Result {
        live.set_content_type("text/event-stream")?;
        let mut stream = live.stream();
        stream.write("hello").await?;
        self.latch.acquire().await.map_err(Error::new)?.forget();
        stream.write("world").await?;
        self.latch.acquire().await.map_err(Error::new)?.forget();
        stream.close();
        Ok(())
    }

    /// `with_stale`: `stale?(etag: "123")`.
    pub async fn with_stale(&self, mut live: Live) -> live_runtime::Result {
        if live.stale("123")? {
            live.text("stale")
        } else {
            Ok(())
        }
    }

    /// `exception_in_controller`: fails before writing: a 500.
    pub async fn exception_in_controller(&self, _live: Live) -> live_runtime::Result {
        Err(Error::msg("Exception in controller"))
    }

    /// `bad_request_error`: Rails' `ActionController::BadRequest`: a 400.
    pub async fn bad_request_error(&self, _live: Live) -> live_runtime::Result {
        Err(Error::status(StatusCode::BAD_REQUEST))
    }

    /// `exception_with_callback`: `on_error` writes an SSE error event.
    pub async fn exception_with_callback(&self, mut live: Live) -> live_runtime::Result {
        live.set_content_type("text/event-stream")?;
        let mut stream = live.stream();
        stream.on_error(|_error, tail| {
            tail.write("data: \"500 Internal Server Error\"\n\n");
            Ok(())
        });
        stream.write("").await?;
        Err(Error::msg("Exception in controller"))
    }

    /// `exception_in_exception_callback`: `on_error` fails too; both are logged.
    pub async fn exception_in_exception_callback(&self, mut live: Live) -> live_runtime::Result {
        live.set_content_type("text/event-stream")?;
        let mut stream = live.stream();
        stream.on_error(|_error, _tail| Err(Error::msg("We need to go deeper.")));
        stream.write("").await?;
        Err(Error::msg("Exception in controller"))
    }

    /// `overfill_buffer_and_die`: fills the 10-chunk buffer until the client leaves; the
    /// blocked write fails and `on_error` runs.
    pub async fn overfill_buffer_and_die(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.on_error(|error, _tail| {
            tracing::info!(%error, "Error while streaming");
            Ok(())
        });
        let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
        loop {
            stream.write(chunk.clone()).await?;
        }
    }

    /// `overfill_default_buffer`: 26 writes through the 10-chunk buffer.
    pub async fn overfill_default_buffer(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        for letter in b'a'..=b'z' {
            stream.write(vec![letter]).await?;
        }
        stream.close();
        Ok(())
    }

    /// `ignore_client_disconnect`: 15 writes after the client left are dropped; the action
    /// completes.
    pub async fn ignore_client_disconnect(&self, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.set_ignore_disconnect(true);
        stream.write("").await?;
        stream.write("first").await?;
        stream.disconnected().await;
        for _ in 0..15 {
            stream.write("dropped").await?;
        }
        tracing::info!("Work complete");
        Ok(())
    }

    /// `thread_locals`: what the request scoped as `SETTING`.
    pub async fn thread_locals(&self, live: Live) -> live_runtime::Result {
        live.text(SETTING.get().unwrap_or_default())
    }

    /// `isolated_state`: what the request scoped as `CURRENT_USER`.
    pub async fn isolated_state(&self, live: Live) -> live_runtime::Result {
        live.text(CURRENT_USER.get().unwrap_or_default())
    }

    /// `connected_to_stack_not_inherited`: excluded, so absent.
    pub async fn connected_to_stack_not_inherited(&self, live: Live) -> live_runtime::Result {
        live.text(format!("{:?}", CONNECTED_TO_STACK.get()))
    }
}

async fn fruits(live: Live, download: Download) -> live_runtime::Result {
    live.send_stream(download, |mut stream| async move {
        stream.writeln("fruit,quantity").await?;
        stream.writeln("apple,5").await?;
        Ok(())
    })
    .await
}

/// Scopes the request's context the way Rails' tests set it up before the request.
async fn request_context(request: Request, next: Next) -> Response {
    let run = CONNECTED_TO_STACK.scope(vec!["reading".into()], next.run(request));
    let run = CURRENT_USER.scope("david".into(), run);
    SETTING.scope("aaron".into(), run).await
}

/// The app: the controller under the request-context middleware.
pub fn app(latch: Arc<Semaphore>) -> Router {
    TestController { latch }
        .into_router()
        .layer(middleware::from_fn(request_context))
}

#[allow(dead_code)] // the tests include this file for `app` alone
#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Release `blocking_stream` step by step: one permit a second, two at most in store.
    let latch = Arc::new(Semaphore::new(0));
    let releaser = latch.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if releaser.available_permits() < 2 {
                releaser.add_permits(1);
            }
        }
    });
    let routes = RouteTable::new().controller::<TestController>();
    common::serve("rails_parity", "/test/basic_sse", app(latch), routes).await
}
