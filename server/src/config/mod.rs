//! The server's configuration: one typed struct, validated once at start.
//!
//! [`Config`] is what `Server::bind` takes. The CLI (`cli.rs`) builds it from
//! flags and environment variables; tests and the conformance harness build it
//! directly. Nothing reads the environment after start. [`Config::validate`]
//! (`validate`) judges the settings that can be judged on their own.
//!
//! - `settings`: [`Config`] and [`AuthSettings`], the settings as given, and
//!   docs/contract.md's [`defaults`];
//! - `validate`: [`Config::validate`], every check a setting fails on its
//!   own, each failure a [`ConfigError`]; `auth`: the authentication
//!   settings' share of it ([`AuthSettings::validate`]).

mod auth;
mod settings;
mod validate;

pub use auth::{AccessSettings, OauthSettings};
pub use settings::{AuthSettings, Config, defaults};
pub use validate::ConfigError;
