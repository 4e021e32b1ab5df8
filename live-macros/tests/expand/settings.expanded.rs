pub struct FormsController;
impl FormsController {
    /// GET /forms/new, allowed past clippy's `new_ret_no_self`
    #[allow(clippy::new_ret_no_self)]
    pub async fn new(&self) -> &'static str {
        "form"
    }
}
impl ::live_runtime::__private::Controller for FormsController {
    type State = ();
    const ROUTES: &'static [::live_runtime::__private::Route] = &[
        ::live_runtime::__private::Route {
            method: "GET",
            path: "/forms/new",
            controller: "FormsController",
            action: "new",
        },
    ];
    fn into_router(self) -> ::live_runtime::__private::axum::Router<()> {
        static __LIVE_CONFIG: ::live_runtime::__private::LazyLock<
            ::live_runtime::__private::LiveConfig,
        > = ::live_runtime::__private::LazyLock::new(|| ::live_runtime::__private::LiveConfig::new());
        const __LIVE_CONTROLLER: &str = "FormsController";
        let __controller = ::live_runtime::__private::Arc::new(self);
        let __live_new = {
            let __controller = ::live_runtime::__private::Arc::clone(&__controller);
            move |
                ::live_runtime::__private::axum::extract::State(
                    __state,
                ): ::live_runtime::__private::axum::extract::State<()>,
                __request: ::live_runtime::__private::axum::extract::Request|
            async move {
                let __accept = ::live_runtime::__private::accept(&__request);
                let _ = __request;
                let __output = {
                    let __action = __controller.new();
                    ::live_runtime::__private::check_send(__action).await
                };
                ::live_runtime::__private::render_error(
                    ::live_runtime::__private::ActionResponse::into_action_response(
                        __output,
                    ),
                    __accept.as_ref(),
                    &__LIVE_CONFIG,
                )
            }
        };
        ::live_runtime::__private::axum::Router::new()
            .route(
                "/forms/new",
                ::live_runtime::__private::axum::routing::MethodRouter::new()
                    .on(
                        ::live_runtime::__private::axum::routing::MethodFilter::GET,
                        ::core::clone::Clone::clone(&__live_new),
                    ),
            )
    }
}
pub struct FeedController;
impl FeedController {
    /// OPTIONS /feed
    pub async fn feed(&self, State(state): State<AppState>, live: Live) {
        let _ = (state, live);
    }
}
impl ::live_runtime::__private::Controller for FeedController {
    type State = AppState;
    const ROUTES: &'static [::live_runtime::__private::Route] = &[
        ::live_runtime::__private::Route {
            method: "OPTIONS",
            path: "/feed",
            controller: "FeedController",
            action: "feed",
        },
    ];
    fn into_router(self) -> ::live_runtime::__private::axum::Router<AppState> {
        static __LIVE_CONFIG: ::live_runtime::__private::LazyLock<
            ::live_runtime::__private::LiveConfig,
        > = ::live_runtime::__private::LazyLock::new(|| {
            ::live_runtime::__private::LiveConfig::new()
                .buffer(::live_runtime::__private::Buffer::Unbounded)
                .write_timeout(::core::option::Option::None)
                .coalesce_bytes(65536)
                .error_renderer(pages::render)
                .html_error_snippet(true)
                .clean_end_on_error(false)
                .cancel_on_disconnect(true)
        });
        const __LIVE_CONTROLLER: &str = "FeedController";
        let __controller = ::live_runtime::__private::Arc::new(self);
        let __live_feed = {
            let __controller = ::live_runtime::__private::Arc::clone(&__controller);
            move |
                ::live_runtime::__private::axum::extract::State(
                    __state,
                ): ::live_runtime::__private::axum::extract::State<AppState>,
                __request: ::live_runtime::__private::axum::extract::Request|
            async move {
                let __answer = {
                    let (__parts, __body) = __request.into_parts();
                    let __live_request = ::live_runtime::__private::live_request(
                        &__parts,
                    );
                    let __arg0 = match <State<
                        AppState,
                    > as ::live_runtime::__private::LastArgument<
                        _,
                        AppState,
                    >>::extract(
                            ::live_runtime::__private::axum::extract::Request::from_parts(
                                __parts,
                                __body,
                            ),
                            &__state,
                        )
                        .await
                    {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(rejection) => return rejection,
                    };
                    __live_request
                        .with_config(&__LIVE_CONFIG)
                        .named(__LIVE_CONTROLLER, "feed")
                        .spawn(move |__live_handle| async move {
                            let __action = __controller.feed(__arg0, __live_handle);
                            ::live_runtime::__private::check_send(__action).await
                        })
                };
                __answer.await
            }
        };
        ::live_runtime::__private::axum::Router::new()
            .route(
                "/feed",
                ::live_runtime::__private::axum::routing::MethodRouter::new()
                    .on(
                        ::live_runtime::__private::axum::routing::MethodFilter::OPTIONS,
                        ::core::clone::Clone::clone(&__live_feed),
                    ),
            )
    }
}
