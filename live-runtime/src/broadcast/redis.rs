//! The Redis engine: topics are Redis Streams shared by every node; each node reads them once
//! and fans out to its own subscribers.
//!
//! - **Publish** is one script call (one round trip, whatever the number of subscribers): it
//!   creates the history's epoch if Redis has none, `XADD`s the event with the epoch in it,
//!   trims the stream to the configured count and age, and sets the key to expire when the
//!   topic is quiet for longer than the age.
//! - **Fan-out**: one reader task per hub does `XREAD BLOCK` on every topic this node has
//!   subscribers for, from the last id it dispatched, on a connection of its own (a blocking
//!   read would stall every other command on a shared connection). Each entry is dispatched to
//!   the node's subscribers through a bounded per-topic channel.
//! - **Subscribe** registers with the fan-out first, then reads the history in one script
//!   (epoch, trimmed-through id, last id and the entries, atomically), so an event is either in
//!   that read or after it in the fan-out; the subscription drops the overlap by id.
//! - **Connections** are the hub's own: commands use a multiplexed connection made again on
//!   the next call after it failed; the reader reconnects forever, with a backoff from 50 ms
//!   doubling to 2 s, and goes on from the last id it dispatched, so what Redis accepted during
//!   an outage still reaches every subscriber. Pub/sub is not used: it drops what is published
//!   while a node is reconnecting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use redis::{AsyncConnectionConfig, Client, RedisError, Script, Value, aio::MultiplexedConnection};
use tokio::sync::{Notify, broadcast};

use super::engine::{Replay, Signal, lock};
use super::event::BroadcastEvent;
use super::id::{EventId, Position, new_epoch};
use super::{HubConfig, Since};
use crate::error::{Error, Result};
use crate::stats;

/// How long a command may take before the hub calls Redis unavailable.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// After a failed connection attempt, calls fail at once for this long instead of each
/// waiting for its own attempt.
const FAIL_FAST: Duration = Duration::from_millis(250);
/// How long one `XREAD` blocks; the reader also wakes when a topic is added.
const READ_BLOCK_MS: u64 = 1000;
const BACKOFF_START: Duration = Duration::from_millis(50);
const BACKOFF_CAP: Duration = Duration::from_secs(2);
/// Entries read per topic per `XREAD`.
const READ_COUNT: usize = 1000;

/// Shared by both scripts: the history's epoch, made from a candidate when Redis has none;
/// and the trim of a stream to its count and age, exactly, recording in the topic's meta hash
/// the newest id trimmed (Redis 7.0's `max-deleted-entry-id` does not count trims), so a
/// resume can tell whether it missed anything.
const PRELUDE: &str = r"
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function later(x, y)
  local xm, xs = parse(x)
  local ym, ys = parse(y)
  return xm > ym or (xm == ym and xs > ys)
end
local function epoch_of(key, candidate)
  local epoch = redis.call('GET', key)
  if not epoch then
    epoch = candidate
    redis.call('SET', key, epoch)
  end
  return epoch
end
local function trim(stream, meta, max, age)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local through = false
  local over = redis.call('XLEN', stream) - max
  if over > 0 then
    local old = redis.call('XRANGE', stream, '-', '+', 'COUNT', over)
    through = old[#old][1]
  end
  local aged = redis.call('XREVRANGE', stream, '(' .. math.max(0, now - age) .. '-0', '-', 'COUNT', 1)
  if #aged > 0 and (not through or later(aged[1][1], through)) then
    through = aged[1][1]
  end
  if through then
    local ms, seq = parse(through)
    redis.call('XTRIM', stream, 'MINID', ms .. '-' .. (seq + 1))
    redis.call('HSET', meta, 'trimmed', through)
  end
end
";

/// KEYS: stream, meta (a hash: `last` id added, `trimmed` newest id gone, `born` the first id
/// of a topic whose past nothing records; it outlives the stream, so a stream that expired
/// and is created again still tells what was lost), epoch. ARGV: max events, max age in ms,
/// candidate epoch, event name ('' for none), data. Each entry carries the epoch (`h`) and
/// the id before it (`p`), so a node can tell it missed entries. Returns the epoch and the
/// new entry's id.
const PUBLISH: &str = r"
local epoch = epoch_of(KEYS[3], ARGV[3])
local prev = redis.call('HGET', KEYS[2], 'last')
local born = false
if redis.call('EXISTS', KEYS[1]) == 0 then
  if prev then redis.call('HSET', KEYS[2], 'trimmed', prev) else born = true end
end
local id
if ARGV[4] == '' then
  id = redis.call('XADD', KEYS[1], '*', 'h', epoch, 'p', prev or '0-0', 'd', ARGV[5])
else
  id = redis.call('XADD', KEYS[1], '*', 'h', epoch, 'p', prev or '0-0', 'e', ARGV[4], 'd', ARGV[5])
end
if born then redis.call('HSET', KEYS[2], 'born', id) end
redis.call('HSET', KEYS[2], 'last', id)
trim(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[2]))
return {epoch, id}
";

/// KEYS: as [`PUBLISH`]. ARGV: max events, max age in ms, start ('(' id, '-', or '' to read
/// no entries), the epoch the start id belongs to ('' if none; another epoch reads from the
/// first entry), a candidate epoch (made the epoch if Redis has none, so that every
/// subscriber has a position in a history). A start past the last id (an id of another
/// history that happens to share the epoch) reads from the first entry too. Returns the
/// epoch, the newest id trimmed, the last id added, the first id of a topic born without a
/// past, and the entries.
const READ: &str = r"
local epoch = epoch_of(KEYS[3], ARGV[5])
local last = redis.call('HGET', KEYS[2], 'last')
local born = redis.call('HGET', KEYS[2], 'born')
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {epoch, last, last, born, {}}
end
trim(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]))
local start = ARGV[3]
if ARGV[4] ~= '' and epoch ~= ARGV[4] then start = '-' end
local from = start
if string.sub(from, 1, 1) == '(' then from = string.sub(from, 2) end
if from == '+' or (last and from ~= '' and from ~= '-' and later(from, last)) then
  start = '-'
end
local entries = {}
if start ~= '' then entries = redis.call('XRANGE', KEYS[1], start, '+') end
return {epoch, redis.call('HGET', KEYS[2], 'trimmed'), last, born, entries}
";

/// Whether a script may run again after its connection failed: reads may, a publish may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    Once,
    Never,
}

pub(crate) struct RedisEngine {
    shared: Arc<Shared>,
    publish: Script,
    read: Script,
}

/// What the reader task shares with the engine.
struct Shared {
    client: Client,
    config: HubConfig,
    epoch_key: String,
    topic_prefix: String,
    meta_prefix: String,
    /// This node's wake-up stream: an entry in it ends the reader's blocking read early.
    wake_key: String,
    commands: tokio::sync::Mutex<Commands>,
    topics: Mutex<HashMap<Arc<str>, LocalTopic>>,
    /// The epoch of the history the reader dispatches from, once known.
    epoch: Mutex<Option<u32>>,
    reader_started: std::sync::Once,
    topic_added: Notify,
}

#[derive(Default)]
struct Commands {
    connection: Option<MultiplexedConnection>,
    failed_at: Option<Instant>,
    /// Whether a connection was ever made, so the next one counts as a reconnect.
    connected_before: bool,
}

struct LocalTopic {
    sender: broadcast::Sender<Signal>,
    /// The last stream id dispatched to this node's subscribers; `None` until the first
    /// subscriber's history read says where to start.
    position: Option<Position>,
    /// The history `position` belongs to: after Redis lost its data, ids start again and may
    /// be below it.
    epoch: u32,
}

fn unavailable(error: RedisError) -> Error {
    Error::unavailable(error)
}

impl RedisEngine {
    pub(crate) fn new(url: &str, config: HubConfig) -> Result<Self> {
        let client = Client::open(url).map_err(|e| {
            Error::unavailable(e).with_status(http::StatusCode::INTERNAL_SERVER_ERROR)
        })?;
        let prefix = config.redis_prefix.clone();
        Ok(RedisEngine {
            shared: Arc::new(Shared {
                client,
                epoch_key: format!("{prefix}:epoch"),
                topic_prefix: format!("{prefix}:topic:"),
                meta_prefix: format!("{prefix}:meta:"),
                wake_key: format!("{prefix}:wake:{:08x}", new_epoch()),
                config,
                commands: tokio::sync::Mutex::new(Commands::default()),
                topics: Mutex::new(HashMap::new()),
                epoch: Mutex::new(None),
                reader_started: std::sync::Once::new(),
                topic_added: Notify::new(),
            }),
            publish: Script::new(&format!("{PRELUDE}{PUBLISH}")),
            read: Script::new(&format!("{PRELUDE}{READ}")),
        })
    }

    pub(crate) async fn publish(
        &self,
        topic: &str,
        event: Option<Box<str>>,
        data: Box<str>,
    ) -> Result<EventId> {
        let shared = &self.shared;
        let mut invocation = shared.script_keys(&self.publish, topic);
        invocation
            .arg(format!("{:08x}", new_epoch()))
            .arg(event.as_deref().unwrap_or(""))
            .arg(&*data);
        // Never sent twice: a publish whose reply was lost may have been stored.
        let (epoch, id): (String, String) = shared.invoke(&invocation, Retry::Never).await?;
        event_id(&epoch, &id).ok_or_else(|| Error::msg(format!("unexpected Redis id {epoch} {id}")))
    }

    pub(crate) async fn subscribe(
        &self,
        topic: &str,
        since: Since,
    ) -> Result<(broadcast::Receiver<Signal>, Replay, Arc<str>)> {
        let shared = &self.shared;
        if !shared.reader_started.is_completed() {
            let weak = Arc::downgrade(shared);
            shared
                .reader_started
                .call_once(|| drop(tokio::spawn(read_forever(weak))));
        }
        // Registered before the history is read: whatever is published after the read reaches
        // this receiver.
        let (receiver, key) = {
            let mut topics = lock(&shared.topics);
            if let Some((key, local)) = topics.get_key_value(topic) {
                (local.sender.subscribe(), key.clone())
            } else {
                let key: Arc<str> = topic.into();
                let sender = broadcast::channel(shared.config.subscriber_queue.max(1)).0;
                let receiver = sender.subscribe();
                topics.insert(
                    key.clone(),
                    LocalTopic {
                        sender,
                        position: None,
                        epoch: 0,
                    },
                );
                (receiver, key)
            }
        };
        let (start, after) = match since {
            Since::Now => (String::new(), None),
            Since::Beginning => ("-".to_owned(), None),
            Since::After(id) => (exclusive(id.position), Some(id)),
        };
        let mut snapshot = self.read(topic, &start, after).await?;
        let (became_known, position) = {
            let mut topics = lock(&shared.topics);
            match topics.get_mut(topic) {
                Some(local) if local.position.is_none() => {
                    local.position = Some(snapshot.last.unwrap_or_default());
                    local.epoch = snapshot.epoch.unwrap_or_default();
                    (true, local.position)
                }
                Some(local) if Some(local.epoch) == snapshot.epoch => (false, local.position),
                _ => (false, None),
            }
        };
        if became_known {
            shared.wake_reader().await;
        } else if position > snapshot.last {
            // Another first subscriber set where this node reads from, after a read newer than
            // this one: what lies between was in neither read nor is it coming. Read it.
            if let Some(epoch) = snapshot.epoch {
                let last = snapshot.last.unwrap_or_default();
                let between = EventId {
                    epoch,
                    position: last,
                };
                let more = self.read(topic, &exclusive(last), Some(between)).await?;
                snapshot.events.extend(more.events);
            }
        }
        let replay = match since {
            Since::Now => Replay {
                gap: false,
                head: snapshot.epoch.map(|epoch| EventId {
                    epoch,
                    position: snapshot.last.unwrap_or_default(),
                }),
                events: snapshot.events,
            },
            Since::Beginning => snapshot.replay(None, false),
            Since::After(id) => snapshot.replay(Some(id), true),
        };
        Ok((receiver, replay, key))
    }

    pub(crate) fn subscribers(&self, topic: &str) -> usize {
        lock(&self.shared.topics)
            .get(topic)
            .map_or(0, |local| local.sender.receiver_count())
    }

    pub(crate) async fn recover(&self, topic: &str, after: Option<EventId>) -> Replay {
        let start = after.map_or_else(|| "-".to_owned(), |id| exclusive(id.position));
        match self.read(topic, &start, after).await {
            Ok(snapshot) => snapshot.replay(after, false),
            Err(error) => {
                tracing::warn!(topic, %error, "broadcast: could not read the history to catch a subscriber up");
                Replay {
                    gap: true,
                    events: Vec::new(),
                    head: after,
                }
            }
        }
    }

    async fn read(&self, topic: &str, start: &str, after: Option<EventId>) -> Result<Snapshot> {
        let shared = &self.shared;
        let expected = after.map_or_else(String::new, |id| format!("{:08x}", id.epoch));
        let mut invocation = shared.script_keys(&self.read, topic);
        invocation
            .arg(start)
            .arg(expected)
            .arg(format!("{:08x}", new_epoch()));
        let (epoch, trimmed, last, born, entries): (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            StreamRangeReply,
        ) = shared.invoke(&invocation, Retry::Once).await?;
        Ok(Snapshot {
            epoch: epoch.as_deref().and_then(parse_epoch),
            trimmed: trimmed.as_deref().and_then(parse_position),
            last: last.as_deref().and_then(parse_position),
            born: born.as_deref().and_then(parse_position),
            events: entries.ids.iter().filter_map(to_event).collect(),
        })
    }
}

/// One atomic read of a topic's history.
struct Snapshot {
    epoch: Option<u32>,
    trimmed: Option<Position>,
    last: Option<Position>,
    /// The first id of a topic that Redis had forgotten entirely (or never had): ids before
    /// it may have missed anything.
    born: Option<Position>,
    events: Vec<Arc<BroadcastEvent>>,
}

impl Snapshot {
    /// The replay after `after`: a gap if `after` is of another history, past the end of
    /// this one, or older than what was trimmed. A topic that Redis no longer knows at all
    /// (quiet for twice the history's age) is a gap too: nothing says what it lost.
    ///
    /// A client `resuming` from an id before the topic was born again (Redis had forgotten it
    /// altogether) is told of a gap too; a live subscription catching up is not, since its
    /// position may be the synthetic start of a topic that had no event yet.
    fn replay(self, after: Option<EventId>, resuming: bool) -> Replay {
        let gap = after.is_some_and(|id| {
            self.epoch != Some(id.epoch)
                || self.last.is_none_or(|last| id.position > last)
                || self.trimmed.is_some_and(|trimmed| trimmed > id.position)
                || (resuming && self.born.is_some_and(|born| born > id.position))
        });
        let start = self.epoch.map(|epoch| EventId {
            epoch,
            position: self.trimmed.unwrap_or_default(),
        });
        Replay {
            gap,
            events: self.events,
            head: if gap { start } else { after.or(start) },
        }
    }
}

impl Shared {
    fn stream_key(&self, topic: &str) -> String {
        format!("{}{topic}", self.topic_prefix)
    }

    /// The keys both scripts take: the stream, its meta hash, the epoch.
    fn script_keys<'a>(&self, script: &'a Script, topic: &str) -> redis::ScriptInvocation<'a> {
        let mut invocation = script.key(self.stream_key(topic));
        invocation
            .key(format!("{}{topic}", self.meta_prefix))
            .key(&self.epoch_key)
            .arg(self.config.history_events.max(1))
            .arg(age_ms(&self.config));
        invocation
    }

    /// The command connection, made if there is none (at most one attempt per
    /// [`FAIL_FAST`], so a Redis outage fails calls at once instead of queueing them).
    async fn connection(&self) -> Result<(MultiplexedConnection, bool)> {
        let mut commands = self.commands.lock().await;
        if let Some(connection) = &commands.connection {
            return Ok((connection.clone(), false));
        }
        if commands
            .failed_at
            .is_some_and(|at| at.elapsed() < FAIL_FAST)
        {
            return Err(Error::unavailable("Redis is unreachable (reconnecting)"));
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        match self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(connection) => {
                if commands.connected_before {
                    stats::redis_reconnected();
                }
                commands.connected_before = true;
                commands.failed_at = None;
                commands.connection = Some(connection.clone());
                Ok((connection, true))
            }
            Err(error) => {
                commands.failed_at = Some(Instant::now());
                Err(unavailable(error))
            }
        }
    }

    /// Runs a script. A failure other than Redis refusing the command drops the connection,
    /// so the next call makes a new one; with [`Retry::Once`], when the connection was an old
    /// one (Redis restarted since it was made), the script is tried once more on a new one.
    async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
        retry: Retry,
    ) -> Result<T> {
        loop {
            let (mut connection, fresh) = self.connection().await?;
            match invocation.invoke_async(&mut connection).await {
                Ok(value) => return Ok(value),
                Err(error) if matches!(error.kind(), redis::ErrorKind::Server(_)) => {
                    return Err(unavailable(error));
                }
                Err(error) => {
                    self.commands.lock().await.connection = None;
                    if fresh || retry == Retry::Never || error.is_timeout() {
                        return Err(unavailable(error));
                    }
                }
            }
        }
    }

    /// Ends the reader's blocking read, so a new topic is read from now on.
    async fn wake_reader(&self) {
        self.topic_added.notify_one();
        let Ok((mut connection, _)) = self.connection().await else {
            return;
        };
        let wake: redis::RedisResult<()> = redis::pipe()
            .cmd("XADD")
            .arg(&self.wake_key)
            .arg("MAXLEN")
            .arg(1)
            .arg("*")
            .arg("w")
            .arg(1)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&self.wake_key)
            .arg(READ_BLOCK_MS * 10)
            .ignore()
            .query_async(&mut connection)
            .await;
        // Without it the topic is still read, after at most one blocking read.
        if wake.is_err() {
            self.commands.lock().await.connection = None;
        }
    }

    /// The streams to read and where from; forgets topics nobody here listens to.
    fn reading_set(&self) -> (Vec<String>, Vec<String>) {
        let mut topics = lock(&self.topics);
        topics.retain(|_, local| local.sender.receiver_count() > 0);
        let mut keys = vec![self.wake_key.clone()];
        let mut ids = vec!["$".to_owned()];
        for (topic, local) in topics.iter() {
            if let Some(position) = local.position {
                keys.push(self.stream_key(topic));
                ids.push(format!("{}-{}", position.major, position.minor));
            }
        }
        (keys, ids)
    }

    /// Sends what was read to the node's subscribers, in order. An entry whose `p` (the id
    /// before it) is not the last one this node saw means entries were trimmed before this
    /// node read them: the topic's subscribers are told to check the history.
    ///
    /// Stops, returning `false`, at an entry of another epoch than the one known, so that the
    /// reader reads the epoch from Redis (it changed, or the entry is stale) and reads the
    /// entry again; with `verified` (the epoch was just read), such entries are skipped.
    fn dispatch(&self, reply: StreamReadReply, verified: bool) -> bool {
        let known = {
            let mut known = lock(&self.epoch);
            if known.is_none() {
                // Connected before Redis had an epoch: the first one seen is it.
                *known = reply
                    .keys
                    .iter()
                    .flat_map(|stream| &stream.ids)
                    .find_map(to_event)
                    .map(|event| event.id().epoch);
            }
            *known
        };
        for stream in reply.keys {
            let Some(topic) = stream.key.strip_prefix(&self.topic_prefix) else {
                continue;
            };
            let mut topics = lock(&self.topics);
            let Some(local) = topics.get_mut(topic) else {
                continue;
            };
            for entry in &stream.ids {
                let Some(position) = parse_position(&entry.id) else {
                    continue;
                };
                if local.position.is_some_and(|p| p >= position) {
                    continue;
                }
                let event = to_event(entry);
                if let Some(event) = &event {
                    let epoch = event.id().epoch;
                    if known.is_some_and(|known| known != epoch) {
                        if !verified {
                            return false;
                        }
                        local.position = Some(position);
                        continue;
                    }
                    if local.epoch != epoch {
                        // Where this node read from belongs to a history Redis lost: every
                        // subscriber re-reads the new one after a gap.
                        local.epoch = epoch;
                        local.position = Some(Position::default());
                        let _ = local.sender.send(Signal::Reset);
                    }
                }
                let previous = field(entry, "p").as_deref().and_then(parse_position);
                if local.position.zip(previous).is_some_and(|(p, q)| p != q) {
                    let _ = local.sender.send(Signal::Missed);
                }
                local.position = Some(position);
                // Anything else in the stream (written by another program) is skipped.
                if let Some(event) = event {
                    let _ = local.sender.send(Signal::Event(event));
                }
            }
        }
        true
    }

    /// Notes the epoch Redis holds now (read from its key). Every topic whose position
    /// belongs to another history (Redis lost its data: ids start again, maybe below it) is
    /// read again from its start, and its subscribers told to re-read it after a gap.
    fn adopt_epoch(&self, epoch: Option<u32>) {
        *lock(&self.epoch) = epoch;
        let current = epoch.unwrap_or_default();
        let mut reset = false;
        for local in lock(&self.topics).values_mut() {
            if local.position.is_some() && local.epoch != current {
                local.position = Some(Position::default());
                local.epoch = current;
                let _ = local.sender.send(Signal::Reset);
                reset = true;
            }
        }
        if reset {
            tracing::warn!("broadcast: the Redis history was replaced; subscribers get a reset");
        }
    }
}

/// The reader task: one blocking read at a time over every topic with subscribers here,
/// reconnecting forever. Ends when the hub is dropped.
async fn read_forever(shared: Weak<Shared>) {
    let mut connection: Option<MultiplexedConnection> = None;
    let mut backoff = BACKOFF_START;
    let mut lost = false;
    // The epoch was just read from Redis: entries of another one are stale, not news.
    let mut verified = false;
    loop {
        let Some(hub) = shared.upgrade() else {
            return;
        };
        let conn = match &mut connection {
            Some(conn) => conn,
            None => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(
                        Duration::from_millis(READ_BLOCK_MS) + RESPONSE_TIMEOUT,
                    ));
                let made = hub
                    .client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await;
                let epoch = match made {
                    Ok(mut conn) => {
                        let epoch: redis::RedisResult<Option<String>> = redis::cmd("GET")
                            .arg(&hub.epoch_key)
                            .query_async(&mut conn)
                            .await;
                        epoch.map(|epoch| (conn, epoch))
                    }
                    Err(error) => Err(error),
                };
                match epoch {
                    Ok((conn, epoch)) => {
                        if lost {
                            stats::redis_reconnected();
                            tracing::info!("broadcast: reconnected to Redis");
                        }
                        hub.adopt_epoch(epoch.as_deref().and_then(parse_epoch));
                        verified = true;
                        connection.insert(conn)
                    }
                    Err(error) => {
                        if !lost {
                            tracing::warn!(%error, "broadcast: lost Redis; reconnecting");
                        }
                        lost = true;
                        drop(hub);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(BACKOFF_CAP);
                        continue;
                    }
                }
            }
        };
        let (keys, ids) = hub.reading_set();
        if keys.len() == 1 {
            // Nothing to read yet: wait for a subscriber, looking again now and then in case
            // the hub was dropped.
            let added = hub.topic_added.notified();
            let _ = tokio::time::timeout(Duration::from_millis(READ_BLOCK_MS), added).await;
            continue;
        }
        let read: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(READ_COUNT)
            .arg("BLOCK")
            .arg(READ_BLOCK_MS)
            .arg("STREAMS")
            .arg(&keys)
            .arg(&ids)
            .query_async(conn)
            .await;
        match read {
            Ok(reply) => {
                // Reset only by a read that worked: an error that comes back on every read
                // (a key of another type, a missing permission) must not spin.
                backoff = BACKOFF_START;
                // A read that found nothing also checks the epoch: after Redis lost its data,
                // new ids may not be above this node's positions, so no entry would tell.
                let dispatched = reply.is_some_and(|reply| hub.dispatch(reply, verified));
                verified = false;
                if !dispatched {
                    // An entry of another epoch, or a quiet second: read the epoch.
                    let epoch: redis::RedisResult<Option<String>> = redis::cmd("GET")
                        .arg(&hub.epoch_key)
                        .query_async(conn)
                        .await;
                    match epoch {
                        Ok(epoch) => {
                            hub.adopt_epoch(epoch.as_deref().and_then(parse_epoch));
                            verified = true;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "broadcast: lost Redis; reconnecting");
                            lost = true;
                            connection = None;
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "broadcast: Redis read failed; reconnecting");
                lost = true;
                connection = None;
                drop(hub);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_CAP);
            }
        }
    }
}

/// The history's age in ms, at most about a century: the scripts count in Lua numbers.
fn age_ms(config: &HubConfig) -> u64 {
    const CENTURY_MS: u64 = 100 * 366 * 24 * 60 * 60 * 1000;
    u64::try_from(config.history_age.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, CENTURY_MS)
}

/// XRANGE's start for what follows `position`: `(ms-seq`, or the next millisecond's first
/// id where `seq` is the largest (Redis refuses `(ms-<max>`), or past everything.
fn exclusive(position: Position) -> String {
    match (position.major, position.minor) {
        (major, minor) if minor < u64::MAX => format!("({major}-{minor}"),
        (major, _) if major < u64::MAX => format!("{}-0", major + 1),
        _ => "+".to_owned(),
    }
}

fn parse_epoch(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 16).ok()
}

fn parse_position(text: &str) -> Option<Position> {
    let (major, minor) = text.split_once('-')?;
    Some(Position {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
    })
}

fn event_id(epoch: &str, id: &str) -> Option<EventId> {
    Some(EventId {
        epoch: parse_epoch(epoch)?,
        position: parse_position(id)?,
    })
}

/// A field of an entry, as text.
fn field(entry: &StreamId, name: &str) -> Option<String> {
    match entry.map.get(name)? {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}

/// An entry as the publish script wrote it; anything else in the stream is skipped.
fn to_event(entry: &StreamId) -> Option<Arc<BroadcastEvent>> {
    let id = event_id(&field(entry, "h")?, &entry.id)?;
    Some(BroadcastEvent::new(
        id,
        field(entry, "e").map(String::into_boxed_str),
        field(entry, "d")?.into_boxed_str(),
    ))
}
