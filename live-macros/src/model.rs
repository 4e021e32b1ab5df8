//! The controller as the macro sees it. Reading the impl block takes the route attributes off
//! its items (they are the macro's, not rustc's) and parses them; `validate` then turns what
//! was read into a [`Controller`] of checked actions, which `expand` writes out.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, ReturnType, Type, Visibility};

use crate::args::{RouteAttr, is_route_attr};

/// The impl block as read, before any check: its items in the order written.
pub(crate) struct Block {
    pub(crate) items: Vec<Item>,
}

pub(crate) enum Item {
    Method(Box<Method>),
    /// A constant, type or macro that carried route attributes, which route nothing there.
    NotAMethod {
        what: &'static str,
        route_attrs: Vec<Attribute>,
    },
}

/// A method with its route attributes taken off, each kept with what parsing it gave.
pub(crate) struct Method {
    pub(crate) item: ImplItemFn,
    pub(crate) routes: Vec<(Attribute, syn::Result<RouteAttr>)>,
}

/// The checked controller: what `expand` generates from.
pub(crate) struct Controller {
    pub(crate) self_ty: Type,
    pub(crate) name: String,
    pub(crate) actions: Vec<Action>,
}

pub(crate) struct Action {
    pub(crate) ident: Ident,
    pub(crate) args: Vec<Type>,
    /// Which argument is the `Live` handle, if any: then the action is live.
    pub(crate) live: Option<usize>,
    pub(crate) output: ReturnType,
    pub(crate) routes: Vec<Route>,
}

pub(crate) struct Route {
    pub(crate) method: String,
    /// The full path: the controller's base path joined with the action's.
    pub(crate) path: String,
    pub(crate) span: Span,
}

impl Block {
    /// Reads `item`, leaving it without route attributes, so it can be emitted as is.
    pub(crate) fn read(item: &mut ItemImpl) -> Block {
        let mut items = Vec::new();
        for impl_item in &mut item.items {
            let (what, attrs) = match impl_item {
                ImplItem::Fn(method) => {
                    let routes = take_route_attrs(&mut method.attrs)
                        .into_iter()
                        .map(|attr| {
                            let parsed = RouteAttr::parse(&attr);
                            (attr, parsed)
                        })
                        .collect();
                    items.push(Item::Method(Box::new(Method {
                        item: method.clone(),
                        routes,
                    })));
                    continue;
                }
                ImplItem::Const(item) => ("a constant", &mut item.attrs),
                ImplItem::Type(item) => ("a type", &mut item.attrs),
                ImplItem::Macro(item) => ("a macro", &mut item.attrs),
                _ => continue,
            };
            let route_attrs = take_route_attrs(attrs);
            if !route_attrs.is_empty() {
                items.push(Item::NotAMethod { what, route_attrs });
            }
        }
        Block { items }
    }
}

fn take_route_attrs(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (routes, others) = std::mem::take(attrs).into_iter().partition(is_route_attr);
    *attrs = others;
    routes
}

impl Method {
    pub(crate) fn is_pub(&self) -> bool {
        matches!(self.item.vis, Visibility::Public(_))
    }

    pub(crate) fn takes_live(&self) -> bool {
        self.item.sig.inputs.iter().any(|input| match input {
            FnArg::Typed(typed) => is_live(&typed.ty),
            FnArg::Receiver(_) => false,
        })
    }
}

impl Action {
    /// The action of a checked method, on these routes.
    pub(crate) fn new(method: &ImplItemFn, routes: Vec<Route>) -> Action {
        let sig = &method.sig;
        let args: Vec<Type> = sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                FnArg::Typed(arg) => Some((*arg.ty).clone()),
                FnArg::Receiver(_) => None,
            })
            .collect();
        Action {
            ident: sig.ident.clone(),
            live: args.iter().position(is_live),
            args,
            output: sig.output.clone(),
            routes,
        }
    }

    pub(crate) fn span(&self) -> Span {
        self.ident.span()
    }

    pub(crate) fn output_span(&self) -> Span {
        match &self.output {
            ReturnType::Default => self.ident.span(),
            ReturnType::Type(_, ty) => ty.span(),
        }
    }
}

/// `Live` or a path ending in `Live`, without generics.
pub(crate) fn is_live(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none()
        && path.path.segments.last().is_some_and(|s| s.ident == "Live" && s.arguments.is_none()))
}
