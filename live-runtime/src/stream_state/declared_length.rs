//! A download's declared length: the bytes written against it, and those handed to hyper.

/// A declared body length, checked as the action writes and as the body sends.
pub(super) struct DeclaredLength {
    expected: u64,
    written: u64,
    sent: u64,
}

/// A write or an end that does not match the declared length.
pub(super) struct Mismatch {
    pub(super) expected: u64,
    /// What was written, or would have been with the refused write.
    pub(super) total: u64,
}

impl DeclaredLength {
    pub(super) fn new(expected: u64) -> Self {
        DeclaredLength {
            expected,
            written: 0,
            sent: 0,
        }
    }

    /// Whether `len` more bytes fit.
    pub(super) fn check(&self, len: usize) -> Result<(), Mismatch> {
        let total = self.written + len as u64;
        if total > self.expected {
            return Err(Mismatch {
                expected: self.expected,
                total,
            });
        }
        Ok(())
    }

    /// `len` more bytes were queued.
    pub(super) fn written(&mut self, len: usize) {
        self.written += len as u64;
    }

    /// The stream ends here: short of the declared length, it is a mismatch.
    pub(super) fn check_end(&self) -> Result<(), Mismatch> {
        if self.written < self.expected {
            return Err(Mismatch {
                expected: self.expected,
                total: self.written,
            });
        }
        Ok(())
    }

    /// How many bytes may be sent before the action closes the stream: all but the last
    /// declared byte, so a write past the length can still abort the response.
    pub(super) fn sendable_before_close(&self) -> u64 {
        self.expected.saturating_sub(1).saturating_sub(self.sent)
    }

    /// `len` bytes were handed to hyper.
    pub(super) fn sent(&mut self, len: usize) {
        self.sent += len as u64;
    }
}
