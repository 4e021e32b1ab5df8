//! Inheritable task-locals: request state that follows a request into its live action.
//!
//! Tokio's task-locals do not follow `tokio::spawn` (tokio#6659): a value is visible only while
//! the future that scoped it is polled. Rails copies its fiber-locals into the action thread;
//! live does the same explicitly. One runtime-owned tokio task-local holds the request's values
//! as a small typed map, the analogue of Rails' `IsolatedExecutionState`.
//! [`task_local!`](crate::task_local) declares typed keys into it. When an action is spawned,
//! the map is cloned (each value with `Clone`) minus the excluded keys, and the action runs
//! scoped in the clone. A map rather than a registry of keys because the spawn then costs
//! nothing when no local is set, and because a scope set inside the action nests for free.
//!
//! Nothing leaks into the next request: a clone lives exactly as long as its action.
//!
//! ```
//! live_runtime::task_local! {
//!     /// The id of the request, set by a middleware.
//!     pub static REQUEST_ID: String;
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! REQUEST_ID
//!     .scope("req-1".to_owned(), async {
//!         assert_eq!(REQUEST_ID.get().as_deref(), Some("req-1"));
//!     })
//!     .await;
//! assert_eq!(REQUEST_ID.get(), None);
//! # });
//! ```

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

tokio::task_local! {
    static CONTEXT: Context;
}

/// Declares inheritable task-locals: values scoped around a request (in a middleware, say)
/// that every live action of that request sees too.
///
/// Each `static NAME: T;` becomes a [`LocalKey<T>`]; `T` must be `Clone + Send + Sync +
/// 'static`. See the [module docs](crate::locals).
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident : $t:ty; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::locals::LocalKey<$t> =
            $crate::locals::LocalKey::__new(::core::stringify!($name));
        $crate::task_local!($($rest)*);
    };
}

/// The identity of a [`LocalKey`]: the address of its `static`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalKeyId(usize);

/// A key declared with [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    // Not zero-sized, so that every key static has an address of its own.
    name: &'static str,
    _value: PhantomData<fn() -> T>,
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(name: &'static str) -> Self {
        LocalKey {
            name,
            _value: PhantomData,
        }
    }

    /// The key's identity, as used by exclusion lists.
    pub fn id(&'static self) -> LocalKeyId {
        LocalKeyId(std::ptr::from_ref(self).addr())
    }

    /// The name the key was declared with.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<T: Clone + Send + Sync + 'static> LocalKey<T> {
    /// Runs `future` with this key set to `value`, on top of whatever the scope it runs in
    /// holds (read when it is first polled, so scopes built inside out still nest).
    pub async fn scope<F: Future>(&'static self, value: T, future: F) -> F::Output {
        CONTEXT.scope(self.extended(value), future).await
    }

    /// Runs `f` with this key set to `value`.
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        CONTEXT.sync_scope(self.extended(value), f)
    }

    /// A clone of the value, if one is set in the current scope.
    pub fn get(&'static self) -> Option<T> {
        self.with(|value| value.cloned())
    }

    /// Calls `f` with the value, if one is set in the current scope.
    pub fn with<R>(&'static self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let id = self.id();
        let mut f = Some(f);
        let found = CONTEXT.try_with(|context| {
            let value = context.get(id).and_then(|v| v.as_any().downcast_ref::<T>());
            (f.take().expect("called once"))(value)
        });
        match found {
            Ok(result) => result,
            Err(_) => (f.take().expect("not called yet"))(None),
        }
    }

    fn extended(&'static self, value: T) -> Context {
        let mut context = CONTEXT.try_with(Context::clone).unwrap_or_default();
        context.set(self.id(), Box::new(value));
        context
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalKey({})", self.name)
    }
}

trait Value: Send + Sync {
    fn clone_box(&self) -> Box<dyn Value>;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Clone + Send + Sync + 'static> Value for T {
    fn clone_box(&self) -> Box<dyn Value> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The inheritable values of one scope. A few keys at most, so a vector beats a map.
#[derive(Default)]
pub(crate) struct Context {
    entries: Vec<(LocalKeyId, Box<dyn Value>)>,
}

impl Clone for Context {
    fn clone(&self) -> Self {
        self.filtered(|_| true)
    }
}

impl Context {
    fn get(&self, id: LocalKeyId) -> Option<&dyn Value> {
        self.entries
            .iter()
            .find(|(key, _)| *key == id)
            .map(|(_, value)| &**value)
    }

    fn set(&mut self, id: LocalKeyId, value: Box<dyn Value>) {
        match self.entries.iter_mut().find(|(key, _)| *key == id) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((id, value)),
        }
    }

    fn filtered(&self, keep: impl Fn(LocalKeyId) -> bool) -> Self {
        Context {
            entries: self
                .entries
                .iter()
                .filter(|(key, _)| keep(*key))
                .map(|(key, value)| (*key, (**value).clone_box()))
                .collect(),
        }
    }

    /// The current scope's values minus the excluded ones, cloned for a spawned action.
    pub(crate) fn inherit(excluded: impl Fn(LocalKeyId) -> bool) -> Self {
        CONTEXT
            .try_with(|context| context.filtered(|key| !excluded(key)))
            .unwrap_or_default()
    }

    /// Runs `future` in this context.
    pub(crate) fn scope<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        CONTEXT.scope(self, future)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::task_local! {
        static NAME: String;
        static COUNT: u32;
    }

    #[tokio::test]
    async fn scopes_nest_and_end() {
        assert_eq!(NAME.get(), None);
        NAME.scope("outer".into(), async {
            COUNT
                .scope(7, async {
                    assert_eq!(NAME.get().as_deref(), Some("outer"));
                    assert_eq!(COUNT.get(), Some(7));
                    NAME.scope("inner".into(), async {
                        assert_eq!(NAME.get().as_deref(), Some("inner"));
                    })
                    .await;
                    assert_eq!(NAME.get().as_deref(), Some("outer"));
                })
                .await;
            assert_eq!(COUNT.get(), None);
        })
        .await;
        assert_eq!(NAME.get(), None);
    }

    #[tokio::test]
    async fn scopes_made_inside_out_nest() {
        // A middleware stack builds the innermost future first.
        let inner = async { (NAME.get(), COUNT.get()) };
        let wrapped = NAME.scope("name".into(), COUNT.scope(3, inner));
        assert_eq!(wrapped.await, (Some("name".to_owned()), Some(3)));
        let inner = async { (NAME.get(), COUNT.get()) };
        let wrapped = COUNT.scope(4, NAME.scope("other".into(), inner));
        assert_eq!(wrapped.await, (Some("other".to_owned()), Some(4)));
    }

    #[tokio::test]
    async fn inherit_clones_minus_excluded_into_a_spawned_task() {
        let excluded = COUNT.id();
        let in_request = COUNT.scope(1, async {
            let context = Context::inherit(|key| key == excluded);
            tokio::spawn(context.scope(async { (NAME.get(), COUNT.get()) }))
                .await
                .unwrap()
        });
        let seen = NAME.scope("req".into(), in_request).await;
        assert_eq!(seen, (Some("req".to_owned()), None));
    }

    #[test]
    fn sync_scopes_nest_and_end() {
        let seen = COUNT.sync_scope(1, || {
            NAME.sync_scope("sync".into(), || (NAME.get(), COUNT.get()))
        });
        assert_eq!(seen, (Some("sync".to_owned()), Some(1)));
        assert_eq!((NAME.get(), COUNT.get()), (None, None));
    }

    #[test]
    fn keys_have_distinct_ids() {
        assert_ne!(NAME.id(), COUNT.id());
        assert_eq!(NAME.name(), "NAME");
        assert_eq!(format!("{NAME:?}"), "LocalKey(NAME)");
    }
}
