//! The reader task: one blocking `XREAD` at a time over every topic this node has
//! subscribers for, on a connection of its own (a blocking read would stall every other
//! command on a shared one), reconnecting forever.

use std::sync::Weak;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;
use redis::{Client, RedisResult};

use super::connection::{Commands, RESPONSE_TIMEOUT, connection_config};
use super::keys::Keys;
use super::stream_id::parse_epoch;
use super::topics::Topics;
use crate::stats;

/// How long one `XREAD` blocks, in ms; a new topic also ends it early, through the wake-up
/// stream.
const READ_BLOCK_MS: u64 = 1000;
/// Entries read per topic per `XREAD`.
const READ_COUNT: usize = 1000;
const BACKOFF_START: Duration = Duration::from_millis(50);
const BACKOFF_CAP: Duration = Duration::from_secs(2);

pub(super) struct Reader {
    /// Weak, so the task ends when the hub is dropped.
    topics: Weak<Topics>,
    client: Client,
    keys: Keys,
    connection: Option<MultiplexedConnection>,
    backoff: Duration,
    /// Whether a connection failed before, so the next one made counts as a reconnect.
    lost: bool,
    /// The epoch was just read from Redis: entries of another one are stale, not news.
    verified: bool,
}

impl Reader {
    pub(super) fn spawn(topics: Weak<Topics>, client: Client, keys: Keys) {
        let reader = Reader {
            topics,
            client,
            keys,
            connection: None,
            backoff: BACKOFF_START,
            lost: false,
            verified: false,
        };
        drop(tokio::spawn(reader.run()));
    }

    async fn run(mut self) {
        loop {
            let Some(topics) = self.topics.upgrade() else {
                return;
            };
            let read = self.read(&topics).await;
            drop(topics);
            if let Err(error) = read {
                self.reconnect(error).await;
            }
        }
    }

    /// One round: connects if it must, then reads and dispatches what is new. A read that
    /// found nothing also checks the epoch: after Redis lost its data, new ids may not be
    /// above this node's cursors, so no entry would tell.
    async fn read(&mut self, topics: &Topics) -> RedisResult<()> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => {
                let mut connection = self
                    .client
                    .get_multiplexed_async_connection_with_config(&connection_config(
                        Duration::from_millis(READ_BLOCK_MS) + RESPONSE_TIMEOUT,
                    ))
                    .await?;
                let epoch = read_epoch(&mut connection, &self.keys).await?;
                if self.lost {
                    stats::redis_reconnected();
                    tracing::info!("broadcast: reconnected to Redis");
                }
                topics.adopt_epoch(epoch);
                self.verified = true;
                self.connection.insert(connection)
            }
        };
        let (streams, ids) = topics.reading_set(&self.keys);
        if streams.len() == 1 {
            // Nothing to read but the wake-up stream: wait for a topic, looking again now and
            // then in case the hub was dropped.
            let _ =
                tokio::time::timeout(Duration::from_millis(READ_BLOCK_MS), topics.started()).await;
            return Ok(());
        }
        let reply: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(READ_COUNT)
            .arg("BLOCK")
            .arg(READ_BLOCK_MS)
            .arg("STREAMS")
            .arg(&streams)
            .arg(&ids)
            .query_async(connection)
            .await?;
        // Reset only by a read that worked: an error that comes back on every read (a key of
        // another type, a missing permission) must not spin.
        self.backoff = BACKOFF_START;
        let dispatched =
            reply.is_some_and(|reply| topics.dispatch(reply, self.verified, &self.keys));
        self.verified = false;
        if !dispatched {
            // An entry of another epoch, or a quiet read.
            topics.adopt_epoch(read_epoch(connection, &self.keys).await?);
            self.verified = true;
        }
        Ok(())
    }

    /// The one way back from any failure: forget the connection, wait, and make a new one on
    /// the next round, waiting twice as long each time up to [`BACKOFF_CAP`].
    async fn reconnect(&mut self, error: redis::RedisError) {
        // Once per outage: connection attempts that keep failing are not news.
        if self.connection.take().is_some() || !self.lost {
            tracing::warn!(%error, "broadcast: lost Redis; reconnecting");
        }
        self.lost = true;
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(BACKOFF_CAP);
    }
}

/// The epoch Redis holds now, if it has one. A Redis still loading its data refuses the
/// read (`-LOADING`, an error like any other here), so this never sees a dataset half loaded.
async fn read_epoch(
    connection: &mut MultiplexedConnection,
    keys: &Keys,
) -> RedisResult<Option<u32>> {
    let epoch: Option<String> = redis::cmd("GET")
        .arg(&keys.epoch)
        .query_async(connection)
        .await?;
    Ok(epoch.as_deref().and_then(parse_epoch))
}

/// Ends the reader's blocking read, so a new topic is read from now on. Without it the topic
/// is still read, after at most one blocking read.
pub(super) async fn wake(commands: &Commands, keys: &Keys) {
    let Ok((mut connection, _)) = commands.connection().await else {
        return;
    };
    let woken: RedisResult<()> = redis::pipe()
        .cmd("XADD")
        .arg(&keys.wake)
        .arg("MAXLEN")
        .arg(1)
        .arg("*")
        .arg("w")
        .arg(1)
        .ignore()
        .cmd("PEXPIRE")
        .arg(&keys.wake)
        .arg(READ_BLOCK_MS * 10)
        .ignore()
        .query_async(&mut connection)
        .await;
    if woken.is_err() {
        commands.forget().await;
    }
}
