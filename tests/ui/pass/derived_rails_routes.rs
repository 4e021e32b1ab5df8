// Test: an action's route comes from its name: Rails' seven resource names, and `GET /<name>`
// for any other; the base path from the type name (`ChatRoomsController` -> `/chat_rooms`).
use live_runtime::prelude::*;
use live_runtime::routing::Route;

pub struct ChatRoomsController;

#[live_controller]
impl ChatRoomsController {
    pub async fn index(&self) -> &'static str {
        "index"
    }

    pub async fn show(&self) -> &'static str {
        "show"
    }

    pub async fn new(&self) -> &'static str {
        "new"
    }

    pub async fn create(&self) -> &'static str {
        "create"
    }

    pub async fn edit(&self) -> &'static str {
        "edit"
    }

    pub async fn update(&self) -> &'static str {
        "update"
    }

    pub async fn destroy(&self) -> &'static str {
        "destroy"
    }

    pub async fn transcript(&self) -> &'static str {
        "transcript"
    }
}

fn route(method: &'static str, path: &'static str, action: &'static str) -> Route {
    Route {
        method,
        path,
        controller: "ChatRoomsController",
        action,
    }
}

fn main() {
    assert_eq!(
        <ChatRoomsController as Controller>::ROUTES,
        [
            route("GET", "/chat_rooms", "index"),
            route("GET", "/chat_rooms/{id}", "show"),
            route("GET", "/chat_rooms/new", "new"),
            route("POST", "/chat_rooms", "create"),
            route("GET", "/chat_rooms/{id}/edit", "edit"),
            route("PATCH", "/chat_rooms/{id}", "update"),
            route("PUT", "/chat_rooms/{id}", "update"),
            route("DELETE", "/chat_rooms/{id}", "destroy"),
            route("GET", "/chat_rooms/transcript", "transcript"),
        ]
    );
    let _router: axum::Router = ChatRoomsController.into_router();
}
