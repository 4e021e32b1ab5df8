//! Routes: the Rails resource names, the base path from the type name, path checks and the
//! shape that makes two paths one. Pure functions on strings, so each rule is unit-tested here.

/// The HTTP methods a route may use, as axum's `MethodFilter` constants name them.
pub(crate) const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

/// Rails' resource actions and their routes.
const RESOURCE_ACTIONS: [(&str, &[(&str, &str)]); 7] = [
    ("index", &[("GET", "/")]),
    ("show", &[("GET", "/{id}")]),
    ("new", &[("GET", "/new")]),
    ("create", &[("POST", "/")]),
    ("edit", &[("GET", "/{id}/edit")]),
    ("update", &[("PATCH", "/{id}"), ("PUT", "/{id}")]),
    ("destroy", &[("DELETE", "/{id}")]),
];

/// Whether `name` is one of Rails' resource actions (`index`, `show`, ...).
pub(crate) fn is_resource_action(name: &str) -> bool {
    RESOURCE_ACTIONS.iter().any(|(action, _)| *action == name)
}

/// The route an action gets from its name alone: Rails' resource names, else `GET /<name>`.
pub(crate) fn derived(action: &str) -> Vec<(&'static str, String)> {
    match RESOURCE_ACTIONS.iter().find(|(name, _)| *name == action) {
        Some((_, routes)) => routes
            .iter()
            .map(|(method, path)| (*method, (*path).to_owned()))
            .collect(),
        // A raw identifier (`r#type`) routes under its plain name.
        None => vec![("GET", format!("/{}", action.trim_start_matches("r#")))],
    }
}

/// The base path from the type name: without `Controller`, in snake case.
/// `StocksController` -> `/stocks`, `ChatRoomsController` -> `/chat_rooms`.
pub(crate) fn base_path(type_name: &str) -> String {
    let name = type_name
        .strip_suffix("Controller")
        .filter(|n| !n.is_empty())
        .unwrap_or(type_name);
    format!("/{}", snake_case(name))
}

fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase()));
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks a path as written in an attribute: `Err` says what is wrong, in the user's terms.
pub(crate) fn check(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("path `{path}` must start with `/`"));
    }
    if path == "/" {
        return Ok(());
    }
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            return Err(format!(
                "path `{path}` has an empty segment (`//`, or a trailing `/`)"
            ));
        }
        check_segment(path, segment)?;
    }
    Ok(())
}

fn check_segment(path: &str, segment: &str) -> Result<(), String> {
    if let Some(name) = segment.strip_prefix(':') {
        return Err(format!(
            "path `{path}`: axum 0.8 writes parameters as `{{{name}}}`, not `{segment}`"
        ));
    }
    let opens = segment.matches('{').count();
    let closes = segment.matches('}').count();
    if opens != closes || opens > 1 {
        return Err(format!(
            "path `{path}`: unbalanced `{{` or `}}` in segment `{segment}` (a parameter is a whole segment, `{{name}}`)"
        ));
    }
    if opens == 1 {
        let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            return Err(format!(
                "path `{path}`: a parameter must be a whole segment, `{{name}}`, not `{segment}`"
            ));
        };
        let name = name.strip_prefix('*').unwrap_or(name);
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "path `{path}`: `{segment}` is not a valid parameter name"
            ));
        }
    }
    Ok(())
}

/// The full path of a route: the base path joined with the action's path.
pub(crate) fn join(base: &str, path: &str) -> String {
    match (base, path) {
        ("/", path) => path.to_owned(),
        (base, "/") => base.to_owned(),
        (base, path) => format!("{base}{path}"),
    }
}

/// The path with its parameter names erased: two paths of the same shape are one route to
/// axum, which refuses the second at start-up.
pub(crate) fn shape(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix('{') {
            Some(rest) if rest.starts_with('*') => "{*}",
            Some(_) => "{}",
            None => segment,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rails_resource_names() {
        assert_eq!(derived("index"), [("GET", "/".to_owned())]);
        assert_eq!(derived("show"), [("GET", "/{id}".to_owned())]);
        assert_eq!(derived("new"), [("GET", "/new".to_owned())]);
        assert_eq!(derived("create"), [("POST", "/".to_owned())]);
        assert_eq!(derived("edit"), [("GET", "/{id}/edit".to_owned())]);
        assert_eq!(
            derived("update"),
            [("PATCH", "/{id}".to_owned()), ("PUT", "/{id}".to_owned())]
        );
        assert_eq!(derived("destroy"), [("DELETE", "/{id}".to_owned())]);
        assert_eq!(derived("prices"), [("GET", "/prices".to_owned())]);
        assert_eq!(derived("r#type"), [("GET", "/type".to_owned())]);
        assert!(is_resource_action("destroy"));
        assert!(!is_resource_action("prices"));
    }

    #[test]
    fn base_paths() {
        assert_eq!(base_path("StocksController"), "/stocks");
        assert_eq!(base_path("ChatRoomsController"), "/chat_rooms");
        assert_eq!(base_path("HTTPStatusController"), "/http_status");
        assert_eq!(base_path("Hello"), "/hello");
        assert_eq!(base_path("Controller"), "/controller");
        assert_eq!(base_path("V2ApiController"), "/v2_api");
    }

    #[test]
    fn path_checks() {
        assert!(check("/").is_ok());
        assert!(check("/prices").is_ok());
        assert!(check("/{id}/edit").is_ok());
        assert!(check("/files/{*rest}").is_ok());
        assert!(check("prices").unwrap_err().contains("must start with `/`"));
        assert!(check("/a//b").unwrap_err().contains("empty segment"));
        assert!(check("/a/").unwrap_err().contains("empty segment"));
        assert!(check("/{id").unwrap_err().contains("unbalanced"));
        assert!(check("/id}").unwrap_err().contains("unbalanced"));
        assert!(check("/{a}{b}").unwrap_err().contains("unbalanced"));
        assert!(check("/x{id}").unwrap_err().contains("whole segment"));
        assert!(
            check("/{1d}")
                .unwrap_err()
                .contains("not a valid parameter")
        );
        assert!(check("/:id").unwrap_err().contains("`{id}`"));
    }

    #[test]
    fn joins_and_shapes() {
        assert_eq!(join("/stocks", "/"), "/stocks");
        assert_eq!(join("/stocks", "/{id}"), "/stocks/{id}");
        assert_eq!(join("/", "/x"), "/x");
        assert_eq!(join("/", "/"), "/");
        assert_eq!(shape("/stocks/{id}"), shape("/stocks/{name}"));
        assert_ne!(shape("/stocks/{id}"), shape("/stocks/new"));
        assert_eq!(shape("/f/{*rest}"), "/f/{*}");
    }
}
