//! One environment: its settings, cluster and namespaces, then every service of it
//! (`Resolver::service`), and the checks across its services (routes, `calls`).

use super::*;

impl<'a> Resolver<'a> {
    pub(super) fn environment(
        &mut self,
        name: &str,
        name_span: &std::ops::Range<usize>,
        layer: &'a crate::spanned::Spanned<EnvironmentLayer>,
        cluster: &crate::spec::ClusterSpec,
    ) -> Option<Resolved<EnvSpec>> {
        let name_origin = self.at(name_span);
        let errors_before = self.error_count();
        self.check_label("environment name", name, name_origin.clone());
        if RESERVED_ENV_NAMES.contains(&name) {
            self.error(
                rules::RESERVED,
                name_origin.clone(),
                format!("`{name}` cannot be an environment name: kgen writes generated/{name}/ or generated/argocd/{name}/ for its own use"),
            )
            .help("choose another name, such as `ops` or `tools`");
        }
        let overlay = self.ws.overlays.get(name);
        let mut layers: Layers<EnvironmentLayer> = Layers::new();
        layers.push(self.pf, &layer.value);
        if let Some(o) = overlay {
            if let Some(e) = &o.data.environment {
                layers.push(o.file, &e.value);
            }
        }
        let project_at = layers.pick(|l| l.project.as_ref());
        let project = project_at
            .as_ref()
            .map_or_else(|| name.to_string(), |p| p.value.clone());
        let project_origin = project_at
            .as_ref()
            .map_or_else(|| name_origin.clone(), |p| p.origin.clone());
        if let Some(p) = &project_at {
            self.check_project_name(p.value, project_origin.clone());
        }
        if let Some(declared) = self
            .platform_file()
            .argocd
            .as_ref()
            .and_then(|a| a.projects.as_ref())
        {
            let known: Vec<&str> = declared.value.iter().map(|p| p.value.as_str()).collect();
            if !known.contains(&project.as_str()) {
                let hint = did_you_mean(&project, known.iter().copied());
                let d = self.error(
                    rules::UNKNOWN_PROJECT,
                    project_origin,
                    format!("environment `{name}` uses Argo CD project `{project}`, which `[argocd] projects` does not list"),
                );
                if let Some(h) = hint {
                    d.label = Some(h);
                }
                d.help = Some(format!(
                    "use one of: {}; or add `{project}` to `[argocd] projects`",
                    known.join(", ")
                ));
            }
        }
        let sync = layers
            .pick(|l| l.sync.as_ref())
            .map_or(SyncMode::Manual, |s| *s.value);
        let production = layers
            .pick(|l| l.production.as_ref())
            .is_some_and(|p| *p.value);

        let mut vars = BTreeMap::new();
        for (key, entry) in layers.map(|l| Some(&l.vars)) {
            if RESERVED_VARS.contains(&key) {
                self.error(
                    rules::RESERVED,
                    entry.key.clone(),
                    format!("`{key}` is a built-in field of `env` and cannot be a variable"),
                )
                .help(format!("rename the variable; `{{{{ env.{key} }}}}` already means the environment's {key}"));
                continue;
            }
            if !is_identifier(key) {
                self.error(
                    rules::INVALID_KEY,
                    entry.key.clone(),
                    format!("variable name `{key}` cannot be used in templates"),
                )
                .help("use letters, digits and `_`, starting with a letter, e.g. `aws_account`");
                continue;
            }
            self.scan_secret(key, entry.value.value, &entry.value.origin);
            vars.insert(key.to_string(), entry.value.value.clone());
        }

        let mut inputs = vec![self.ws.sources.get(self.pf).display.clone()];
        if let Some(o) = overlay {
            inputs.push(self.ws.sources.get(o.file).display.clone());
        }
        let mut env = EnvSpec {
            name: name.to_string(),
            cluster: cluster.name.clone(),
            kubernetes_version: cluster.kubernetes_version,
            destination: cluster.destination.clone(),
            project,
            sync,
            production,
            vars,
            services: Vec::new(),
            monitoring: None,
            inputs,
            plugin_reads: crate::escape_hatch::files::plugin_reads(self.ws, name),
            // Set by `env_settings` below (it needs the template context).
            workload_identity: crate::spec::WorkloadIdentity::Irsa,
            secrets_backend: crate::spec::SecretsBackend::Csi,
            external_secrets: crate::spec::ExternalSecretsSpec {
                store: String::new(),
                ssm_store: String::new(),
                refresh_interval: String::new(),
                api_version: String::new(),
            },
            secret_prefixes: Vec::new(),
            ingress: crate::spec::IngressSpec {
                class: crate::spec::IngressClass::Nginx,
                controller_namespace: String::new(),
                tls: true,
                cluster_issuer: None,
                alb: crate::spec::AlbSpec {
                    scheme: crate::spec::AlbScheme::InternetFacing,
                    certificate_arn: None,
                    ssl_redirect: true,
                    group: None,
                    source_cidrs: Vec::new(),
                },
            },
            network_policy: None,
            origin: name_origin.clone(),
            origins: BTreeMap::new(),
            cluster_namespaces: Default::default(),
        };
        // The cluster's stack scrapes every environment on it.
        env.monitoring = cluster.monitoring.clone();
        env.cluster_namespaces = cluster
            .monitoring
            .iter()
            .map(|m| m.namespace.clone())
            .chain(cluster.addons.iter().map(|a| a.namespace.clone()))
            .collect();
        let ctx_env = env_context(&env);
        let ctx_cluster = cluster_context(cluster);
        self.env_settings(
            &mut env,
            &layer.value,
            overlay.and_then(|o| o.data.environment.as_ref().map(|e| (o.file, &e.value))),
            &ctx_env,
            &ctx_cluster,
        );
        // A misspelt `cluster` (KG023, reported with the placements) is an error of
        // the environment's settings too: its services render for a made-up cluster.
        let settings_ok = self.error_count() == errors_before && !self.on_unknown_cluster(name);
        // Every enabled service's layers, then their namespaces (which other
        // templates may read as `namespaces['<service>']`), then the services.
        let mut enabled = Vec::new();
        for (svc_key, svc_layer) in &self.platform_file().services {
            let mut layers: Layers<ServiceLayer> = Layers::new();
            if let Some(d) = &self.platform_file().defaults {
                layers.push_base(self.pf, &d.value);
            }
            layers.push(self.pf, &svc_layer.value);
            let mut header = self.at(&svc_key.span);
            if let Some(o) = overlay {
                if let Some((k, l)) = o.data.services.get_key_value(svc_key.value.as_str()) {
                    layers.push(o.file, &l.value);
                    header = Origin::new(o.file, k.span.clone());
                }
            }
            if layers
                .pick(|l| l.enabled.as_ref())
                .is_some_and(|e| !*e.value)
            {
                continue;
            }
            enabled.push((svc_key, layers, header));
        }
        let env_namespace = self.env_layers(name).pick(|l| l.namespace.as_ref());
        let mut namespaces = BTreeMap::new();
        // The services whose rendering an error changes although none is in their
        // settings: their namespace has an error (everything they render is in it),
        // or their overlay's table was lost to a mistake.
        let mut misplaced = Vec::new();
        for (svc_key, layers, _) in &enabled {
            let Some(checked) = super::service::checked_as(&svc_key.value) else {
                continue;
            };
            let ctx = self.template_context(&checked, &ctx_env, &ctx_cluster, None);
            let before = self.error_count();
            let ns = self.namespace(&checked, layers, env_namespace.clone(), &env, &ctx);
            if self.error_count() > before {
                misplaced.push(svc_key.value.clone());
            }
            namespaces.insert(svc_key.value.clone(), ns);
        }
        let ctx_namespaces = Value::from(
            namespaces
                .iter()
                .map(|(k, (v, _))| (k.clone(), Value::from(v.clone())))
                .collect::<BTreeMap<String, Value>>(),
        );
        // The `calls` of every enabled service, whether or not it resolves: a service
        // with an error is not "disabled" for its callers, and its own calls are
        // checked all the same.
        let services = &self.platform_file().services;
        let callers: Vec<traffic::Calls> = enabled
            .iter()
            .map(|(k, layers, _)| traffic::Calls::written(&k.value, layers, services))
            .collect();
        let lost = match overlay {
            Some(o) => Some(LostTables::of(self.ws, o, services)),
            None => LostTables::misnamed_overlay(self.ws, name),
        };
        let todo: Vec<_> = enabled
            .into_iter()
            .map(|(svc_key, layers, header)| {
                let ns = namespaces.remove(&svc_key.value);
                let lost = lost.as_ref().is_some_and(|l| l.lost(&svc_key.value));
                if lost {
                    // What it renders lacks what the lost table sets.
                    misplaced.push(svc_key.value.clone());
                }
                (svc_key, layers, header, ns, lost)
            })
            .collect();
        // Services are resolved on all cores (a service reads the platform, its
        // environment and the namespaces, never another service's result), each
        // thread by a resolver of its own; what they found is taken in platform
        // order, as one resolver going through them would have found it.
        let (ws, pf) = (self.ws, self.pf);
        let resolved: Vec<Part<Resolved<ServiceSpec>>> = {
            use rayon::prelude::*;
            let env = &env;
            // At least 16 services a thread: a resolver's start (its template
            // environment) is worth it only for a few dozen.
            todo.into_par_iter()
                .with_min_len(16)
                .map_init(
                    || Resolver::for_part(ws, pf),
                    |r, (svc_key, layers, header, ns, lost)| {
                        r.remedy = match env.secrets_backend {
                            crate::spec::SecretsBackend::ExternalSecrets => {
                                crate::secret_scan::Remedy::ExternalSecrets
                            }
                            _ => crate::secret_scan::Remedy::Csi,
                        };
                        let spec = r.service(
                            &svc_key.value,
                            r.at(&svc_key.span),
                            header,
                            &layers,
                            env,
                            Contexts {
                                env: &ctx_env,
                                cluster: &ctx_cluster,
                                namespaces: &ctx_namespaces,
                                namespace: ns,
                            },
                        );
                        let mut diags = std::mem::take(&mut r.diags);
                        if lost {
                            // What the overlay's lost table may have set is not
                            // missing (docs/cli.md, "Problem formats").
                            diags.retain(|d| {
                                !(d.is_error()
                                    && [rules::MISSING_KEY, rules::NO_IMAGE_VERSION]
                                        .contains(&d.code))
                            });
                        }
                        (spec, diags, std::mem::take(&mut r.refs))
                    },
                )
                .collect()
        };
        // The services with errors are left out of the checks across services (their
        // routes and calls would be judged on values left out), and kept for the
        // references (see `Resolved`).
        let resolved = self.absorb(resolved);
        let services_ok = resolved.iter().all(|s| s.ok);
        let (ok, broken): (Vec<_>, Vec<_>) = resolved.into_iter().partition(|s| s.ok);
        env.services = ok.into_iter().map(|s| s.spec).collect();
        self.check_routes(&env);
        self.check_calls(&env, &callers);
        // A service that lost its overlay's table has no error of its own, but what
        // it renders is not what the overlay says.
        let ok = self.error_count() == errors_before && misplaced.is_empty() && settings_ok;
        let mut broken_names: Vec<String> = broken.iter().map(|s| s.spec.name.clone()).collect();
        broken_names.extend(misplaced);
        if !settings_ok {
            broken_names = env.services.iter().map(|s| s.name.clone()).collect();
            broken_names.extend(broken.iter().map(|s| s.spec.name.clone()));
        }
        if !services_ok {
            env.services.extend(broken.into_iter().map(|s| s.spec));
        }
        Some(Resolved {
            spec: env,
            ok,
            broken: broken_names,
        })
    }
}

/// The service tables an overlay lost to a mistake that reading reported: all of
/// them when its `services` key is misspelt (`[service.api]`, left out with KG002) or
/// its file is misnamed (`overlays/Staging.toml`, KG012),
/// or one when its table names a service platform.toml does not declare but one it
/// is close to (`[services.dbb]` for `db`, KG011). Errors that the service lacks
/// something (a `tag`, a required key) follow from the loss and are held back.
struct LostTables {
    all: bool,
    meant: Vec<String>,
}

impl LostTables {
    fn of(
        ws: &Workspace,
        overlay: &crate::workspace::Overlay,
        services: &crate::input::ServiceLayers,
    ) -> Self {
        let all = ws.left_out.get(&overlay.file).is_some_and(|l| {
            l.holders.iter().any(|h| {
                h.path.is_empty()
                    && h.keys
                        .iter()
                        .any(|k| crate::diagnostic::closest(k, ["services"]).is_some())
            })
        });
        let declared = || services.keys().map(|k| k.value.as_str());
        let meant = overlay
            .data
            .services
            .keys()
            .filter(|k| !services.contains_key(k.value.as_str()))
            .filter_map(|k| crate::diagnostic::closest(&k.value, declared()))
            .map(str::to_string)
            .collect();
        LostTables { all, meant }
    }

    /// An environment without an overlay, when an overlay's file is named close to it
    /// (`overlays/Staging.toml` for `staging`, refused with KG012): every table of it
    /// is lost.
    fn misnamed_overlay(ws: &Workspace, env: &str) -> Option<Self> {
        let declared = ws.environment_names();
        ws.overlays
            .keys()
            .filter(|k| !declared.contains(&k.as_str()))
            .any(|k| k.eq_ignore_ascii_case(env) || crate::diagnostic::closest(k, [env]).is_some())
            .then(|| LostTables {
                all: true,
                meant: Vec::new(),
            })
    }

    fn lost(&self, service: &str) -> bool {
        self.all || self.meant.iter().any(|m| m == service)
    }
}
