//! One service of one environment: its layers merged, built-in defaults applied,
//! templates evaluated and every value checked, into its `ServiceSpec`
//! (`Resolver::service`). The parts with their own subject live in the sibling
//! modules (workload, pod, traffic, availability, autoscaling, env_vars, ...).

use super::*;

/// The name a service is checked under: its own when it is a DNS-1123 label, else
/// the label nearest to it (`Db` as `db`), `None` when there is none.
pub(super) fn checked_as(name: &str) -> Option<std::borrow::Cow<'_, str>> {
    match crate::names::check_dns1123_label(name) {
        Ok(()) => Some(name.into()),
        Err(_) => crate::names::nearest_dns1123_label(name).map(Into::into),
    }
}

impl<'a> Resolver<'a> {
    #[allow(clippy::too_many_lines)]
    pub(super) fn service(
        &mut self,
        name: &str,
        name_origin: Origin,
        header: Origin,
        layers: &Layers<'a, ServiceLayer>,
        env: &EnvSpec,
        contexts: Contexts<'_>,
    ) -> Option<Resolved<ServiceSpec>> {
        let before = self.error_count();
        let mut origins = BTreeMap::new();
        origins.insert(
            crate::validate::SERVICE_ORIGIN.to_string(),
            name_origin.clone(),
        );
        // A name that is not a label is an error; the service is checked on under the
        // label it is nearest to (`Db` as `db`), so that its other errors come in
        // this run too (docs/cli.md, "Problem formats").
        let checked;
        let name = if self.check_label("service name", name, name_origin.clone()) {
            name
        } else {
            checked = checked_as(name)?;
            &*checked
        };
        let ctx = self.template_context(
            name,
            contexts.env,
            contexts.cluster,
            Some(contexts.namespaces),
        );
        let rec = |origins: &mut BTreeMap<String, Origin>, key: &str, o: &Origin| {
            origins.insert(key.to_string(), o.clone());
        };

        // Namespace (rendered before the services, see `environment`).
        let (namespace, ns_origin) = contexts.namespace?;
        rec(&mut origins, "namespace", &ns_origin);

        let app_name = self.app_name(&ctx);

        // The kind of workload decides which settings apply (see `workload`).
        let kind = self.kind(layers, &mut origins);

        // Image.
        let image = match layers.pick(|l| l.image.as_ref()) {
            Some(img) => {
                rec(&mut origins, "image", &img.origin);
                self.full_image(img)
            }
            None => {
                self.error(
                    rules::MISSING_KEY,
                    name_origin.clone(),
                    format!("service `{name}` has no `image`"),
                )
                .help("add `image = \"<repository>\"` to the service, e.g. `image = \"acme/api\"`");
                String::new()
            }
        };
        let tag = layers.pick(|l| l.tag.as_ref()).map(|t| {
            rec(&mut origins, "tag", &t.origin);
            self.check_image_tag(
                &t,
                &format!("service `{name}`"),
                "set an immutable tag such as a version or commit SHA (`kgen bump-image` does this from CI)",
            )
        });
        let digest = layers.pick(|l| l.digest.as_ref()).map(|d| {
            rec(&mut origins, "digest", &d.origin);
            self.check_image_digest(&d)
        });
        if tag.is_none() && digest.is_none() {
            self.error(
                rules::NO_IMAGE_VERSION,
                header.clone(),
                format!("service `{name}` has no image `tag` or `digest` in environment `{}`", env.name),
            )
            .help(format!(
                "set `tag = \"1.2.3\"` under [services.{name}] in overlays/{}.toml (or in platform.toml for every environment)",
                env.name
            ));
        }

        // Port and replicas.
        let port = match layers
            .pick(|l| l.port.as_ref())
            .filter(|v| self.fits_kind(kind, layers, "port", Some((&v.origin, v.base))))
        {
            Some(v) => {
                rec(&mut origins, "port", &v.origin);
                self.int_in_range(*v.value, 1, 65535, &v.origin, "port")
                    .unwrap_or(builtin::PORT as i64) as u16
            }
            None => builtin::PORT,
        };
        let port_name = match layers
            .pick(|l| l.port_name.as_ref())
            .filter(|v| self.fits_kind(kind, layers, "port_name", Some((&v.origin, v.base))))
        {
            Some(v) => {
                rec(&mut origins, "port_name", &v.origin);
                let bad = names::check_port_name(v.value).err().or_else(|| {
                    (v.value == crate::render::deployment::METRICS_PORT_NAME).then(|| {
                        "`metrics` is the name of the metrics port kgen sets (`metrics.port`)"
                            .to_string()
                    })
                });
                match bad {
                    Some(e) => {
                        let d = self.error(
                            rules::INVALID_NAME,
                            v.origin.clone(),
                            format!("port_name: {e}"),
                        );
                        if let Some(n) = names::nearest_port_name(v.value) {
                            d.label(format!("did you mean `{n}`?"));
                        }
                        d.help("a port name is an IANA service name: at most 15 lowercase letters, digits and `-`, with at least one letter, not starting or ending with `-` and without `--`, e.g. `redis` or `web`");
                        crate::render::deployment::CONTAINER_PORT_NAME.to_string()
                    }
                    None => v.value.clone(),
                }
            }
            None => crate::render::deployment::CONTAINER_PORT_NAME.to_string(),
        };
        self.main_port = port_name.clone();
        let replicas = match layers
            .pick(|l| l.replicas.as_ref())
            .filter(|v| self.fits_kind(kind, layers, "replicas", Some((&v.origin, v.base))))
        {
            Some(v) => {
                rec(&mut origins, "replicas", &v.origin);
                self.int_in_range(*v.value, 0, 10_000, &v.origin, "replicas")
                    .unwrap_or(0) as u32
            }
            None => builtin::REPLICAS,
        };

        // Resources.
        let rq = |l: &'a ServiceLayer| l.resources.as_ref().and_then(|r| r.requests.as_ref());
        let lm = |l: &'a ServiceLayer| l.resources.as_ref().and_then(|r| r.limits.as_ref());
        let req_cpu = layers.pick(|l| rq(l)?.cpu.as_ref());
        let req_mem = layers.pick(|l| rq(l)?.memory.as_ref());
        let lim_cpu = layers.pick(|l| lm(l)?.cpu.as_ref());
        let lim_mem = layers.pick(|l| lm(l)?.memory.as_ref());
        let mut quantities = Vec::new();
        for (path, v, default) in [
            ("resources.requests.cpu", req_cpu, builtin::REQUEST_CPU),
            (
                "resources.requests.memory",
                req_mem,
                builtin::REQUEST_MEMORY,
            ),
            ("resources.limits.cpu", lim_cpu, builtin::LIMIT_CPU),
            ("resources.limits.memory", lim_mem, builtin::LIMIT_MEMORY),
        ] {
            let parsed = match &v {
                Some(v) => {
                    origins.insert(path.to_string(), v.origin.clone());
                    match quantity::parse_non_negative(v.value) {
                        Ok(q) => {
                            self.unit_slip(path, v.value, &v.origin);
                            Some(q)
                        }
                        Err(e) => {
                            self.error(rules::INVALID_QUANTITY, v.origin.clone(), e);
                            None
                        }
                    }
                }
                None => quantity::Quantity::parse(default).ok(),
            };
            let text = v
                .as_ref()
                .map_or_else(|| default.to_string(), |v| v.value.clone());
            quantities.push((path, text, parsed, v.map(|v| v.origin)));
        }
        for (req, lim, what) in [(0, 2, "cpu"), (1, 3, "memory")] {
            if let (Some(r), Some(l)) = (quantities[req].2, quantities[lim].2) {
                let origin = quantities[req]
                    .3
                    .clone()
                    .or_else(|| quantities[lim].3.clone())
                    .unwrap_or_else(|| name_origin.clone());
                let texts = (quantities[req].1.as_str(), quantities[lim].1.as_str());
                self.request_within_limit(what, (r, l), texts, origin);
            }
        }
        let resources = Resources {
            requests: CpuMem {
                cpu: Some(quantities[0].1.clone()),
                memory: Some(quantities[1].1.clone()),
            },
            limits: CpuMem {
                cpu: Some(quantities[2].1.clone()),
                memory: Some(quantities[3].1.clone()),
            },
        };

        // Probes. Inherited from [defaults] by a kind without the `http` port they
        // usually probe, they are left out.
        let probes = {
            let [liveness, readiness, startup] =
                self.probes("probes", layers, !kind.can_have_service(), &mut origins);
            if !kind.can_have_service() {
                for (w, p) in [
                    ("liveness", &liveness),
                    ("readiness", &readiness),
                    ("startup", &startup),
                ] {
                    self.probe_without_http(kind, w, p.as_ref(), &origins);
                }
            }
            Probes {
                liveness,
                readiness,
                startup,
            }
        };

        // Environment variables and config entries.
        let mut env_vars = BTreeMap::new();
        let mut env_refs = BTreeMap::new();
        for (key, entry) in layers.map(|l| Some(&l.env)) {
            let path = ["env.", key].concat();
            origins.insert(path, entry.value.origin.clone());
            if let Err(e) = names::check_env_var_name(key) {
                let help = names::env_var_name_help(key);
                let message = help.map_or(e, |_| names::env_var_name_problem(key));
                let d = self.error(rules::INVALID_KEY, entry.key.clone(), message);
                if let Some(n) = names::nearest_env_var_name(key) {
                    d.label(format!("did you mean `{n}`?"));
                }
                if let Some(help) = help {
                    d.help(help);
                }
                continue;
            }
            match entry.value.value {
                EnvValue::Literal(Scalar(raw)) => {
                    self.scan_secret(key, raw, &entry.value.origin);
                    self.check_number_text(key, raw, &entry.value.origin);
                    if let Some(v) = self.render_keyed(key, raw, &entry.value.origin, &ctx) {
                        env_vars.insert(key.to_string(), v);
                    }
                }
                EnvValue::From(t) => {
                    if let Some(s) = self.env_source("env", key, t, &entry.value.origin, &ctx) {
                        env_refs.insert(key.to_string(), s);
                    }
                }
            }
        }
        let mut config = BTreeMap::new();
        for (key, entry) in layers.map(|l| Some(&l.config)) {
            origins.insert(["config.", key].concat(), entry.value.origin.clone());
            if let Err(e) = names::check_config_map_key(key) {
                let d = self.error(rules::INVALID_KEY, entry.key.clone(), e);
                if let Some(n) = names::nearest_config_map_key(key) {
                    d.label(format!("did you mean `{n}`?"));
                }
                continue;
            }
            if key == VERSION_KEY {
                self.error(
                    rules::RESERVED,
                    entry.key.clone(),
                    format!(
                        "config key `{VERSION_KEY}` is reserved: kgen sets it to the image tag"
                    ),
                )
                .help("remove it; the running version is in the ConfigMap already");
                continue;
            }
            let Scalar(raw) = entry.value.value;
            self.scan_secret(key, raw, &entry.value.origin);
            self.check_number_text(key, raw, &entry.value.origin);
            if let Some(v) = self.render_keyed(key, raw, &entry.value.origin, &ctx) {
                config.insert(key.to_string(), v);
            }
        }
        // `${NAME}` references, checked; values written the way the kubelet reads them.
        let (env_vars, config) = self.kubelet_env(env, layers, env_vars, config, &origins);

        // Autoscaling (when it has an error, how many pods can run is not known).
        let errors = self.error_count();
        let autoscaling = if self.uses(kind, layers, "autoscaling") {
            self.autoscaling(name, layers, &mut origins)
        } else {
            None
        };
        let scaling_known = self.error_count() == errors;
        if let Some(a) = &autoscaling {
            self.replicas_beside_autoscaling(env, layers, a);
        }

        // IRSA role.
        let iam_role = layers.pick(|l| l.iam_role.as_ref()).and_then(|r| {
            origins.insert("iam_role".into(), r.origin.clone());
            let v = self.render_template(r.value, &r.origin, &ctx)?;
            if !is_iam_role_arn(&v) {
                self.error(rules::INVALID_VALUE, r.origin.clone(), format!("`{v}` is not an IAM role ARN"))
                    .help("write `arn:aws:iam::<12-digit account>:role/<name>`; templates like `{{ env.aws_account }}` help");
                return None;
            }
            Some(v)
        });

        // Secrets.
        let mut secrets = Vec::new();
        if let Some(list) = layers.pick(|l| l.secrets.as_ref()) {
            origins.insert("secrets".into(), list.origin.clone());
            let file = list.origin.file;
            let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
            for s in list.value {
                let o = |span: &std::ops::Range<usize>| Origin::new(file, span.clone());
                if let Err(e) = names::check_config_map_key(&s.name.value) {
                    let d = self.error(
                        rules::INVALID_NAME,
                        o(&s.name.span),
                        format!("secret name: {e}"),
                    );
                    if let Some(n) = names::nearest_config_map_key(&s.name.value) {
                        d.label(format!("did you mean `{n}`?"));
                    }
                }
                if seen.insert(&s.name.value, ()).is_some() {
                    self.error(rules::DUPLICATE, o(&s.name.span), format!("secret `{}` is listed twice", s.name.value))
                        .help("each secret becomes a file /mnt/secrets-store/<name>; give each a distinct name");
                }
                let Some(key) = self.render_template(&s.key.value, &o(&s.key.span), &ctx) else {
                    continue;
                };
                if key.trim().is_empty() {
                    self.error(
                        rules::INVALID_VALUE,
                        o(&s.key.span),
                        "secret `key` is empty".into(),
                    );
                }
                self.check_secret(env, s, &key, file);
                secrets.push(Secret {
                    name: s.name.value.clone(),
                    from: s.from.value,
                    key,
                    json_key: s.json_key.as_ref().map(|j| j.value.clone()),
                });
            }
            if !list.value.is_empty() && layers.pick(|l| l.iam_role.as_ref()).is_none() {
                self.csi_secrets_without_role(name, env, &list.origin);
            }
        }

        let run_as_user = match layers.pick(|l| l.run_as_user.as_ref()) {
            Some(v) => {
                origins.insert("run_as_user".into(), v.origin.clone());
                self.int_in_range(*v.value, 1, i32::MAX as i64, &v.origin, "run_as_user")
                    .unwrap_or(builtin::RUN_AS_USER)
            }
            None => builtin::RUN_AS_USER,
        };

        let mut metrics = if self.uses(kind, layers, "metrics") {
            self.metrics(layers, port, &mut origins)
        } else {
            None
        };
        let ingress = if self.uses(kind, layers, "ingress") {
            self.service_ingress(name, layers, env, &ctx, &mut origins)
        } else {
            None
        };
        let calls = self.calls(name, layers, &mut origins);
        let disruption_budget = if self.uses(kind, layers, "disruption_budget") {
            self.disruption_budget(layers, &mut origins)
        } else {
            None
        };
        if let Some(b) = &disruption_budget {
            let range = autoscaling
                .as_ref()
                .map_or((replicas, replicas), |a| (a.min, a.max));
            self.budget_that_blocks(name, b, range, &origins);
        }
        let spread = if self.uses(kind, layers, "spread") {
            self.spread(layers, &mut origins)
        } else {
            crate::spec::Spread {
                zones: crate::input::SpreadMode::Off,
                nodes: crate::input::SpreadMode::Off,
            }
        };

        // What the pods are made of (see `pod` and `workload`).
        let workload = self.workload(name, kind, &header, layers, &mut origins);
        let command = self.string_list(
            "command",
            layers.pick(|l| l.command.as_ref()),
            &ctx,
            &mut origins,
        );
        let args = self.string_list("args", layers.pick(|l| l.args.as_ref()), &ctx, &mut origins);
        let mut ports = self.ports("ports", layers.map(|l| Some(&l.ports)), &mut origins);
        if !kind.can_have_service() {
            // No Service: the ports are the container's only.
            for p in &mut ports {
                p.service_port = None;
            }
        }
        // A DaemonSet (a node agent) gets a Service only when it asks for one: a
        // `service` table or its own `port`.
        let asks = kind != crate::spec::WorkloadKind::Daemonset
            || layers
                .pick(|l| l.service.as_deref())
                .is_some_and(|s| !s.base)
            || layers.pick(|l| l.port.as_ref()).is_some_and(|p| !p.base);
        let wants_service = kind.can_have_service()
            && asks
            && layers
                .pick(|l| l.service.as_ref()?.enabled.as_ref())
                .is_none_or(|e| *e.value);
        let service = if self.uses(kind, layers, "service") && wants_service {
            Some(self.service_exposure(layers, port, &mut origins))
        } else {
            None
        };
        if service.is_none() && kind.can_have_service() {
            // Why there is none, and how to have one, for what needs it.
            let (why, fix) = if asks {
                (
                    " (`service.enabled = false`)".to_string(),
                    "remove `service.enabled = false`",
                )
            } else {
                (
                    format!(": a `{}` has a Service only when it sets `port` or a `service` table itself (not from [defaults])", kind.as_str()),
                    "give the service a `port` or `service = {}`",
                )
            };
            if let Some(i) = layers
                .pick(|l| l.ingress.as_deref())
                .filter(|_| ingress.is_some())
            {
                self.error(
                    rules::KIND_MISMATCH,
                    i.origin.clone(),
                    format!("service `{name}` has an `ingress` but no Service{why}"),
                )
                .help(format!(
                    "an Ingress routes to the Service: {fix}, or remove the `ingress`"
                ));
            }
            // Prometheus scrapes through a Service (the ServiceMonitor selects it); a
            // StatefulSet always has its headless one. `metrics` from [defaults] is
            // ignored here, as by the kinds it does not fit.
            if let Some(m) = layers
                .pick(|l| l.metrics.as_deref())
                .filter(|_| metrics.is_some() && kind != crate::spec::WorkloadKind::Statefulset)
            {
                if m.base {
                    metrics = None;
                    origins.remove("metrics");
                    origins.remove("metrics.port");
                } else {
                    self.error(
                        rules::KIND_MISMATCH,
                        m.origin.clone(),
                        format!("service `{name}` has `metrics` but no Service{why}"),
                    )
                    .help(format!(
                        "Prometheus scrapes the pods through their Service: {fix}, or remove `metrics`"
                    ));
                }
            }
        }
        // Every volume the service declares, those with an error (reported, and left
        // out of `volumes`) too: a sidecar mounting one is no second mistake.
        let declared_volumes: Vec<&str> = layers
            .entry_keys(|l| Some(&l.volumes))
            .into_keys()
            .collect();
        let volumes = self.volumes(
            layers.entries(|l| Some(&l.volumes)),
            matches!(
                kind,
                crate::spec::WorkloadKind::Deployment
                    | crate::spec::WorkloadKind::Worker
                    | crate::spec::WorkloadKind::Statefulset
            ),
            kind.as_str(),
            &mut origins,
        );
        let files = self.files(
            layers.entries(|l| Some(&l.files)),
            &volumes,
            &ctx,
            &mut origins,
        );
        // The volumes kgen gives the pod itself: `/tmp` always, the CSI driver's
        // secrets when it mounts any.
        let own_volumes: &[&str] =
            if env.secrets_backend == crate::spec::SecretsBackend::Csi && !secrets.is_empty() {
                &["tmp", "secrets-store"]
            } else {
                &["tmp"]
            };
        let sidecars = self.containers(
            name,
            "sidecars",
            layers.entries(|l| Some(&l.sidecars)),
            &layers.entry_keys(|l| Some(&l.sidecars)),
            (&volumes, &declared_volumes),
            own_volumes,
            !secrets.is_empty(),
            &ctx,
            &mut origins,
        );
        let init_containers = self.containers(
            name,
            "init_containers",
            layers.entries(|l| Some(&l.init_containers)),
            &layers.entry_keys(|l| Some(&l.init_containers)),
            (&volumes, &declared_volumes),
            own_volumes,
            !secrets.is_empty(),
            &ctx,
            &mut origins,
        );
        self.env_resource_containers(name, &env_refs, &sidecars, &init_containers, &origins);
        let placement = self.placement(layers, &mut origins);
        if scaling_known {
            let most = crate::spec::max_replicas(replicas, autoscaling.as_ref());
            self.check_shared_claims(kind, env, most, &volumes, &placement, &origins);
        }
        let image_pull_secrets = self.image_pull_secrets(layers, &mut origins);
        let labels = self.metadata_map("labels", layers.map(|l| Some(&l.labels)), &mut origins);
        let annotations = self.metadata_map(
            "annotations",
            layers.map(|l| Some(&l.annotations)),
            &mut origins,
        );
        let pod_labels = self.metadata_map(
            "pod_labels",
            layers.map(|l| Some(&l.pod_labels)),
            &mut origins,
        );
        let pod_annotations = self.metadata_map(
            "pod_annotations",
            layers.map(|l| Some(&l.pod_annotations)),
            &mut origins,
        );
        let automount_token = layers
            .pick(|l| l.service_account.as_ref()?.automount_token.as_ref())
            .map(|a| {
                origins.insert("service_account.automount_token".into(), a.origin.clone());
                *a.value
            });
        let rollout = self.rollout(kind, layers, env, &mut origins);

        let pod_security = layers.pick(|l| l.pod_security.as_ref()).map_or(
            crate::spec::PodSecurityLevel::Restricted,
            |p| {
                origins.insert("pod_security".into(), p.origin.clone());
                *p.value
            },
        );

        let ok = self.error_count() == before;
        let spec = ServiceSpec {
            name: name.to_string(),
            namespace,
            app_name,
            image,
            tag,
            digest,
            port,
            port_name,
            replicas,
            resources,
            probes,
            env: env_vars,
            env_refs,
            config,
            autoscaling,
            iam_role,
            secrets,
            run_as_user,
            metrics,
            ingress,
            calls,
            disruption_budget,
            spread,
            workload,
            command,
            args,
            ports,
            service,
            sidecars,
            init_containers,
            volumes,
            files,
            placement,
            image_pull_secrets,
            labels,
            annotations,
            pod_labels,
            pod_annotations,
            automount_token,
            rollout,
            pod_security,
            waivers: waivers(
                self.pf,
                self.platform_file()
                    .services
                    .get(name)
                    .and_then(|l| l.value.waivers.as_ref()),
            ),
            origins: origins.into(),
        };
        Some(Resolved {
            spec,
            ok,
            broken: Vec::new(),
        })
    }
}

impl Resolver<'_> {
    /// KG020 when a `what` (cpu, memory) request is above its limit, which the API
    /// server refuses: services' and add-ons' alike. `texts` are the two as written.
    pub(super) fn request_within_limit(
        &mut self,
        what: &str,
        (request, limit): (quantity::Quantity, quantity::Quantity),
        (request_text, limit_text): (&str, &str),
        origin: Origin,
    ) {
        if request > limit {
            self.error(
                rules::REQUESTS_EXCEED_LIMITS,
                origin,
                format!("{what} request {request_text} is larger than its limit {limit_text}"),
            )
            .help(format!("the API server rejects a request above its limit: lower `resources.requests.{what}` or raise `resources.limits.{what}`"));
        }
    }
}
