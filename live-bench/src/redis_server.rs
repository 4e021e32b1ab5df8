//! A `redis-server` of a benchmark's own, for the runs that measure the Redis engine.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BoxResult;

/// A `redis-server` of the benchmark's own: a free port, a fresh directory, no persistence;
/// stopped when dropped.
pub struct RedisServer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

/// Debian's `redis-server`, or an error that says how to install it.
pub fn redis_server_path() -> BoxResult<PathBuf> {
    let path = PathBuf::from("/usr/bin/redis-server");
    if path.exists() {
        return Ok(path);
    }
    Err(
        "this run needs redis-server at /usr/bin/redis-server (`apt-get install redis-server`)"
            .into(),
    )
}

impl RedisServer {
    /// Starts one and waits until it answers `PING`.
    pub fn start() -> BoxResult<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir =
            std::env::temp_dir().join(format!("live-bench-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let child = Command::new(redis_server_path()?)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()?;
        let redis = RedisServer { child, dir, port };
        // Up once it answers PING.
        let start = Instant::now();
        loop {
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                stream.set_read_timeout(Some(Duration::from_secs(1)))?;
                stream.write_all(b"PING\r\n")?;
                let mut buf = [0u8; 7];
                if stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n" {
                    return Ok(redis);
                }
            }
            if start.elapsed() > Duration::from_secs(10) {
                return Err(format!("redis-server on port {port} did not answer PING").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its process id, to read its CPU time.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its `redis://` URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
