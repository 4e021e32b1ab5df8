//! The stock-price page: `GET /stocks` serves a page that opens an `EventSource` on
//! `GET /stocks/prices` and shows each price as it arrives, with the connection state. The
//! prices are `event: prices` Server-Sent Events with increasing ids and a `retry`; a
//! reconnecting browser sends `Last-Event-ID` and the stream resumes right after it, with no
//! gap and no duplicate. Prices come from a deterministic simulated feed, so tests can
//! predict them.
//!
//! ```sh
//! cargo run --example stocks             # PORT overrides 3000; STOCKS_INTERVAL_MS the pace
//! open http://127.0.0.1:3000/stocks
//! ```

use std::time::Duration;

#[path = "common/mod.rs"]
mod common;

use live_runtime::prelude::*;
use serde::Serialize;

/// The simulated market: every price is a function of the tick number, so the feed can be
/// replayed from any point.
#[derive(Debug, Clone, Copy, Default)]
pub struct PriceFeed;

/// The symbols and their base prices.
pub const SYMBOLS: [(&str, f64); 3] = [("ACME", 142.10), ("GLOBEX", 87.35), ("INITECH", 23.60)];

/// One tick of the feed: what an event carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    /// The tick number, also the event's id.
    pub n: u64,
    /// The price of every symbol at this tick.
    pub prices: Vec<Quote>,
}

/// One symbol's price.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// The ticker symbol.
    pub symbol: &'static str,
    /// The price, in dollars, to the cent.
    pub price: f64,
}

impl PriceFeed {
    /// The prices at tick `n`: each symbol swings around its base price, on a period of its own.
    pub fn tick(&self, n: u64) -> Tick {
        let prices = SYMBOLS
            .iter()
            .enumerate()
            .map(|(i, (symbol, base))| {
                let phase = n as f64 * (0.37 + 0.11 * i as f64);
                let price = base * (1.0 + 0.03 * phase.sin());
                Quote {
                    symbol,
                    price: (price * 100.0).round() / 100.0,
                }
            })
            .collect();
        Tick { n, prices }
    }
}

/// `/stocks`: the page and its price stream.
pub struct StocksController {
    /// The market.
    pub feed: PriceFeed,
    /// Time between two ticks.
    pub interval: Duration,
}

#[live_controller]
impl StocksController {
    /// `GET /stocks`: the page.
    pub async fn index(&self, live: Live) -> live_runtime::Result {
        live.html(PAGE)
    }

    /// `GET /stocks/prices`: one `prices` event per tick, resuming after `Last-Event-ID`.
    pub async fn prices(&self, last: LastEventId<u64>, live: Live) -> live_runtime::Result {
        let options = SseOptions::new()
            .event("prices")
            .retry(Duration::from_millis(500));
        let mut sse = live.sse(options);
        let mut tick = tokio::time::interval(self.interval);
        for n in last.next().. {
            tokio::select! {
                _ = tick.tick() => {}
                () = sse.stream().disconnected() => return Ok(()),
            }
            sse.write_with(self.feed.tick(n), Event::id(n)).await?;
        }
        Ok(())
    }
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>live · stocks</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 34rem; color: #1d2430; }
  h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
  .sub { color: #6b7280; margin: 0 0 1.2rem; }
  table { width: 100%; border-collapse: collapse; }
  td, th { padding: .45rem .6rem; border-bottom: 1px solid #e5e7eb; text-align: left; }
  td.price { font-variant-numeric: tabular-nums; text-align: right; font-weight: 600; }
  .up { color: #047857; } .down { color: #b91c1c; }
  #state { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-size: .85rem; }
  #state.open { background: #d1fae5; color: #065f46; }
  #state.connecting, #state.reconnecting { background: #fef3c7; color: #92400e; }
  #state.closed { background: #fee2e2; color: #991b1b; }
  #meta { color: #6b7280; font-size: .85rem; margin-top: 1rem; }
</style>
</head>
<body>
<h1>Stock prices</h1>
<p class="sub">Server-Sent Events from a <code>#[live_controller]</code> action &middot; <span id="state" class="connecting">connecting</span></p>
<table>
  <thead><tr><th>Symbol</th><th style="text-align:right">Price</th></tr></thead>
  <tbody id="prices"></tbody>
</table>
<p id="meta">No prices yet.</p>
<script>
  // Every event id seen, in order: the browser test checks it has no gap and no duplicate.
  window.seenIds = [];
  const state = document.getElementById('state');
  const body = document.getElementById('prices');
  const meta = document.getElementById('meta');
  const last = {};
  function setState(name) { state.textContent = name; state.className = name; }
  const source = new EventSource('/stocks/prices');
  source.onopen = () => setState('open');
  source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  source.addEventListener('prices', (event) => {
    window.seenIds.push(Number(event.lastEventId));
    const tick = JSON.parse(event.data);
    for (const { symbol, price } of tick.prices) {
      let row = document.getElementById('row-' + symbol);
      if (!row) {
        row = document.createElement('tr');
        row.id = 'row-' + symbol;
        row.innerHTML = '<td>' + symbol + '</td><td class="price"></td>';
        body.appendChild(row);
      }
      const cell = row.querySelector('.price');
      cell.textContent = price.toFixed(2);
      cell.className = 'price ' + (last[symbol] === undefined || price >= last[symbol] ? 'up' : 'down');
      last[symbol] = price;
    }
    meta.textContent = window.seenIds.length + ' updates · last id ' + event.lastEventId;
  });
</script>
</body>
</html>
"#;

#[allow(dead_code)] // the tests include this file for the controller alone
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let interval = std::env::var("STOCKS_INTERVAL_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis);
    let controller = StocksController {
        feed: PriceFeed,
        interval,
    };
    let routes = RouteTable::new().controller::<StocksController>();
    common::serve("stocks", "/stocks", controller.into_router(), routes).await
}
