// A typical controller: derived routes, attribute routes, extractors, live and ordinary
// actions, controller settings, a private helper.
#[live_controller(path = "/api/stocks", buffer = 32, write_timeout_ms = 5000, exclude_locals(TENANT))]
impl StocksController {
    /// GET /api/stocks
    pub async fn index(&self) -> &'static str {
        "stocks"
    }

    /// GET /api/stocks/{id}
    pub async fn show(&self, Path(id): Path<u32>, live: Live) -> live_runtime::Result {
        let mut stream = live.stream();
        stream.write(format!("stock {id}")).await?;
        Ok(())
    }

    /// PATCH and PUT /api/stocks/{id}, the body last
    pub async fn update(&self, Path(id): Path<u32>, live: Live, Json(body): Json<Update>) -> live_runtime::Result {
        self.log(id);
        live.json(&body)
    }

    /// POST /api/stocks/prices
    #[post("/prices")]
    pub async fn prices(&self, headers: HeaderMap, live: Live) {
        let _ = (headers, live);
    }

    fn log(&self, id: u32) {
        let _ = id;
    }
}
