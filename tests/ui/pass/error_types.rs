// Test: a live action returns `anyhow::Result`, `eyre::Result`, a boxed error, an error type
// of the app's own or a `String` (boxed as std boxes it); `?` converts `anyhow::Error` and `eyre::Report` into `live_runtime::Error`
// and `live_runtime::Error` into each of them.
use live_runtime::prelude::*;

#[derive(Debug)]
pub struct Missing;

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("missing")
    }
}

impl std::error::Error for Missing {}

pub struct ReportsController;

#[live_controller]
impl ReportsController {
    pub async fn anyhow(&self, live: Live) -> anyhow::Result<()> {
        live.stream().write("a").await?;
        Ok(())
    }

    pub async fn eyre(&self, live: Live) -> eyre::Result<()> {
        live.stream().write("a").await?;
        Ok(())
    }

    pub async fn boxed(&self, live: Live) -> Result<(), live_runtime::BoxError> {
        live.stream().write("a").await?;
        Ok(())
    }

    pub async fn custom(&self, live: Live) -> Result<(), Missing> {
        let _ = live;
        Err(Missing)
    }

    pub async fn message(&self, live: Live) -> Result<(), String> {
        drop(live);
        Err("failed".to_owned())
    }

    pub async fn into_live(&self, live: Live) -> live_runtime::Result {
        let a: anyhow::Result<()> = Ok(());
        a?;
        let e: eyre::Result<()> = Ok(());
        e?;
        live.stream().write("a").await?;
        Ok(())
    }
}

fn main() {}
