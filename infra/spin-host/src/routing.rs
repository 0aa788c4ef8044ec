//! Picks the component for an incoming path as Spin's HTTP router does for the route forms
//! this host supports: an exact route beats a wildcard, and a longer wildcard prefix beats a
//! shorter one. Private components are never matched here.

use crate::manifest::Route;

/// What a request matched: the component's index and the headers Spin adds for it.
#[derive(Debug, PartialEq, Eq)]
pub struct Matched {
    pub index: usize,
    /// `spin-matched-route`, e.g. `/...`.
    pub matched_route: String,
    /// `spin-component-route`: the route without a trailing `/...`.
    pub component_route: String,
    /// `spin-path-info`: the path after the component route.
    pub path_info: String,
}

pub fn route(routes: &[Route], path: &str) -> Option<Matched> {
    let path_no_slash = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    let mut best: Option<(usize, usize, bool)> = None; // (index, prefix length, exact)
    for (i, r) in routes.iter().enumerate() {
        let candidate = match r {
            Route::Exact(p) => {
                let p = if p.is_empty() { "/" } else { p.as_str() };
                (p == path_no_slash).then_some((i, p.len(), true))
            }
            Route::Wildcard(prefix) => {
                let under = path == prefix || path.starts_with(&format!("{prefix}/")) || prefix.is_empty();
                under.then_some((i, prefix.len(), false))
            }
            Route::Private | Route::None => None,
        };
        if let Some(c) = candidate {
            let better = match best {
                None => true,
                Some((_, len, exact)) => (c.2 && !exact) || (c.2 == exact && c.1 > len),
            };
            if better {
                best = Some(c);
            }
        }
    }
    let (index, _, _) = best?;
    let (component_route, path_info) = match &routes[index] {
        Route::Wildcard(prefix) => (prefix.clone(), path[prefix.len()..].to_string()),
        r => (r.pattern(), String::new()),
    };
    Some(Matched { index, matched_route: routes[index].pattern(), component_route, path_info })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Vec<Route> {
        vec![Route::Wildcard(String::new()), Route::Wildcard("/api".into()), Route::Exact("/api/health".into()), Route::Private]
    }

    #[test]
    fn most_specific_route_wins() {
        assert_eq!(route(&routes(), "/").unwrap().index, 0);
        assert_eq!(route(&routes(), "/letterbox/v2/post").unwrap().index, 0);
        assert_eq!(route(&routes(), "/apix").unwrap().index, 0);
        let m = route(&routes(), "/api/x/y").unwrap();
        assert_eq!((m.index, m.matched_route.as_str(), m.component_route.as_str(), m.path_info.as_str()), (1, "/api/...", "/api", "/x/y"));
        assert_eq!(route(&routes(), "/api/health").unwrap().index, 2);
        assert_eq!(route(&routes(), "/api/health/").unwrap().index, 2);
    }

    #[test]
    fn private_components_are_not_routable() {
        assert_eq!(route(&[Route::Private, Route::Exact("/a".into())], "/b"), None);
    }
}
