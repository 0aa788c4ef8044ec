//! The parts of a Spin 2 manifest (`spin.toml`) this host honours: application variables,
//! HTTP triggers, cron triggers (the `spin-trigger-cron` plugin's `[[trigger.cron]]`), and per
//! component its source, key-value stores, SQLite databases, allowed
//! outbound hosts and variable templates. Start-up fails, as `spin up` does, when a required
//! variable has no value or a template names an undefined variable.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Spin's environment variable provider reads `SPIN_VARIABLE_<NAME>`.
const ENV_PREFIX: &str = "SPIN_VARIABLE_";

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: u32,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Deserialize)]
struct RawVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    #[allow(dead_code)]
    secret: bool,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
    #[serde(default)]
    cron: Vec<RawCronTrigger>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCronTrigger {
    component: String,
    cron_expression: String,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: RawRoute,
    component: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

#[derive(Deserialize)]
struct RawComponent {
    source: String,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
}

/// Where a component is reachable from outside the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `route = "/a/b"`: that path only.
    Exact(String),
    /// `route = "/a/..."`: `/a` and everything under it (the prefix is stored without `/...`).
    Wildcard(String),
    /// `route = { private = true }`: only by local service chaining.
    Private,
    /// No HTTP trigger names the component (a cron trigger does): no request reaches it.
    None,
}

impl Route {
    fn parse(raw: &str) -> Result<Route> {
        if !raw.starts_with('/') {
            bail!("route {raw:?} must start with /");
        }
        if let Some(prefix) = raw.strip_suffix("/...") {
            return Ok(Route::Wildcard(prefix.to_string()));
        }
        if raw.contains("...") || raw.contains(':') {
            bail!("route {raw:?}: only exact routes and trailing /... wildcards are supported by this host");
        }
        Ok(Route::Exact(raw.trim_end_matches('/').to_string()))
    }

    /// The route as written in the manifest.
    pub fn pattern(&self) -> String {
        match self {
            Route::Exact(p) if p.is_empty() => "/".into(),
            Route::Exact(p) => p.clone(),
            Route::Wildcard(p) => format!("{p}/..."),
            Route::Private | Route::None => String::new(),
        }
    }
}

pub struct Component {
    pub id: String,
    pub source: PathBuf,
    pub route: Route,
    pub key_value_stores: Vec<String>,
    pub sqlite_databases: Vec<String>,
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variable name -> resolved value.
    pub variables: BTreeMap<String, String>,
    pub environment: BTreeMap<String, String>,
    /// The schedules of the cron triggers that name it (six fields, seconds first, as the
    /// plugin reads them).
    pub cron: Vec<cron::Schedule>,
}

pub struct Manifest {
    pub components: Vec<Component>,
}

impl Manifest {
    /// Reads `path`; variable values come from `env` (the process environment in `main`).
    pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Manifest::parse(&text, base, env)
    }

    pub fn parse(text: &str, base: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Manifest> {
        let raw: RawManifest = toml::from_str(text).context("parsing the manifest")?;
        if raw.spin_manifest_version != 2 {
            bail!("spin_manifest_version {} is not supported (only 2)", raw.spin_manifest_version);
        }
        let app_vars = resolve_application_variables(&raw.variables, env)?;

        let mut routes: BTreeMap<&str, Route> = BTreeMap::new();
        for t in &raw.trigger.http {
            let route = match &t.route {
                RawRoute::Path(p) => Route::parse(p)?,
                RawRoute::Private { private: true } => Route::Private,
                RawRoute::Private { private: false } => bail!("component {}: route {{ private = false }} is not a route", t.component),
            };
            if !raw.component.contains_key(&t.component) {
                bail!("trigger names component {:?}, which the manifest does not define", t.component);
            }
            if routes.insert(&t.component, route).is_some() {
                bail!("component {:?} has more than one HTTP trigger (not supported by this host)", t.component);
            }
        }

        let mut schedules: BTreeMap<&str, Vec<cron::Schedule>> = BTreeMap::new();
        for t in &raw.trigger.cron {
            if !raw.component.contains_key(&t.component) {
                bail!("cron trigger names component {:?}, which the manifest does not define", t.component);
            }
            let schedule = t.cron_expression.parse::<cron::Schedule>().with_context(|| format!("component {}: cron_expression {:?}", t.component, t.cron_expression))?;
            schedules.entry(&t.component).or_default().push(schedule);
        }

        let mut components = Vec::new();
        for (id, c) in &raw.component {
            let cron = schedules.remove(id.as_str()).unwrap_or_default();
            let route = match routes.remove(id.as_str()) {
                Some(route) => route,
                None if !cron.is_empty() => Route::None,
                None => continue,
            };
            let mut variables = BTreeMap::new();
            for (name, template) in &c.variables {
                check_variable_name(name).with_context(|| format!("component {id}"))?;
                let value = render(template, &app_vars).with_context(|| format!("component {id}, variable {name}"))?;
                variables.insert(name.clone(), value);
            }
            components.push(Component {
                id: id.clone(),
                source: base.join(&c.source),
                route,
                key_value_stores: c.key_value_stores.clone(),
                sqlite_databases: c.sqlite_databases.clone(),
                allowed_outbound_hosts: c.allowed_outbound_hosts.clone(),
                variables,
                environment: c.environment.clone(),
                cron,
            });
        }
        Ok(Manifest { components })
    }
}

/// Each application variable's value: the environment first, then the default; a required
/// variable with neither is an error.
fn resolve_application_variables(vars: &BTreeMap<String, RawVariable>, env: &dyn Fn(&str) -> Option<String>) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (name, v) in vars {
        check_variable_name(name)?;
        if v.required && v.default.is_some() {
            bail!("variable {name}: a required variable cannot have a default");
        }
        let from_env = env(&format!("{ENV_PREFIX}{}", name.to_ascii_uppercase()));
        match from_env.or_else(|| v.default.clone()) {
            Some(value) => {
                out.insert(name.clone(), value);
            }
            None if v.required => bail!("required variable {name} has no value (set {ENV_PREFIX}{})", name.to_ascii_uppercase()),
            None => bail!("variable {name} needs a default or required = true"),
        }
    }
    Ok(out)
}

/// Spin's variable names: lower-case ASCII letters, digits and underscores, starting with a letter.
pub fn check_variable_name(name: &str) -> Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_');
    if !ok {
        bail!("invalid variable name {name:?}");
    }
    Ok(())
}

/// Expands `{{ name }}` references to application variables in a component variable template.
fn render(template: &str, vars: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").with_context(|| format!("unclosed {{{{ in {template:?}"))?;
        let name = after[..end].trim();
        let value = vars.get(name).with_context(|| format!("template names undefined application variable {name:?}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
secret = { required = true, secret = true }
greeting = { default = "hello" }
[[trigger.http]]
route = "/..."
component = "front"
[[trigger.http]]
route = { private = true }
component = "back"
[component.front]
source = "front.wasm"
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://back.spin.internal"]
[component.front.variables]
greeting = "{{ greeting }}, world"
[component.back]
source = "back.wasm"
[component.back.variables]
secret = "{{secret}}"
"#;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn required_variable_without_a_value_fails() {
        let err = Manifest::parse(MANIFEST, Path::new("/app"), &env(&[])).err().unwrap();
        assert!(format!("{err:#}").contains("SPIN_VARIABLE_SECRET"), "{err:#}");
    }

    #[test]
    fn variables_come_from_the_environment_then_defaults() {
        let m = Manifest::parse(MANIFEST, Path::new("/app"), &env(&[("SPIN_VARIABLE_SECRET", "s3")])).unwrap();
        let front = m.components.iter().find(|c| c.id == "front").unwrap();
        assert_eq!(front.variables["greeting"], "hello, world");
        assert_eq!(front.route, Route::Wildcard(String::new()));
        assert_eq!(front.source, Path::new("/app/front.wasm"));
        let back = m.components.iter().find(|c| c.id == "back").unwrap();
        assert_eq!(back.variables["secret"], "s3");
        assert_eq!(back.route, Route::Private);
        let m = Manifest::parse(MANIFEST, Path::new("/app"), &env(&[("SPIN_VARIABLE_SECRET", "s"), ("SPIN_VARIABLE_GREETING", "hi")])).unwrap();
        assert_eq!(m.components.iter().find(|c| c.id == "front").unwrap().variables["greeting"], "hi, world");
    }

    #[test]
    fn a_template_naming_an_undefined_variable_fails() {
        let bad = MANIFEST.replace("{{secret}}", "{{ nothere }}");
        assert!(Manifest::parse(&bad, Path::new("/app"), &env(&[("SPIN_VARIABLE_SECRET", "s")])).is_err());
    }

    #[test]
    fn the_hub_manifest_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spin.toml");
        let m = Manifest::load(&path, &env(&[("SPIN_VARIABLE_SWITCHYARD_TOKEN_SECRET", "t"), ("SPIN_VARIABLE_SWITCHYARD_SEAL_KEY", "k"), ("SPIN_VARIABLE_SWITCHYARD_ADMIN_TOKEN", "a")])).unwrap();
        assert_eq!(m.components.len(), 8);
        let public: Vec<_> = m.components.iter().filter(|c| c.route != Route::Private).map(|c| c.id.as_str()).collect();
        assert_eq!(public, ["gateway"]);
        let scheduled: Vec<_> = m.components.iter().filter(|c| !c.cron.is_empty()).map(|c| c.id.as_str()).collect();
        assert_eq!(scheduled, ["deliver"]);
    }

    #[test]
    fn cron_triggers_run_http_less_components_and_bad_expressions_fail() {
        let with_cron = format!("{MANIFEST}\n[[trigger.cron]]\ncomponent = \"tick\"\ncron_expression = \"*/2 * * * * *\"\n[component.tick]\nsource = \"tick.wasm\"\n");
        let m = Manifest::parse(&with_cron, Path::new("/app"), &env(&[("SPIN_VARIABLE_SECRET", "s")])).unwrap();
        let tick = m.components.iter().find(|c| c.id == "tick").unwrap();
        assert_eq!(tick.route, Route::None);
        assert_eq!(tick.cron.len(), 1);
        let bad = with_cron.replace("*/2 * * * * *", "every two seconds");
        let err = Manifest::parse(&bad, Path::new("/app"), &env(&[("SPIN_VARIABLE_SECRET", "s")])).err().unwrap();
        assert!(format!("{err:#}").contains("cron_expression"), "{err:#}");
        let unknown = with_cron.replace("component = \"tick\"", "component = \"nothere\"");
        assert!(Manifest::parse(&unknown, Path::new("/app"), &env(&[("SPIN_VARIABLE_SECRET", "s")])).is_err());
    }
}
