//! A CSV export written as it is generated: `GET /subscribers/export` streams 100,000 rows as
//! `subscribers.csv` with `send_stream`, without ever holding the file in memory. Rows are
//! batched into chunks of about 32 KiB; with the default 10-chunk buffer the server holds at
//! most about 320 KiB of the file at a time, however many rows there are.
//!
//! ```sh
//! cargo run --example export             # PORT overrides 3000
//! curl -o subscribers.csv http://127.0.0.1:3000/subscribers/export
//! ```

use std::fmt::Write as _;

#[path = "common/mod.rs"]
mod common;

use live_runtime::prelude::*;
use live_runtime::send_stream::Download;

/// How much of the CSV one write carries.
const CHUNK: usize = 32 * 1024;

/// `/subscribers`: the export.
pub struct SubscribersController {
    /// How many rows the export has.
    pub rows: u64,
}

#[live_controller]
impl SubscribersController {
    /// `GET /subscribers/export`: `subscribers.csv`, one generated subscriber per row.
    pub async fn export(&self, live: Live) -> live_runtime::Result {
        let rows = self.rows;
        live.send_stream(Download::new("subscribers.csv"), |mut stream| async move {
            let mut chunk = String::with_capacity(CHUNK + 128);
            chunk.push_str("id,name,email,plan,joined\n");
            for id in 1..=rows {
                write_row(&mut chunk, id);
                if chunk.len() >= CHUNK {
                    stream
                        .write(std::mem::replace(
                            &mut chunk,
                            String::with_capacity(CHUNK + 128),
                        ))
                        .await?;
                }
            }
            stream.write(chunk).await?;
            Ok(())
        })
        .await
    }
}

/// One subscriber, generated from its id.
pub fn write_row(out: &mut String, id: u64) {
    const PLANS: [&str; 3] = ["free", "pro", "team"];
    let _ = writeln!(
        out,
        "{id},Subscriber {id},subscriber{id}@example.com,{},2026-{:02}-{:02}",
        PLANS[(id % 3) as usize],
        id % 12 + 1,
        id % 28 + 1
    );
}

#[allow(dead_code)] // the tests include this file for the controller alone
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let routes = RouteTable::new().controller::<SubscribersController>();
    let controller = SubscribersController { rows: 100_000 };
    common::serve(
        "export",
        "/subscribers/export",
        controller.into_router(),
        routes,
    )
    .await
}
