//! What a hub holds now, as its engine counts it.

/// The topics a hub holds and roughly the memory they take: see [`Hub::usage`](super::Hub::usage).
///
/// A topic is held while it retains events (until they age out, after
/// [`history_age`](super::HubConfig::history_age)) or has subscribers on this node; one that
/// has neither is freed, and with it its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct HubUsage {
    /// Topics held now.
    pub topics: usize,
    /// Roughly the bytes the topics take: each one's name and bookkeeping, its queue while it
    /// has subscribers ([`subscriber_queue`](super::HubConfig::subscriber_queue) slots of
    /// about 40 bytes), and each retained event's payload, name and bookkeeping. Not counted:
    /// the subscriptions themselves, and an event's SSE encoding once a subscriber forwarded
    /// it (about its payload again).
    pub retained_bytes: usize,
}
