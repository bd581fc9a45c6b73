use super::*;

fn set(text: &str, service: &str, field: Field, value: &str) -> String {
    apply(text, &[Edit::set(service, field, value)])
        .unwrap()
        .text
}

#[test]
fn replaces_only_the_value_bytes() {
    let t = "[services.a]\ntag   =   '1.0'   # pinned\n";
    assert_eq!(
        set(t, "a", Field::Tag, "2.0"),
        "[services.a]\ntag   =   '2.0'   # pinned\n"
    );
}

#[test]
fn same_value_changes_nothing() {
    let t = "[services.a]\ntag = \"1.0\"\n";
    let e = apply(t, &[Edit::set("a", Field::Tag, "1.0")]).unwrap();
    assert!(!e.changed());
    assert_eq!(e.text, t);
}

#[test]
fn dotted_inline_and_missing() {
    assert_eq!(
        set("services.a.tag = \"1\"\n", "a", Field::Tag, "2"),
        "services.a.tag = \"2\"\n"
    );
    assert_eq!(
        set("services.a.replicas = 1\n", "a", Field::Tag, "2"),
        "services.a.replicas = 1\nservices.a.tag = \"2\"\n"
    );
    assert_eq!(
        set("services.a.tag = \"1\"\n", "b", Field::Tag, "2"),
        "services.a.tag = \"1\"\nservices.b.tag = \"2\"\n"
    );
    assert_eq!(
        set(
            "[services]\na = { tag = \"1\" }\n",
            "a",
            Field::Digest,
            "sha256:x"
        ),
        "[services]\na = { tag = \"1\", digest = \"sha256:x\" }\n"
    );
    assert_eq!(
        set("[services]\na = { replicas = 1 }\n", "b", Field::Tag, "2"),
        "[services]\na = { replicas = 1 }\n\n[services.b]\ntag = \"2\"\n"
    );
    assert_eq!(
        set("services = { a = { tag = \"1\" } }\n", "b", Field::Tag, "2"),
        "services = { a = { tag = \"1\" }, b = { tag = \"2\" } }\n"
    );
    assert_eq!(set("", "a", Field::Tag, "1"), "[services.a]\ntag = \"1\"\n");
    assert_eq!(
        set("# hi\n", "a", Field::Tag, "1"),
        "# hi\n\n[services.a]\ntag = \"1\"\n"
    );
}

#[test]
fn sub_table_only() {
    assert_eq!(
        set("[services.a.autoscaling]\nmin = 1\n", "a", Field::Tag, "2"),
        "[services.a]\ntag = \"2\"\n\n[services.a.autoscaling]\nmin = 1\n"
    );
}

#[test]
fn tag_goes_before_digest_and_digest_after_tag() {
    assert_eq!(
        set(
            "[services.a]\nreplicas = 1\ndigest = 'sha256:1'\nport = 1\n",
            "a",
            Field::Tag,
            "2"
        ),
        "[services.a]\nreplicas = 1\ntag = '2'\ndigest = 'sha256:1'\nport = 1\n"
    );
    assert_eq!(
        set(
            "[services.a]\ntag = \"1\" # c\nport = 1\n",
            "a",
            Field::Digest,
            "sha256:2"
        ),
        "[services.a]\ntag = \"1\" # c\ndigest = \"sha256:2\"\nport = 1\n"
    );
}

#[test]
fn removes() {
    let r = |t: &str| apply(t, &[Edit::remove("a", Field::Digest)]).unwrap().text;
    assert_eq!(
        r("[services.a]\ntag = \"1\"\ndigest = \"sha256:1\" # x\nport = 1\n"),
        "[services.a]\ntag = \"1\"\nport = 1\n"
    );
    assert_eq!(
        r("[services]\na = { tag = \"1\", digest = \"d\" }\n"),
        "[services]\na = { tag = \"1\" }\n"
    );
    assert_eq!(
        r("[services]\na = { digest = \"d\", tag = \"1\" }\n"),
        "[services]\na = { tag = \"1\" }\n"
    );
    assert_eq!(
        r("[services.a]\ntag = \"1\"\n"),
        "[services.a]\ntag = \"1\"\n"
    );
}

#[test]
fn more_forms() {
    // `[services]` with dotted children.
    assert_eq!(
        set(
            "[services]\na.tag = \"1\"\na.port = 1\n",
            "a",
            Field::Digest,
            "d"
        ),
        "[services]\na.tag = \"1\"\na.digest = \"d\"\na.port = 1\n"
    );
    assert_eq!(
        set("[services]\na.port = 1\n", "a", Field::Tag, "2"),
        "[services]\na.port = 1\na.tag = \"2\"\n"
    );
    // Quoted keys, a multi-line string, no newline at the end of the file.
    assert_eq!(
        set(
            "[services.\"a\"]\ntag = \"\"\"1\"\"\"",
            "a",
            Field::Tag,
            "2"
        ),
        "[services.\"a\"]\ntag = \"\"\"2\"\"\""
    );
    assert_eq!(
        set("[services.a]\nport = 1", "a", Field::Tag, "2"),
        "[services.a]\nport = 1\ntag = \"2\""
    );
    // An empty table and an empty inline table.
    assert_eq!(
        set("[services.a]\n\n[monitoring]\n", "a", Field::Tag, "2"),
        "[services.a]\ntag = \"2\"\n\n[monitoring]\n"
    );
    assert_eq!(
        set("[services]\na = {}\n", "a", Field::Tag, "2"),
        "[services]\na = { tag = \"2\" }\n"
    );
    // Indented keys keep their indentation.
    assert_eq!(
        set("[services.a]\n  port = 1\n", "a", Field::Tag, "2"),
        "[services.a]\n  port = 1\n  tag = \"2\"\n"
    );
    // A new service between services and a following table, with CRLF.
    assert_eq!(
        set(
            "[services.a]\r\ntag = \"1\"\r\n[monitoring]\r\n",
            "b",
            Field::Tag,
            "2"
        ),
        "[services.a]\r\ntag = \"1\"\r\n\r\n[services.b]\r\ntag = \"2\"\r\n\r\n[monitoring]\r\n"
    );
    // `read` sees every form.
    assert_eq!(
        read("services = { a = { tag = \"1\" } }", "a", Field::Tag).unwrap(),
        Some("1".into())
    );
    assert_eq!(read("[services.b]\n", "a", Field::Tag).unwrap(), None);
}

#[test]
fn not_a_table_is_an_error() {
    let e = apply("services = 1\n", &[Edit::set("a", Field::Tag, "1")]).unwrap_err();
    assert!(e.message.contains("must be a table"), "{e}");
    let e = apply("[services.a\n", &[Edit::set("a", Field::Tag, "1")]).unwrap_err();
    assert!(e.syntax);
}
