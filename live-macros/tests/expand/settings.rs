// The settings `stocks.rs` leaves out, each as the `LiveConfig` call it becomes, and a
// controller with none: its type alongside, a bare attribute, Rails' `new`, `#[route]`.
pub struct FormsController;

#[live_controller]
impl FormsController {
    /// GET /forms/new, allowed past clippy's `new_ret_no_self`
    pub async fn new(&self) -> &'static str {
        "form"
    }
}

pub struct FeedController;

#[live_controller(
    state = AppState,
    buffer = unbounded,
    write_timeout_ms = none,
    coalesce_bytes = 65536,
    error_renderer = pages::render,
    html_error_snippet,
    clean_end_on_error = false,
    cancel_on_disconnect = true
)]
impl FeedController {
    /// OPTIONS /feed
    #[route(method = "options", path = "/")]
    pub async fn feed(&self, State(state): State<AppState>, live: Live) {
        let _ = (state, live);
    }
}
