//! An incremental decoder of a chunked HTTP/1.1 body: the raw-TCP clients of the
//! cross-process benchmarks decode as bytes arrive, without an HTTP client's allocations.

/// Where the chunked decoder is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Before the first digit of a chunk-size line.
    #[default]
    Start,
    /// In a chunk-size line, its value so far; `true` once in its extensions.
    Size(usize, bool),
    SizeLf(usize),
    Data(usize),
    DataCr,
    DataLf,
    /// After the last chunk's size line: no trailers, so `\r\n` and the body is over.
    LastCr,
    LastLf,
    Done,
}

/// Decodes a chunked HTTP/1.1 body (without trailers) incrementally, as bytes arrive.
#[derive(Debug, Default)]
pub struct Chunked {
    state: State,
    /// Chunks begun, the last (empty) one not counted.
    pub chunks: u64,
    /// Bytes of the decoded body.
    pub body_bytes: u64,
}

impl Chunked {
    /// Decodes the bytes of one `read`, appending the body's bytes to `body`.
    pub fn push(&mut self, mut input: &[u8], body: &mut Vec<u8>) -> Result<(), &'static str> {
        while let Some((&byte, rest)) = input.split_first() {
            self.state = match self.state {
                State::Start => State::Size(hex(byte).ok_or("bad chunk size")?, false),
                State::Size(size, false) if hex(byte).is_some() => State::Size(
                    size.checked_mul(16).ok_or("chunk too large")? + hex(byte).unwrap_or(0),
                    false,
                ),
                State::Size(size, _) if byte == b'\r' => State::SizeLf(size),
                State::Size(size, _) if byte == b';' => State::Size(size, true),
                State::Size(size, true) => State::Size(size, true),
                State::Size(..) => return Err("bad chunk size"),
                State::SizeLf(0) if byte == b'\n' => State::LastCr,
                State::SizeLf(size) if byte == b'\n' => {
                    self.chunks += 1;
                    State::Data(size)
                }
                State::SizeLf(_) => return Err("bad chunk size line"),
                State::Data(left) => {
                    let take = left.min(input.len());
                    body.extend_from_slice(&input[..take]);
                    self.body_bytes += take as u64;
                    input = &input[take..];
                    self.state = if take == left {
                        State::DataCr
                    } else {
                        State::Data(left - take)
                    };
                    continue;
                }
                State::DataCr if byte == b'\r' => State::DataLf,
                State::DataLf if byte == b'\n' => State::Start,
                State::DataCr | State::DataLf => return Err("bad chunk end"),
                State::LastCr if byte == b'\r' => State::LastLf,
                State::LastLf if byte == b'\n' => State::Done,
                State::LastCr | State::LastLf => return Err("bad end of the body"),
                State::Done => return Err("bytes after the end of the body"),
            };
            input = rest;
        }
        Ok(())
    }

    /// The last chunk has begun: no more of the body will come.
    #[allow(dead_code)] // `bench_fanout` asks this, `bench` asks `is_done`
    pub fn is_last(&self) -> bool {
        matches!(self.state, State::LastCr | State::LastLf | State::Done)
    }

    /// The body is over, its final `\r\n` read.
    #[allow(dead_code)] // `bench` asks this, `bench_fanout` asks `is_last`
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }
}

fn hex(byte: u8) -> Option<usize> {
    (byte as char).to_digit(16).map(|d| d as usize)
}
