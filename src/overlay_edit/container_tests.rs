use super::*;

fn proxy() -> Option<ContainerRef> {
    Some(ContainerRef::new(ContainerList::Sidecars, "proxy"))
}

fn set(text: &str, field: Field, value: &str) -> String {
    apply(
        text,
        &[Edit::set("api", field, value).in_container(proxy())],
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"))
    .text
}

#[test]
fn a_container_is_found_and_created_in_every_form() {
    // The value exists: only its bytes change.
    assert_eq!(
        set(
            "[services.api.sidecars.proxy]\ntag = '2.1' # pinned\n",
            Field::Tag,
            "2.2"
        ),
        "[services.api.sidecars.proxy]\ntag = '2.2' # pinned\n"
    );
    assert_eq!(
        set(
            "[services.api]\nsidecars.proxy.tag = \"2.1\"\n",
            Field::Tag,
            "2.2"
        ),
        "[services.api]\nsidecars.proxy.tag = \"2.2\"\n"
    );
    assert_eq!(
        set(
            "[services]\napi = { sidecars = { proxy = { tag = \"2.1\" } } }\n",
            Field::Tag,
            "2.2"
        ),
        "[services]\napi = { sidecars = { proxy = { tag = \"2.2\" } } }\n"
    );
    // The key is missing: next to its sibling, or at the end of the table.
    assert_eq!(
            set("[services.api.sidecars.proxy]\nimage = \"envoy\"\ntag = \"2.1\"\nport = 1\n", Field::Digest, "sha256:x"),
            "[services.api.sidecars.proxy]\nimage = \"envoy\"\ntag = \"2.1\"\ndigest = \"sha256:x\"\nport = 1\n"
        );
    assert_eq!(
        set(
            "[services.api]\nsidecars.proxy.image = \"envoy\"\n",
            Field::Tag,
            "2.2"
        ),
        "[services.api]\nsidecars.proxy.image = \"envoy\"\nsidecars.proxy.tag = \"2.2\"\n"
    );
    // The container is missing: a table of its own after the service's last line,
    // a dotted line, or an inline entry, as the service is written.
    assert_eq!(
            set("[services.api]\ntag = \"1\"\n\n[services.web]\ntag = \"2\"\n", Field::Tag, "2.2"),
            "[services.api]\ntag = \"1\"\n\n[services.api.sidecars.proxy]\ntag = \"2.2\"\n\n[services.web]\ntag = \"2\"\n"
        );
    assert_eq!(
        set("services.api.tag = \"1\"\n", Field::Tag, "2.2"),
        "services.api.tag = \"1\"\nservices.api.sidecars.proxy.tag = \"2.2\"\n"
    );
    assert_eq!(
        set("[services]\napi = { tag = \"1\" }\n", Field::Tag, "2.2"),
        "[services]\napi = { tag = \"1\", sidecars = { proxy = { tag = \"2.2\" } } }\n"
    );
    // Only a sub-table of the container exists: its table goes right before it.
    assert_eq!(
            set("[services.api.sidecars.proxy.resources]\ncpu = 1\n", Field::Tag, "2.2"),
            "[services.api.sidecars.proxy]\ntag = \"2.2\"\n\n[services.api.sidecars.proxy.resources]\ncpu = 1\n"
        );
    // No services at all.
    assert_eq!(
        set("# dev\n", Field::Tag, "2.2"),
        "# dev\n\n[services.api.sidecars.proxy]\ntag = \"2.2\"\n"
    );
}

#[test]
fn init_containers_and_removal() {
    let migrate = Some(ContainerRef::new(ContainerList::InitContainers, "migrate"));
    let text = "[services.api]\ntag = \"1\"\n\n[services.api.init_containers.migrate]\ntag = \"1\"\ndigest = \"sha256:1\"\n";
    let e = apply(
        text,
        &[
            Edit::set("api", Field::Tag, "2").in_container(migrate.clone()),
            Edit::remove("api", Field::Digest).in_container(migrate.clone()),
        ],
    )
    .unwrap();
    assert_eq!(
        e.text,
        "[services.api]\ntag = \"1\"\n\n[services.api.init_containers.migrate]\ntag = \"2\"\n"
    );
    assert_eq!(e.applied.len(), 2);
    assert_eq!(e.applied[0].container, migrate);
    assert_eq!(
        read_in(&e.text, "api", migrate.as_ref(), Field::Tag).unwrap(),
        Some("2".into())
    );
    // The service's own tag is another value.
    assert_eq!(read(&e.text, "api", Field::Tag).unwrap(), Some("1".into()));
    assert_eq!(
        read_in(&e.text, "api", proxy().as_ref(), Field::Tag).unwrap(),
        None
    );
}

#[test]
fn a_list_that_is_not_a_table_is_an_error() {
    let e = apply(
        "[services.api]\nsidecars = 1\n",
        &[Edit::set("api", Field::Tag, "2").in_container(proxy())],
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "`services.api.sidecars` must be a table, but the file has integer"
    );
    let e = apply(
        "[services]\napi = { sidecars = { proxy = \"envoy\" } }\n",
        &[Edit::set("api", Field::Tag, "2").in_container(proxy())],
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "`services.api.sidecars.proxy` must be a table, but the file has string"
    );
}

fn chart(text: &str, table: &[&str], value: &str) -> String {
    let (new, _) = apply_key(text, &KeyEdit::set(table, "chart_version", value)).unwrap();
    new
}

#[test]
fn a_key_at_any_table_path() {
    let cm = ["addons", "cert-manager"];
    // Replaced in place, in each form.
    assert_eq!(
        chart(
            "[addons.cert-manager]\nchart_version = \"v1.21.1\" # pinned\n",
            &cm,
            "v1.22.0"
        ),
        "[addons.cert-manager]\nchart_version = \"v1.22.0\" # pinned\n"
    );
    assert_eq!(
        chart(
            "addons.cert-manager.chart_version = '1.0.0'\n",
            &cm,
            "1.1.0"
        ),
        "addons.cert-manager.chart_version = '1.1.0'\n"
    );
    assert_eq!(
        chart(
            "[addons]\ncert-manager = { chart_version = \"1.0.0\", replicas = 1 }\n",
            &cm,
            "1.1.0"
        ),
        "[addons]\ncert-manager = { chart_version = \"1.1.0\", replicas = 1 }\n"
    );
    // A missing key goes at the end of its table.
    assert_eq!(
        chart(
            "[addons.cert-manager]\nreplicas = 1\n\n[monitoring]\n",
            &cm,
            "1.1.0"
        ),
        "[addons.cert-manager]\nreplicas = 1\nchart_version = \"1.1.0\"\n\n[monitoring]\n"
    );
    // A missing table after its parent's last line.
    let prod = ["clusters", "prod", "addons", "cert-manager"];
    assert_eq!(
            chart(
                "[clusters.prod]\nserver = \"s\"\n\n[clusters.prod.baseline.storage_classes.gp3]\ndefault = true\n\n[environments.prod]\ncluster = \"prod\"\n",
                &prod,
                "1.1.0"
            ),
            "[clusters.prod]\nserver = \"s\"\n\n[clusters.prod.baseline.storage_classes.gp3]\ndefault = true\n\n[clusters.prod.addons.cert-manager]\nchart_version = \"1.1.0\"\n\n[environments.prod]\ncluster = \"prod\"\n"
        );
    assert_eq!(
            chart("[clusters]\nprod = { server = \"s\" }\n", &prod, "1.1.0"),
            "[clusters]\nprod = { server = \"s\", addons = { cert-manager = { chart_version = \"1.1.0\" } } }\n"
        );
    // The same value: nothing changes, and the previous value is returned.
    let t = "[monitoring]\nchart_version = \"77.0.0\"\n";
    assert_eq!(
        apply_key(t, &KeyEdit::set(&["monitoring"], "chart_version", "77.0.0")).unwrap(),
        (t.to_string(), Some("77.0.0".to_string()))
    );
    assert_eq!(
        read_key(t, &["monitoring"], "chart_version").unwrap(),
        Some("77.0.0".into())
    );
    // A key that is not a string is refused.
    let e = apply_key(
        "[monitoring]\nchart_version = 77\n",
        &KeyEdit::set(&["monitoring"], "chart_version", "78.0.0"),
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "`chart_version` must be a string, but the file has integer"
    );
}
