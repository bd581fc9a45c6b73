//! Checks of a service's secrets against its environment: each key must lie under
//! one of the environment's `secret_prefixes` (so a prod service can never reference
//! a dev secret); with the External Secrets backend each secret's name, which becomes
//! an environment variable through `envFrom`, must be a portable variable name; with
//! the csi backend the service needs an `iam_role` to read them.

use super::{Amend, Resolver};
use crate::input::SecretLayer;
use crate::source::{FileId, Origin};
use crate::spec::{EnvSpec, SecretsBackend};
use crate::{names, rules};

impl<'a> Resolver<'a> {
    /// Checks one secret entry whose `key` rendered to `key` in `env`.
    pub(super) fn check_secret(&mut self, env: &EnvSpec, s: &SecretLayer, key: &str, file: FileId) {
        if let Some(outside) = outside_prefixes(env, key) {
            self.error(
                rules::SECRET_PREFIX,
                Origin::new(file, s.key.span.clone()),
                outside.message,
            )
            .label(outside.label)
            .help(format!(
                "point `key` at a secret of this environment (a template such as `{{{{ env.<var> }}}}/...` keeps one entry right for every environment); the allowed prefixes are `secret_prefixes` of [environments.{}]",
                env.name
            ));
        }
        if env.secrets_backend == SecretsBackend::ExternalSecrets {
            if let Err(e) = names::check_env_var_name(&s.name.value) {
                self.error(
                    rules::INVALID_KEY,
                    Origin::new(file, s.name.span.clone()),
                    format!("secret name: {e}"),
                )
                // Not naming the environment: one message for every environment
                // with the backend (the same line, the same mistake).
                .help(format!(
                    "with `secrets_backend = \"external-secrets\"` each secret becomes an environment variable of that name through `envFrom`; write it like `{}`",
                    env_var_like(&s.name.value)
                ));
            }
        }
    }
}

impl Resolver<'_> {
    /// A service with `secrets` (at `origin`) and no `iam_role` in `env`: with the csi
    /// backend nothing can read them. The Secrets Store CSI driver's AWS provider
    /// authenticates as the pod's ServiceAccount: under IRSA it refuses the mount when
    /// the ServiceAccount has no `eks.amazonaws.com/role-arn` annotation ("An IAM role
    /// must be associated with service account"), and under Pod Identity the EKS agent
    /// gives no credentials without an association (aws/secrets-store-csi-driver-provider-aws,
    /// server/server.go, `resolveCredentials` and `getRoleARN`). The pod waits in
    /// ContainerCreating for a volume that never mounts. With `external-secrets` the
    /// operator reads the secrets with its own identity: nothing to check.
    pub(super) fn csi_secrets_without_role(
        &mut self,
        service: &str,
        env: &EnvSpec,
        origin: &Origin,
    ) {
        if env.secrets_backend != SecretsBackend::Csi {
            return;
        }
        let how = match env.workload_identity {
            crate::spec::WorkloadIdentity::Irsa => "IRSA: the role annotated on its ServiceAccount",
            crate::spec::WorkloadIdentity::PodIdentity => {
                "Pod Identity: the association of its ServiceAccount with the role"
            }
        };
        self.error(
            rules::MISSING_KEY,
            origin.clone(),
            format!(
                "service `{service}` has `secrets` but no `iam_role` in environment `{}`: the csi backend reads them with the service's IAM role ({how}), so the secrets volume would never mount and the pods would wait in ContainerCreating",
                env.name
            ),
        )
        .help("set `iam_role = \"arn:aws:iam::<account>:role/<name>\"` on the service (a role that may read these secrets; an overlay can set it per environment), or use `secrets_backend = \"external-secrets\"`, where the operator reads them with its own identity");
    }
}

/// A secret key outside the secret paths of its environment (KG022): what is wrong
/// and the label listing what the environment may read. The one judgement of
/// `secret_prefixes`, for a service's `secrets` (above) and for the keys the final
/// objects read (`validate::semantics::secret_refs`: patched and hand-written
/// ExternalSecrets and SecretProviderClasses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsidePrefixes {
    pub message: String,
    pub label: String,
}

/// Whether `key` (a secret's name or ARN, after templating) lies outside every
/// `secret_prefixes` of `env`; `None` when it is allowed (or no prefixes are set).
pub fn outside_prefixes(env: &EnvSpec, key: &str) -> Option<OutsidePrefixes> {
    if env.secret_prefixes.is_empty() {
        return None;
    }
    let path = secret_path(key);
    if env
        .secret_prefixes
        .iter()
        .any(|p| path.starts_with(p.trim_start_matches('/')))
    {
        return None;
    }
    Some(OutsidePrefixes {
        message: format!(
            "secret key `{key}` is outside the secret paths of environment `{}`",
            env.name
        ),
        label: format!("{} may only read {}", env.name, prefix_list(env)),
    })
}

/// `` `dev/`, `shared/` ``: the prefixes of `env`, for messages.
pub fn prefix_list(env: &EnvSpec) -> String {
    env.secret_prefixes
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The path of a secret that prefixes are checked against: a Secrets Manager or SSM
/// ARN is reduced to the secret's or parameter's name, and a leading `/` (SSM
/// hierarchies) is dropped.
pub fn secret_path(key: &str) -> &str {
    let name = if key.starts_with("arn:") {
        let parts: Vec<&str> = key.splitn(6, ':').collect();
        match parts.get(5) {
            Some(resource) => resource
                .strip_prefix("secret:")
                .or_else(|| resource.strip_prefix("parameter"))
                .unwrap_or(resource),
            None => key,
        }
    } else {
        key
    };
    name.trim_start_matches('/')
}

/// `db-password` → `DB_PASSWORD`, for help texts.
fn env_var_like(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        s.insert(0, '_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_paths() {
        assert_eq!(secret_path("production/api/db"), "production/api/db");
        assert_eq!(secret_path("/dev/api/param"), "dev/api/param");
        assert_eq!(
            secret_path("arn:aws:secretsmanager:eu-west-1:123456789012:secret:dev/api/db-AbCdEf"),
            "dev/api/db-AbCdEf"
        );
        assert_eq!(
            secret_path("arn:aws:ssm:eu-west-1:123456789012:parameter/production/api/x"),
            "production/api/x"
        );
    }

    #[test]
    fn env_var_suggestions() {
        assert_eq!(env_var_like("db-password"), "DB_PASSWORD");
        assert_eq!(env_var_like("1key"), "_1KEY");
    }
}
