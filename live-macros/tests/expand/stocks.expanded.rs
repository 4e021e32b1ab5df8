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
    pub async fn update(
        &self,
        Path(id): Path<u32>,
        live: Live,
        Json(body): Json<Update>,
    ) -> live_runtime::Result {
        self.log(id);
        live.json(&body)
    }
    /// POST /api/stocks/prices
    pub async fn prices(&self, headers: HeaderMap, live: Live) {
        let _ = (headers, live);
    }
    fn log(&self, id: u32) {
        let _ = id;
    }
}
impl ::live_runtime::__private::Controller for StocksController {
    type State = ();
    const ROUTES: &'static [::live_runtime::__private::Route] = &[
        ::live_runtime::__private::Route {
            method: "GET",
            path: "/api/stocks",
            controller: "StocksController",
            action: "index",
        },
        ::live_runtime::__private::Route {
            method: "GET",
            path: "/api/stocks/{id}",
            controller: "StocksController",
            action: "show",
        },
        ::live_runtime::__private::Route {
            method: "PATCH",
            path: "/api/stocks/{id}",
            controller: "StocksController",
            action: "update",
        },
        ::live_runtime::__private::Route {
            method: "PUT",
            path: "/api/stocks/{id}",
            controller: "StocksController",
            action: "update",
        },
        ::live_runtime::__private::Route {
            method: "POST",
            path: "/api/stocks/prices",
            controller: "StocksController",
            action: "prices",
        },
    ];
    fn into_router(self) -> ::live_runtime::__private::axum::Router<()> {
        static __LIVE_CONFIG: ::live_runtime::__private::LazyLock<
            ::live_runtime::__private::LiveConfig,
        > = ::live_runtime::__private::LazyLock::new(|| {
            ::live_runtime::__private::LiveConfig::new()
                .exclude_local(::live_runtime::__private::task_local(&TENANT))
                .buffer(::live_runtime::__private::Buffer::Chunks(32))
                .write_timeout(
                    ::core::option::Option::Some(
                        ::live_runtime::__private::Duration::from_millis(5000),
                    ),
                )
        });
        const __LIVE_CONTROLLER: &str = "StocksController";
        let __controller = ::live_runtime::__private::Arc::new(self);
        let __live_index = {
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
                    let __action = __controller.index();
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
        let __live_show = {
            let __controller = ::live_runtime::__private::Arc::clone(&__controller);
            move |
                ::live_runtime::__private::axum::extract::State(
                    __state,
                ): ::live_runtime::__private::axum::extract::State<()>,
                __request: ::live_runtime::__private::axum::extract::Request|
            async move {
                let __answer = {
                    let (__parts, __body) = __request.into_parts();
                    let __live_request = ::live_runtime::__private::live_request(
                        &__parts,
                    );
                    let __arg0 = match <Path<
                        u32,
                    > as ::live_runtime::__private::LastArgument<
                        _,
                        (),
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
                        .named(__LIVE_CONTROLLER, "show")
                        .spawn(move |__live_handle| async move {
                            let __action = __controller.show(__arg0, __live_handle);
                            ::live_runtime::__private::check_send(__action).await
                        })
                };
                __answer.await
            }
        };
        let __live_update = {
            let __controller = ::live_runtime::__private::Arc::clone(&__controller);
            move |
                ::live_runtime::__private::axum::extract::State(
                    __state,
                ): ::live_runtime::__private::axum::extract::State<()>,
                __request: ::live_runtime::__private::axum::extract::Request|
            async move {
                let __answer = {
                    let (mut __parts, __body) = __request.into_parts();
                    let __live_request = ::live_runtime::__private::live_request(
                        &__parts,
                    );
                    let __arg0 = match <Path<
                        u32,
                    > as ::live_runtime::__private::PartsArgument<
                        (),
                    >>::extract(&mut __parts, &__state)
                        .await
                    {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(rejection) => return rejection,
                    };
                    let __arg2 = match <Json<
                        Update,
                    > as ::live_runtime::__private::LastArgument<
                        _,
                        (),
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
                        .named(__LIVE_CONTROLLER, "update")
                        .spawn(move |__live_handle| async move {
                            let __action = __controller
                                .update(__arg0, __live_handle, __arg2);
                            ::live_runtime::__private::check_send(__action).await
                        })
                };
                __answer.await
            }
        };
        let __live_prices = {
            let __controller = ::live_runtime::__private::Arc::clone(&__controller);
            move |
                ::live_runtime::__private::axum::extract::State(
                    __state,
                ): ::live_runtime::__private::axum::extract::State<()>,
                __request: ::live_runtime::__private::axum::extract::Request|
            async move {
                let __answer = {
                    let (__parts, __body) = __request.into_parts();
                    let __live_request = ::live_runtime::__private::live_request(
                        &__parts,
                    );
                    let __arg0 = match <HeaderMap as ::live_runtime::__private::LastArgument<
                        _,
                        (),
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
                        .named(__LIVE_CONTROLLER, "prices")
                        .spawn(move |__live_handle| async move {
                            let __action = __controller.prices(__arg0, __live_handle);
                            ::live_runtime::__private::check_send(__action).await
                        })
                };
                __answer.await
            }
        };
        ::live_runtime::__private::axum::Router::new()
            .route(
                "/api/stocks",
                ::live_runtime::__private::axum::routing::MethodRouter::new()
                    .on(
                        ::live_runtime::__private::axum::routing::MethodFilter::GET,
                        ::core::clone::Clone::clone(&__live_index),
                    ),
            )
            .route(
                "/api/stocks/{id}",
                ::live_runtime::__private::axum::routing::MethodRouter::new()
                    .on(
                        ::live_runtime::__private::axum::routing::MethodFilter::GET,
                        ::core::clone::Clone::clone(&__live_show),
                    )
                    .on(
                        ::live_runtime::__private::axum::routing::MethodFilter::PATCH,
                        ::core::clone::Clone::clone(&__live_update),
                    )
                    .on(
                        ::live_runtime::__private::axum::routing::MethodFilter::PUT,
                        ::core::clone::Clone::clone(&__live_update),
                    ),
            )
            .route(
                "/api/stocks/prices",
                ::live_runtime::__private::axum::routing::MethodRouter::new()
                    .on(
                        ::live_runtime::__private::axum::routing::MethodFilter::POST,
                        ::core::clone::Clone::clone(&__live_prices),
                    ),
            )
    }
}
