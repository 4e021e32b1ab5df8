//! The command connection: one multiplexed connection for every publish and history read of
//! the hub, made again on the next call after it failed.

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, FromRedisValue, ScriptInvocation};

use crate::error::{Error, Result};
use crate::stats;

/// How long a command may take before the hub calls Redis unavailable.
pub(super) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// After a failed connection attempt, calls fail at once for this long instead of each
/// waiting for its own attempt.
const FAIL_FAST: Duration = Duration::from_millis(250);

/// The settings of a connection whose replies may take `response_timeout`.
pub(super) fn connection_config(response_timeout: Duration) -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(response_timeout))
}

/// Whether a script may run again after its connection failed: reads may, a publish may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    Once,
    Never,
}

pub(super) struct Commands {
    client: Client,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    connection: Option<MultiplexedConnection>,
    failed_at: Option<Instant>,
    /// Whether a connection was ever made, so the next one counts as a reconnect.
    connected_before: bool,
}

impl Commands {
    pub(super) fn new(client: Client) -> Self {
        Commands {
            client,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// The connection, made if there is none (at most one attempt per [`FAIL_FAST`], so a
    /// Redis outage fails calls at once instead of queueing them), and whether it is new.
    pub(super) async fn connection(&self) -> Result<(MultiplexedConnection, bool)> {
        let mut state = self.state.lock().await;
        if let Some(connection) = &state.connection {
            return Ok((connection.clone(), false));
        }
        if state.failed_at.is_some_and(|at| at.elapsed() < FAIL_FAST) {
            return Err(Error::unavailable("Redis is unreachable (reconnecting)"));
        }
        match self
            .client
            .get_multiplexed_async_connection_with_config(&connection_config(RESPONSE_TIMEOUT))
            .await
        {
            Ok(connection) => {
                if state.connected_before {
                    stats::redis_reconnected();
                }
                state.connected_before = true;
                state.failed_at = None;
                state.connection = Some(connection.clone());
                Ok((connection, true))
            }
            Err(error) => {
                state.failed_at = Some(Instant::now());
                Err(Error::unavailable(error))
            }
        }
    }

    /// Drops the connection after it failed, so the next call makes a new one.
    pub(super) async fn forget(&self) {
        self.state.lock().await.connection = None;
    }

    /// Runs a script. A failure other than Redis refusing the command drops the connection;
    /// with [`Retry::Once`], when the connection was an old one (Redis restarted since it was
    /// made), the script is tried once more on a new one.
    pub(super) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
        retry: Retry,
    ) -> Result<T> {
        loop {
            let (mut connection, fresh) = self.connection().await?;
            match invocation.invoke_async(&mut connection).await {
                Ok(value) => return Ok(value),
                Err(error) if matches!(error.kind(), redis::ErrorKind::Server(_)) => {
                    return Err(Error::unavailable(error));
                }
                Err(error) => {
                    self.forget().await;
                    if fresh || retry == Retry::Never || error.is_timeout() {
                        return Err(Error::unavailable(error));
                    }
                }
            }
        }
    }
}
