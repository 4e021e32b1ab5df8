//! Whether the tokio runtime has a timer, as write timeouts and keep-alives need.

use std::sync::OnceLock;
use std::time::Duration;

/// Whether the runtime has a timer. A runtime built without `enable_time` makes tokio panic
/// at the first timer; checked once, and then writes simply wait without a timeout (and no
/// keep-alive runs), with a warning instead of a cut-off stream.
pub(crate) fn timers_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        let enabled = std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO))).is_ok();
        if !enabled {
            tracing::warn!(
                "live: the tokio runtime has no timer (built without `enable_time`): \
                 write timeouts are off; build it with `enable_all()` to have them"
            );
        }
        enabled
    })
}
