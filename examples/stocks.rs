//! The stock-price page: `GET /stocks` serves a page that opens an `EventSource` on
//! `GET /stocks/prices` and shows each price as it arrives, with the connection state.
//!
//! One feed task (a [`Ticker`]) computes each tick once and publishes it into a broadcast
//! [`Hub`] (the in-process engine), which hands it to every open stream. The prices are
//! `event: prices` Server-Sent Events with a `retry`, whose id is the tick number: the
//! intervals elapsed since the UNIX epoch, so the numbering goes on across a server restart.
//! A reconnecting browser sends `Last-Event-ID` and the stream resumes right after it, with no
//! gap and no duplicate, even from a server started since: the ticks it missed are recomputed
//! (the newest [`MAX_CATCH_UP`] at most). Prices come from a deterministic simulated feed, a
//! function of the tick number, so tests can predict them.
//!
//! `GET /metrics` serves live's metrics (docs/metrics.md) in Prometheus' text format.
//!
//! ```sh
//! cargo run --example stocks             # PORT overrides 3000; STOCKS_INTERVAL_MS the pace
//! open http://127.0.0.1:3000/stocks
//! curl http://127.0.0.1:3000/metrics
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[path = "common/mod.rs"]
mod common;

use live_runtime::broadcast::{BroadcastEvent, Delivery, Hub, HubConfig, Since, Subscription};
use live_runtime::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// The simulated market: every price is a function of the tick number, so the feed can be
/// replayed from any point.
#[derive(Debug, Clone, Copy, Default)]
pub struct PriceFeed;

/// The symbols and their base prices.
pub const SYMBOLS: [(&str, f64); 3] = [("ACME", 142.10), ("GLOBEX", 87.35), ("INITECH", 23.60)];

/// One tick of the feed: what an event carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    /// The tick number, also the event's id.
    pub n: u64,
    /// The price of every symbol at this tick.
    pub prices: Vec<Quote>,
}

/// One symbol's price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    /// The ticker symbol.
    pub symbol: String,
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
                    symbol: (*symbol).to_owned(),
                    price: (price * 100.0).round() / 100.0,
                }
            })
            .collect();
        Tick { n, prices }
    }
}

/// The hub topic the ticks are published to, and their SSE event name.
const TOPIC: &str = "prices";

/// The most ticks a stream recomputes for a client that missed them (one reconnecting after a
/// restart, or a stream that fell behind the hub): the newest ones; older ones are skipped,
/// stale prices being of no use. Tick numbers count from the epoch, so without a cap an old
/// `Last-Event-ID` would ask for billions. A `Last-Event-ID` ahead of the feed by more than
/// this is not of its numbering (a server run with another interval): the stream starts over
/// at the current tick.
pub const MAX_CATCH_UP: u64 = 1_000;

/// The one feed of the app: computes each tick once and publishes it to the [`Hub`], where
/// every stream of `GET /stocks/prices` receives it. Cheap to clone: clones share the hub and
/// the count. [`StocksController::start`] runs it on the wall clock; tests drive it by hand
/// with [`publish_tick`](Self::publish_tick).
#[derive(Debug, Clone)]
pub struct Ticker {
    feed: PriceFeed,
    hub: Hub,
    interval_ms: u64,
    published: Arc<Published>,
}

#[derive(Debug, Default)]
struct Published {
    /// The last tick published, plus one; 0 before the first.
    next: AtomicU64,
    /// How many ticks were computed and published.
    count: AtomicU64,
}

/// The tick number of a published event, read without the rest of the payload.
#[derive(Deserialize)]
struct TickNumber {
    n: u64,
}

impl Ticker {
    /// A feed ticking every `interval` (whole milliseconds, at least 1), publishing to an
    /// in-process hub of its own.
    pub fn new(feed: PriceFeed, interval: Duration) -> Self {
        Self::with_hub(feed, interval, Hub::memory(HubConfig::default()))
    }

    /// The same, publishing to `hub`.
    pub fn with_hub(feed: PriceFeed, interval: Duration, hub: Hub) -> Self {
        Ticker {
            feed,
            hub,
            interval_ms: u64::try_from(interval.as_millis()).map_or(u64::MAX, |ms| ms.max(1)),
            published: Arc::default(),
        }
    }

    /// The market.
    pub fn feed(&self) -> PriceFeed {
        self.feed
    }

    /// Time between two ticks.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }

    /// The tick the wall clock is at: whole intervals since the UNIX epoch.
    pub fn wall_tick(&self) -> u64 {
        wall_ms() / self.interval_ms
    }

    /// The last tick published, if any.
    pub fn current(&self) -> Option<u64> {
        self.published.next.load(Ordering::SeqCst).checked_sub(1)
    }

    /// How many ticks this feed has computed and published.
    pub fn published(&self) -> u64 {
        self.published.count.load(Ordering::SeqCst)
    }

    /// Computes tick `n` and publishes it to every stream. Ticks only go forward: one not after
    /// the current tick is left out (`Ok(false)`).
    ///
    /// # Errors
    /// Those of [`Hub::publish_event`] (none for the in-process hub and a tick's payload).
    pub async fn publish_tick(&self, n: u64) -> live_runtime::Result<bool> {
        // Current first, then the hub: a stream subscribes, then reads `current`, so a tick
        // published meanwhile is either current (and recomputed) or comes through the
        // subscription (and is skipped as a duplicate), never lost.
        let previous = self
            .published
            .next
            .fetch_max(n.saturating_add(1), Ordering::SeqCst);
        if previous > n {
            return Ok(false);
        }
        self.published.count.fetch_add(1, Ordering::SeqCst);
        self.hub
            .publish_event(TOPIC, "prices", &self.feed.tick(n))
            .await?;
        Ok(true)
    }

    /// The ticks published from now on.
    ///
    /// # Errors
    /// Those of [`Hub::subscribe`] (none for the in-process hub).
    pub async fn subscribe(&self) -> live_runtime::Result<Subscription> {
        self.hub.subscribe(TOPIC, Since::Now).await
    }

    /// Runs the feed: the wall clock's tick at once, then the next one each time the wall clock
    /// reaches it. The pace is kept on tokio's clock, so `tokio::time::pause` drives it in
    /// tests. Never returns; [`StocksController::start`] aborts it when the controller drops.
    async fn run(self) {
        let now = wall_ms();
        self.publish_logged(now / self.interval_ms).await;
        let until_next = Duration::from_millis(self.interval_ms - now % self.interval_ms);
        let mut timer = tokio::time::interval_at(Instant::now() + until_next, self.interval());
        // After a stall (a suspended laptop), one tick for the present, not a burst.
        timer.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            timer.tick().await;
            // The wall clock's tick, or the one after the last if the clock seems behind (woken
            // a hair early, stepped back, or paused in a test): ticks only go forward. Ticks a
            // jump forward skipped are recomputed by the streams that need them.
            let next = self
                .current()
                .map_or(0, |current| current.saturating_add(1));
            self.publish_logged(self.wall_tick().max(next)).await;
        }
    }

    async fn publish_logged(&self, n: u64) {
        if let Err(error) = self.publish_tick(n).await {
            tracing::warn!(n, %error, "stocks: publishing a tick failed");
        }
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// A task aborted when dropped.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `/stocks`: the page and its price stream.
#[derive(Debug)]
pub struct StocksController {
    ticker: Ticker,
    /// The task running the ticker, if [`start`](Self::start) spawned it.
    _clock: Option<AbortOnDrop>,
}

impl StocksController {
    /// The controller of the app: spawns the task that runs a new [`Ticker`] on the wall
    /// clock. The task stops when the controller is dropped (with its router, once the server
    /// has shut down). Call it within a tokio runtime.
    pub fn start(feed: PriceFeed, interval: Duration) -> Self {
        let ticker = Ticker::new(feed, interval);
        let clock = tokio::spawn(ticker.clone().run());
        StocksController {
            ticker,
            _clock: Some(AbortOnDrop(clock)),
        }
    }

    /// A controller streaming what `ticker` publishes, and running nothing: whoever holds a
    /// clone of `ticker` publishes the ticks (a test, with [`Ticker::publish_tick`]).
    pub fn new(ticker: Ticker) -> Self {
        StocksController {
            ticker,
            _clock: None,
        }
    }

    /// The feed this controller streams.
    pub fn ticker(&self) -> &Ticker {
        &self.ticker
    }
}

#[live_controller]
impl StocksController {
    /// `GET /stocks`: the page.
    pub async fn index(&self, live: Live) -> live_runtime::Result {
        live.html(PAGE)
    }

    /// `GET /stocks/prices`: one `prices` event per tick of the feed, its id the tick number.
    /// After `Last-Event-ID` n, the ticks from n + 1 on (the missed ones recomputed, see
    /// [`MAX_CATCH_UP`]); on a first connection, the current tick, then the next ones.
    pub async fn prices(&self, last: LastEventId<u64>, live: Live) -> live_runtime::Result {
        // Subscribe before reading the current tick, so that none falls in between.
        let mut ticks = self.ticker.subscribe().await?;
        let options = SseOptions::new()
            .event("prices")
            .retry(Duration::from_millis(500));
        let mut prices = Prices {
            sse: live.sse(options),
            feed: self.ticker.feed(),
            sent: last.0,
        };
        if let Some(current) = self.ticker.current() {
            prices.catch_up(current).await?;
        }
        loop {
            let delivery = tokio::select! {
                biased;
                () = prices.sse.stream().disconnected() => return Ok(()),
                delivery = ticks.next() => delivery,
            };
            match delivery {
                Some(Delivery::Event(event)) => prices.live(&event).await?,
                // This stream fell behind by more than the hub keeps: recompute what it missed,
                // and go on. Never end the stream on a gap: the browser would reconnect with
                // the same `Last-Event-ID` into the same gap, for ever.
                Some(Delivery::Gap(_)) => {
                    if let Some(current) = self.ticker.current() {
                        prices.catch_up(current).await?;
                    }
                }
                None => return Ok(()),
            }
        }
    }
}

/// One client's price stream, and the last tick it was sent.
struct Prices {
    sse: Sse,
    feed: PriceFeed,
    sent: Option<u64>,
}

impl Prices {
    /// Sends the ticks after the last one sent through `through`, recomputed (the newest
    /// [`MAX_CATCH_UP`] at most); a client that has none yet gets `through` alone.
    async fn catch_up(&mut self, through: u64) -> live_runtime::Result {
        let from = match self.sent {
            Some(sent) if !resumable(sent, through) => through,
            Some(sent) => (sent + 1).max(through.saturating_sub(MAX_CATCH_UP - 1)),
            None => through,
        };
        for n in from..=through {
            self.sse.write_with(self.feed.tick(n), Event::id(n)).await?;
            self.sent = Some(n);
        }
        Ok(())
    }

    /// Sends a tick from the hub, as published, unless it was sent already; first the ticks
    /// missed before it, recomputed.
    async fn live(&mut self, event: &BroadcastEvent) -> live_runtime::Result {
        let n = event.json::<TickNumber>().map_err(Error::new)?.n;
        match self.sent {
            Some(sent) if resumable(sent, n) && n <= sent => return Ok(()),
            Some(sent) if resumable(sent, n) => self.catch_up(n - 1).await?,
            _ => {}
        }
        self.sse.write_with(event.data(), Event::id(n)).await?;
        self.sent = Some(n);
        Ok(())
    }
}

/// Whether a client that was sent tick `sent` can be brought to tick `now`: `sent` is not
/// ahead of it by more than [`MAX_CATCH_UP`] (an id of another numbering).
fn resumable(sent: u64, now: u64) -> bool {
    sent <= now.saturating_add(MAX_CATCH_UP)
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
    // Before serving: each action registers its metric handles with the recorder when it starts.
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(std::io::Error::other)?;
    live_runtime::describe_metrics();
    let metrics = axum::routing::get(move || std::future::ready(prometheus.render()));
    let controller = StocksController::start(PriceFeed, interval);
    let routes = RouteTable::new().controller::<StocksController>();
    let router = controller.into_router().route("/metrics", metrics);
    common::serve("stocks", "/stocks", router, routes).await
}
