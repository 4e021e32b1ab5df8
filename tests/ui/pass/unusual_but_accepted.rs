// Test: forms that are unusual but fine: a raw identifier action (`r#type`, routed as `/type`),
// a lifetime parameter nothing borrows with, `&'static` in a response type, a closure type
// with its own `&str` in an extractor, an impl of a generic type at one concrete type, and a
// controller with no actions.
use std::marker::PhantomData;
use std::sync::Arc;

use axum::Extension;
use live_runtime::prelude::*;

/// A callback an app puts into the request's extensions.
pub type Shout = Arc<dyn Fn(&str) -> String + Send + Sync>;

pub struct KindsController;

#[live_controller]
impl KindsController {
    pub async fn r#type(&self) -> &'static str {
        "type"
    }

    pub async fn tagged<'a>(&self) -> (StatusCode, &'static str) {
        (StatusCode::OK, "tagged")
    }

    pub async fn shout(&self, Extension(shout): Extension<Shout>) -> String {
        shout("hello")
    }
}

pub struct TypedController<T>(PhantomData<T>);

#[live_controller(path = "/typed")]
impl TypedController<u32> {
    pub async fn index(&self) -> &'static str {
        "u32"
    }
}

pub struct EmptyController;

#[live_controller]
impl EmptyController {}

fn main() {
    let paths: Vec<&str> = <KindsController as Controller>::ROUTES
        .iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/kinds/type", "/kinds/tagged", "/kinds/shout"]);
    assert_eq!(<KindsController as Controller>::ROUTES[0].action, "type");
    assert_eq!(
        <TypedController<u32> as Controller>::ROUTES[0].controller,
        "TypedController"
    );
    assert!(<EmptyController as Controller>::ROUTES.is_empty());
    let _router: axum::Router = axum::Router::new()
        .merge(KindsController.into_router())
        .merge(TypedController::<u32>(PhantomData).into_router())
        .merge(EmptyController.into_router());
}
