//! Secret references (SPEC.md): `env:NAME`, `file:PATH`, `ssm:NAME`, `secretsmanager:NAME-OR-ARN`, or a literal.
//! A reference is safe to print; the value it resolves to is a [`Secret`] and never is.

use std::fmt;

use serde::{Deserialize, Deserializer};

mod resolver;
mod value;

pub use resolver::SecretResolver;
pub use value::Secret;

#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(String),
    Ssm(String),
    SecretsManager(String),
    /// A secret written into the config itself: works, but is warned about.
    Literal(Secret),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("{reference}: environment variable {name} is not set")]
    EnvMissing { reference: String, name: String },
    #[error("{reference}: cannot read the file: {reason}")]
    FileUnreadable { reference: String, reason: String },
    #[error("{reference}: resolves to an empty value")]
    Empty { reference: String },
    #[error(
        "{reference}: {service} references are resolved with AWS credentials by SecretResolver, not locally"
    )]
    Unsupported {
        reference: String,
        service: &'static str,
    },
    #[error("{reference}: {service} lookup failed: {reason}")]
    Aws {
        reference: String,
        service: &'static str,
        reason: String,
    },
}

impl SecretRef {
    pub fn parse(text: &str) -> SecretRef {
        let split = |prefix: &str| text.strip_prefix(prefix).map(str::to_string);
        if let Some(name) = split("env:") {
            SecretRef::Env(name)
        } else if let Some(path) = split("file:") {
            SecretRef::File(path)
        } else if let Some(name) = split("ssm:") {
            SecretRef::Ssm(name)
        } else if let Some(name) = split("secretsmanager:") {
            SecretRef::SecretsManager(name)
        } else {
            SecretRef::Literal(Secret::new(text))
        }
    }

    pub fn is_literal(&self) -> bool {
        matches!(self, SecretRef::Literal(_))
    }

    /// Resolves `env:` and `file:` references and literals. A file's trailing newline is dropped
    /// (files written by `echo` or editors end with one; secrets never do).
    pub fn resolve_local(&self) -> Result<Secret, SecretError> {
        let reference = self.to_string();
        let value = match self {
            SecretRef::Literal(s) => s.expose().to_string(),
            SecretRef::Env(name) => std::env::var(name).map_err(|_| SecretError::EnvMissing {
                reference: reference.clone(),
                name: name.clone(),
            })?,
            SecretRef::File(path) => std::fs::read_to_string(path)
                .map_err(|e| SecretError::FileUnreadable {
                    reference: reference.clone(),
                    reason: e.kind().to_string(),
                })?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
            SecretRef::Ssm(_) => {
                return Err(SecretError::Unsupported {
                    reference,
                    service: "SSM",
                })
            }
            SecretRef::SecretsManager(_) => {
                return Err(SecretError::Unsupported {
                    reference,
                    service: "Secrets Manager",
                })
            }
        };
        if value.is_empty() {
            return Err(SecretError::Empty { reference });
        }
        // Every resolved value is masked in log lines from now on (crate::redact).
        crate::redact::register(&value);
        Ok(Secret::new(value))
    }
}

/// Prints the reference, never the value: `env:NAME`, `file:/path`, `<literal secret>`.
impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(n) => write!(f, "env:{n}"),
            SecretRef::File(p) => write!(f, "file:{p}"),
            SecretRef::Ssm(n) => write!(f, "ssm:{n}"),
            SecretRef::SecretsManager(n) => write!(f, "secretsmanager:{n}"),
            SecretRef::Literal(_) => f.write_str("<literal secret>"),
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretRef({self})")
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(SecretRef::parse(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_reference_resolves_and_prints_only_its_name() {
        std::env::set_var("ENTRAWATCH_TEST_SECRET_A", "s3cr3t-value");
        let r = SecretRef::parse("env:ENTRAWATCH_TEST_SECRET_A");
        assert_eq!(r.to_string(), "env:ENTRAWATCH_TEST_SECRET_A");
        assert_eq!(r.resolve_local().unwrap().expose(), "s3cr3t-value");
    }

    #[test]
    fn resolved_values_are_masked_in_log_lines() {
        std::env::set_var("ENTRAWATCH_TEST_SECRET_MASKED", "masked-s3cr3t-9431");
        let r = SecretRef::parse("env:ENTRAWATCH_TEST_SECRET_MASKED");
        r.resolve_local().unwrap();
        let line = crate::redact::mask("posting with masked-s3cr3t-9431 failed");
        assert_eq!(line, "posting with <redacted> failed");
    }

    #[test]
    fn missing_env_variable_is_named_in_the_error() {
        let r = SecretRef::parse("env:ENTRAWATCH_TEST_SECRET_UNSET");
        let e = r.resolve_local().unwrap_err();
        assert_eq!(
            e.to_string(),
            "env:ENTRAWATCH_TEST_SECRET_UNSET: environment variable ENTRAWATCH_TEST_SECRET_UNSET is not set"
        );
    }

    #[test]
    fn file_reference_drops_the_trailing_newline() {
        let dir = std::env::temp_dir().join(format!("ew-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.txt");
        std::fs::write(&path, "from-a-file\n").unwrap();
        let r = SecretRef::parse(&format!("file:{}", path.display()));
        assert_eq!(r.resolve_local().unwrap().expose(), "from-a-file");
    }

    #[test]
    fn unreadable_file_error_names_the_path_not_the_content() {
        let r = SecretRef::parse("file:/nonexistent/entrawatch/secret");
        let e = r.resolve_local().unwrap_err().to_string();
        assert!(
            e.starts_with("file:/nonexistent/entrawatch/secret: cannot read the file"),
            "{e}"
        );
    }

    #[test]
    fn literal_is_never_printed() {
        let r = SecretRef::parse("plain-literal-secret");
        assert!(r.is_literal());
        assert!(!format!("{r} {r:?}").contains("plain-literal-secret"));
    }

    #[test]
    fn ssm_reference_is_not_resolved_locally() {
        let e = SecretRef::parse("ssm:/entrawatch/x")
            .resolve_local()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "ssm:/entrawatch/x: SSM references are resolved with AWS credentials by SecretResolver, not locally"
        );
    }
}
