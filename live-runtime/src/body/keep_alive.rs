//! A stream's keep-alive timer: when the body sends keep-alive bytes after a silence.

use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

pin_project_lite::pin_project! {
    /// When a stream's keep-alive is due: `interval` after its last data frame. A frame only
    /// notes its time and the timer is moved when it fires, because moving it on every frame
    /// takes a lock in tokio's timer driver each time.
    pub(super) struct KeepAlive {
        #[pin]
        timer: Sleep,
        // The last frame's time since the timer's start (its deadline less the interval), in
        // milliseconds rounded up; 0 if none went out since.
        last_frame_ms: u32,
    }
}

impl KeepAlive {
    /// A data frame went out: the silence starts again. Nothing to note before the timer
    /// started.
    pub(super) fn frame_sent(slot: Pin<&mut Option<KeepAlive>>, interval: Duration) {
        if let Some(timer) = slot.as_pin_mut() {
            timer.note_frame(interval);
        }
    }

    /// Whether the stream has been silent for `interval`; if not, `cx` is woken when it may
    /// be. The timer starts at the first idle poll: inline in the body (which axum boxes, and
    /// so pins), as every open stream holds one.
    pub(super) fn poll_due(
        mut slot: Pin<&mut Option<KeepAlive>>,
        cx: &mut Context<'_>,
        interval: Duration,
    ) -> bool {
        if slot.is_none() {
            slot.set(Some(KeepAlive {
                timer: tokio::time::sleep(interval),
                last_frame_ms: 0,
            }));
        }
        let timer = slot.as_pin_mut().expect("set above");
        timer.poll_silence(cx, interval)
    }

    fn note_frame(self: Pin<&mut Self>, interval: Duration) {
        let this = self.project();
        let since_start = this
            .timer
            .deadline()
            .checked_sub(interval)
            .map_or(Duration::ZERO, |start| {
                Instant::now().saturating_duration_since(start)
            });
        *this.last_frame_ms =
            u32::try_from(since_start.as_nanos().div_ceil(1_000_000)).unwrap_or(u32::MAX);
    }

    fn poll_silence(self: Pin<&mut Self>, cx: &mut Context<'_>, interval: Duration) -> bool {
        let mut this = self.project();
        while this.timer.as_mut().poll(cx).is_ready() {
            let last_frame = std::mem::take(this.last_frame_ms);
            let silence_began = (last_frame > 0)
                .then(|| this.timer.deadline().checked_sub(interval))
                .flatten()
                .map(|start| start + Duration::from_millis(last_frame.into()));
            match silence_began {
                // A frame went out since: the silence is shorter than it looked.
                Some(began) => this.timer.as_mut().reset(began + interval),
                None => {
                    this.timer.as_mut().reset(Instant::now() + interval);
                    return true;
                }
            }
        }
        false
    }
}
