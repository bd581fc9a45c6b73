//! Tests of the secret scan: red-team secrets that must be caught, look-alikes that
//! must pass, and the helpers.

use super::benign::is_duration;
use super::keys::{classify, split_words};
use super::*;

/// Standard base64 of `s`, for values built at run time.
fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &c| (acc << 8) | u32::from(c)) << (8 * (3 - chunk.len()));
        for k in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
        }
    }
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// (key, value) pairs that must be refused. Token bodies are built at run time so
/// that the source does not itself trip secret scanners.
#[rustfmt::skip]
fn must_catch() -> Vec<(String, String, &'static str)> {
    let alnum36 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
    let b64_40 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let jwt = format!(
        "{}.{}.{}",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    );
    let pem = format!(
        "-----BEGIN {} PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END RSA PRIVATE KEY-----",
        "RSA"
    );
    let c = |k: &str, v: &str, what: &'static str| (k.to_string(), v.to_string(), what);
    vec![
        c("AWS_ACCESS_KEY_ID", &format!("AKIA{}", "IOSFODNN7EXAMPLE"), "an AWS access key id"),
        c("NOTES", &format!("use ASIA{} for now", "Y34FZKBOKMUTVV7A"), "an AWS access key id"),
        c("AWS_SECRET_ACCESS_KEY", b64_40, AWS_SECRET_KEY),
        c("AWS_SK", b64_40, AWS_SECRET_KEY),
        c("credentials.ini", &format!("[default]\naws_secret_access_key = {b64_40}\n"), AWS_SECRET_KEY),
        c("CI_NOTE", &format!("ghp_{alnum36}"), GITHUB),
        c("X", &format!("token gho_{alnum36}"), GITHUB),
        c("X", &format!("ghs_{alnum36}"), GITHUB),
        c("X", &format!("github_pat_11ABCDEFG0{}_{}", alnum36, alnum36), GITHUB),
        c("CHAT", &format!("xoxb-{}-{}", "1234567890", "AbCdEfGhIjKlMnOp"), SLACK),
        c("ALERT_HOOK", &format!("https://hooks.slack.com/services/T0{}/B0{}/XyZ", "1234567", "7654321"), "a Slack webhook URL"),
        c("TLS_KEY", &pem, "a private key"),
        c("SSH", &format!("-----BEGIN OPENSSH PRIVATE {}-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "KEY"), "a private key"),
        c("SIGNING", &format!("-----BEGIN PGP PRIVATE KEY {}-----", "BLOCK"), "a private key"),
        c("SAMPLE_HEADER", &jwt, "a JSON Web Token"),
        c("Authorization", &format!("Bearer {jwt}"), "a JSON Web Token"),
        c("UPSTREAM_AUTHORIZATION", &format!("Bearer {}", "7f3kQ92xLmN0pR5sT8vW"), "a bearer token"),
        c("PROXY_HEADER", &format!("Basic {}", "YWRtaW46aHVudGVyMg=="), "HTTP basic-auth credentials"),
        c("DATABASE_URL", "postgres://app:s3cr3t@db:5432/app", "a password inside a URL"),
        c("CACHE_URL", "redis://:hunter2@redis:6379/0", "a password inside a URL"),
        c("MONGO", "mongodb+srv://u:p%40ss@cluster0.example.net/db?retryWrites=true", "a password inside a URL"),
        c("AMQP", "amqp://guest:guest@rabbit:5672", "a password inside a URL"),
        c("BROKERS", "kafka://a:b/c@broker:9092", "a password inside a URL"),
        c("PAYMENTS", &format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc"), STRIPE),
        c("MAPS", &format!("AIza{}", "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"), "a Google API key"),
        c("GITLAB", &format!("glpat-{}", "xxXXxx1234567890abcdEF"), "a GitLab token"),
        c("NPMRC", &format!("//registry.npmjs.org/:_authToken=npm_{alnum36}"), "an npm token"),
        c("VAULT", &format!("hvs.{}", "CAESIJ3kP9xQ2mRz7LwYb4NvTf8s"), "a HashiCorp Vault token"),
        c("LLM", &format!("sk-proj-{}", "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"), "an OpenAI API key"),
        c("DB_PASSWORD", "hunter2", "a literal password"),
        c("db.password", "correct horse battery staple", "a literal password"),
        c("client-secret", "abc", "a literal secret"),
        c("apiKey", "12345abcde", "a literal API key"),
        c("SSH_PRIVATE_KEY", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "a literal private key"),
        c("SLACK_TOKEN", "xyz-plain-text-value", "a literal token"),
        c("GOOGLE_CREDENTIALS", r#"{"type": "service_account"}"#, "literal credentials"),
        c("REDIS_PASSWORD", "123456", "a literal password"),
        c("MYSQL_ROOT_PASSWORD", "changeme", "a literal password"),
        c("DB_PASS", "postgres", "a literal password"),
        c("BASIC_AUTH", "admin:hunter2", "a user:password pair"),
        c("REDIS_AUTH", "Zx8kP2mQ9vL4", "a literal credential"),
        c("SESSION_SECRET", "Zx8!kP2#mQ9$vL4@nR7^", "a literal secret"),
        c("SECRET_KEY_BASE", "a".repeat(64).as_str(), "a literal secret"),
        c("SIGNING_KEY", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "a literal secret"),
        c("KEY", "q8Xk2LmN9pR4sT7vW1yZ3bD6fH0jK5nP", HIGH_ENTROPY),
        c("STRIPE_KEY", "9f86d081884c7d659a2feaa0c55ad015", HIGH_ENTROPY),
        c("DB_PASSWORD", "{{ env.name }}-Zk8p2Lx9Qm4Rt7Vw1Yz3", "a literal password"),
        c("NEXTAUTH_SECRET", "x", "a literal secret"),
        c("PGPASSWORD", "x", "a literal password"),
        c("X-Api-Key", "abc", "a literal API key"),
        c("COMMAND", "app --db-password Tr0ub4dor&3xx --verbose", "a literal password"),
        c("COMMAND", "curl -u admin:Hunt3r-Xyz https://example.com", "a user:password pair"),
        c("CFG", &b64(r#"{"user":"app","password":"Tr0ub4dor&3horse"}"#), RANDOM_VALUE),
        c("application.properties", "spring.datasource.password=hunter2\nserver.port=8080", "a literal password"),
        c("config.yaml", "db:\n  host: db\n  password: s3cr3t\n", "a literal password"),
        c("config.json", r#"{"api_key": "abc123def456", "region": "eu"}"#, "a literal API key"),
        c("PG_DSN", "host=db user=app password=s3cr3t dbname=app", "a literal password"),
        c("CONNECTION", "Server=tcp:x;Database=y;User Id=u;Password=p4ss;", "a literal password"),
        c("CALLBACK", "https://api.example.com/v1?access_token=abc123def456ghi789&x=1", "a literal token"),
        c("AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc123+/==;", "a literal secret"),
        c("ARGS", "--db-password=hunter2 --verbose", "a literal password"),
        c("entrypoint.sh", "#!/bin/sh\nexport API_TOKEN=abc123\nexec app", "a literal token"),
        c("dockerconfig", r#"{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}}}"#, "a literal credential"),
        c("settings.xml", "<server>\n  <id>nexus</id>\n  <password>hunter2</password>\n</server>", "a literal password"),
    ]
}

/// (key, value) pairs that look a bit like secrets but must pass.
#[rustfmt::skip]
fn must_pass() -> Vec<(&'static str, String)> {
    let c = |k: &'static str, v: &str| (k, v.to_string());
    vec![
        ("ARTIFACT_SHA512", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e".to_string()),
        ("checksum/config", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e".to_string()),
        ("checksum/md5", "d41d8cd98f00b204e9800998ecf8427e".to_string()),
        ("integrity", "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC".to_string()),
        ("checksum/b64", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".to_string()),
        ("SSH_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0a2V5cGxhY2Vob2xkZXJmb3J0ZXN0cw deploy@ci".to_string()),
        ("FEATURE_FLAGS", b64(r#"{"flagA":true,"flagB":false,"rolloutPercent":25}"#)),
        ("COMMAND", "app --password-file /run/secrets/db --port 8080".to_string()),
        ("COMMAND", "app --password $(DB_PASSWORD)".to_string()),
        ("COMMAND", "docker run --user 1000:1000 app --user app:app".to_string()),
        c("ROLE_ARN", "arn:aws:iam::123456789012:role/x"),
        c("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/kgen-main-api"),
        c("AWS_ACCOUNT_ID", "123456789012"),
        c("AWS_REGION", "eu-west-1"),
        c("REGISTRY", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        c("GIT_SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"),
        c("REQUEST_ID", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
        c("IMAGE_DIGEST", &format!("sha256:{}", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")),
        c("HOMEPAGE", "https://example.com/path?x=1&y=two"),
        c("DB_PASSWORD_FILE", "/mnt/secrets-store/db-password"),
        c("SECRET_PATH", "/var/run/secrets/x"),
        c("TOKEN_URL", "https://auth.example.com/oauth/token"),
        c("SECRET_NAME", "prod/db"),
        c("DB_PASSWORD_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"),
        c("TOKEN_AUDIENCE", "sts.amazonaws.com"),
        c("DB_PASSWORD", ""),
        c("DB_PASSWORD", "$(DB_PASSWORD)"),
        c("DB_PASSWORD", "${DB_PASSWORD}"),
        c("API_KEY", "{{ secrets.api_key }}"),
        c("DB_PASSWORD", "/mnt/secrets-store/db-password"),
        c("DB_PASSWORD", "prod/db-password"),
        c("REQUIRE_PASSWORD", "true"),
        c("PASSWORD_AUTH_ENABLED", "false"),
        c("MAX_TOKENS", "4096"),
        c("TOKEN_TTL", "3600"),
        c("AUTH_TOKEN_LIFETIME", "15m"),
        c("PASSWORD_MIN_LENGTH", "12"),
        c("DATABASE_URL", "postgres://app@db:5432/app"),
        c("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db:5432/app"),
        c("DATABASE_URL", "postgres://app:{{ db_password }}@db/app"),
        c("DATABASE_URL", "postgres://app:@db/app"),
        c("SENTRY_DSN", "https://abc123@o1.ingest.sentry.io/42"),
        c("REGISTRY_URL", "https://registry.example.com:5000/v2/@scope/pkg"),
        c("METRICS_URL", "http://[::1]:9090/api/@v1"),
        c("CONNECTION_TEMPLATE", "Server={host};User Id={user};Password={password};"),
        c("DATABASE_URL", "postgres://app:<password>@db/app"),
        c("values.yaml", "auth:\n  existingSecret: db-credentials\n  existingSecretPasswordKey: password\n"),
        c("PASSWORD_HASHER", "argon2"),
        c("TLS_CERT", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----"),
        c("AUTH_MODE", "oidc"),
        c("SMTP_AUTH", "login"),
        c("KAFKA_AUTH", "scram-sha-512"),
        c("GOOGLE_APPLICATION_CREDENTIALS", "/var/secrets/google/key.json"),
        c("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"),
        c("TOKENIZER_MODEL", "bert-base-uncased"),
        c("KEYCLOAK_URL", "https://sso.example.com"),
        c("CACHE_KEY", "user-sessions-v2"),
        c("S3_KEY", "uploads/2024/report.csv"),
        c("KMS_KEY_ID", "mrk-1234abcd12ab34cd56ef1234567890ab"),
        c("ACCESS_KEY_ID", "minioadmin"),
        c("PUBLIC_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0a2V5cGxhY2Vob2xkZXJmb3J0ZXN0cw user@host"),
        c("STRIPE_PUBLISHABLE_KEY", "pk_live_51H8a2bC3d4E5f6G7h8I9j0K"),
        c("JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"),
        c("LOG_LEVEL", "info"),
        c("DESCRIPTION", "Enter your password: then press enter"),
        c("DESCRIPTION", "Rotate the API token every 90 days; the token is stored in SSM."),
        c("SCOPES", "openid profile token:exchange api:read"),
        c("config.yaml", "password_file: /run/secrets/db\nport: 5432\n"),
        c("config.yaml", "db:\n  password: ${DB_PASSWORD}\n"),
        c("workflow.yaml", "permissions:\n  id-token: write\n  contents: read\n"),
        c("GIT_REPO", "git@github.com:org/repo.git"),
        c("JAVA_OPTS", "-Xmx512m -Dfile.encoding=UTF-8 -Djavax.net.ssl.trustStore=/etc/ssl/truststore.jks"),
        c("PWD", "/app"),
        c("NODE_OPTIONS", "--max-old-space-size=4096"),
        c("TIME", "12:30:45"),
        c("BOOT", "sh -c 'if [ \"$X\" == \"y\" ]; then echo ok; fi'"),
        c("NEXTAUTH_URL", "https://app.example.com"),
        c("OAUTH_CLIENT_ID", "0oa1b2c3d4e5f6g7h8i9"),
        c("SECRETS_MANAGER_REGION", "eu-west-1"),
        c("ENCRYPTION_KEY_ARN", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        c("SERVICE_ACCOUNT", "main-api"),
        c("FEATURE_FLAGS", "new-checkout=true,auth=oidc"),
        c("QUERY", "SELECT * FROM users WHERE token_hash = $1"),
        c("BUILD_URL", "https://ci.example.com/job/main-api/1234/"),
        c("settings.xml", "<server><id>nexus</id><password>${env.NEXUS_PASSWORD}</password></server>"),
        c("CHECKSUM", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ]
}

#[test]
fn red_team_secrets_are_caught() {
    let cases = must_catch();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for (key, value, want) in &cases {
        match scan(key, value) {
            Some(f) if f.what == *want => {}
            got => failures.push(format!("{key} = {value:?}: want {want:?}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn look_alikes_pass() {
    let cases = must_pass();
    assert!(cases.len() >= 20);
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(key, value)| {
            scan(key, value).map(|f| format!("{key} = {value:?}: flagged as {:?}", f.what))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn findings_never_contain_the_value() {
    for (key, value, _) in must_catch() {
        let f = scan(&key, &value).expect("caught");
        let text = format!("{f:?} {}", f.what);
        assert!(!text.contains(value.as_str()), "{key}");
        // Nor any secret-looking piece of it.
        for token in value.split(|c: char| !c.is_ascii_alphanumeric()) {
            if token.len() >= 6 && token.contains(|c: char| c.is_ascii_digit()) {
                assert!(!text.contains(token), "{key}: {token}");
            }
        }
    }
}

#[test]
fn key_words() {
    let w = |k: &str| split_words(k).join(" ");
    assert_eq!(w("DB_PASSWORD"), "db password");
    assert_eq!(w("dbPassword"), "db password");
    assert_eq!(w("db.password"), "db password");
    assert_eq!(w("client-secret"), "client secret");
    assert_eq!(w("APIKey"), "api key");
    assert_eq!(w("OAuth2Token"), "o auth2 token");
    assert_eq!(w("S3Key"), "s3 key");
    let class = |k: &str| classify(&split_words(k));
    assert_eq!(class("DB_PASSWORD"), Class::Direct(Kind::Password));
    assert_eq!(class("PASSWORD_FILE"), Class::Reference);
    assert_eq!(class("SECRET_KEY_BASE"), Class::Direct(Kind::Secret));
    assert_eq!(
        class("AWS_SECRET_ACCESS_KEY"),
        Class::Direct(Kind::AccessKey)
    );
    assert_eq!(class("TOKEN_AUDIENCE"), Class::Reference);
    assert_eq!(class("MAX_TOKENS"), Class::Reference);
    assert_eq!(class("PUBLIC_KEY"), Class::Reference);
    assert_eq!(class("BASIC_AUTH"), Class::Auth);
    assert_eq!(class("CACHE_KEY"), Class::Weak);
    assert_eq!(class("TOKENIZER"), Class::Plain);
    assert_eq!(class("PASSWORDLESS"), Class::Plain);
    assert_eq!(class("BYPASS"), Class::Plain);
    // A numbered name is its word's (newcomer 5 found `DB_PASSWORD2` let through).
    assert_eq!(class("DB_PASSWORD2"), Class::Direct(Kind::Password));
    assert_eq!(class("password2"), Class::Direct(Kind::Password));
    assert_eq!(class("dbPassword2"), Class::Direct(Kind::Password));
    assert_eq!(class("TOKEN2"), Class::Direct(Kind::Token));
    assert_eq!(class("SECRET1"), Class::Direct(Kind::Secret));
    assert_eq!(class("API_KEY2"), Class::Direct(Kind::ApiKey));
    assert_eq!(class("DB_PASS2"), Class::Direct(Kind::Password));
    assert_eq!(class("PASSWORD_SHA256"), Class::Reference);
    assert_eq!(class("S3_BUCKET"), Class::Plain);
    assert_eq!(class("OAUTH2_SCOPES"), Class::Reference);
}

#[test]
fn helpers() {
    assert!(looks_random("q8Xk2LmN9pR4sT7vW1yZ3bD6fH0jK5nP"));
    assert!(!looks_random("9fceb02d0ae598e95dc970b74767f19372d61af8"));
    assert!(!looks_random("my-service-name-production-eu"));
    assert!(!looks_random("short"));
    assert!(is_reference("$(DB_PASSWORD)"));
    assert!(is_reference("{{ a }}{{ b }}"));
    assert!(is_reference("$DB_PASSWORD"));
    assert!(!is_reference("pa$$word"));
    assert!(!is_reference("$(unclosed"));
    assert!(is_duration("1h30m") && is_duration("500ms") && !is_duration("h1"));
    assert_eq!(
        decode_base64("YWRtaW46aHVudGVyMg==").as_deref(),
        Some(&b"admin:hunter2"[..])
    );
    assert_eq!(scan("ANY", "   "), None);
}

#[test]
fn a_snippet_line_masks_each_secret_string_whole() {
    // A private key on one line with `\n` escapes: no word of it is a secret alone
    // (`KEY-----\nMIIE…`), the string is one.
    let body = "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCxPP2JnWiOGkit";
    let (begin, end) = ("-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----");
    let key = format!("{begin}\\n{body}\\n{body}\\n{end}");
    let stars = "*".repeat(key.chars().count());
    assert_eq!(
        mask_line(&format!(
            r#"env = {{ LOG_LEVEL = "info", TLS_KEY = "{key}", PORT = "80" }}"#
        )),
        Some(format!(
            r#"env = {{ LOG_LEVEL = "info", TLS_KEY = "{stars}", PORT = "80" }}"#
        ))
    );
    assert_eq!(
        mask_line(&format!(
            r#"env = {{ TLS_KEY = "{key}", A_PASSWORD = "hunter2hunter2" }}"#
        )),
        Some(format!(
            r#"env = {{ TLS_KEY = "{stars}", A_PASSWORD = "**************" }}"#
        ))
    );
    // Judged by the key written before it, quoted or not, in TOML or YAML; a
    // literal string's escapes are not decoded, a basic string's are.
    assert_eq!(
        mask_line(r#""DB_PASSWORD" = 'hunter2 hunter2', user = "app""#).as_deref(),
        Some(r#""DB_PASSWORD" = '***************', user = "app""#)
    );
    assert_eq!(
        mask_line(r#"{password: "hunter2\"hunter2", user: app}"#).as_deref(),
        Some(r#"{password: "****************", user: app}"#)
    );
    // A quote inside a word starts no string; a comment holds none.
    assert_eq!(
        mask_line(r#"note = "it's fine" # it's "hunter2hunter2""#),
        None
    );
    assert_eq!(mask_line(r#"image = "acme/api", tag = "1.0.0""#), None);
    // Unclosed strings, escapes at the end of the line and before a wide character:
    // the masked line keeps every column.
    for line in [
        r#"""#,
        r#"'''"#,
        r#"k = "\"#,
        r#"k = "\é" # é"#,
        r#"TOKEN = "é"#,
        r#"DB_PASSWORD = "hunter2hunter2\"#,
        r#"DB_PASSWORD = '''hunter2hunter2"#,
        r#"a = """x""", DB_PASSWORD = "hunter2hunter2""#,
    ] {
        let m = mask_line(line);
        if let Some(m) = &m {
            assert_eq!(m.chars().count(), line.chars().count(), "{line} -> {m}");
        }
        if line.contains("DB_PASSWORD") {
            assert!(m.is_some_and(|m| !m.contains("hunter2")), "{line}");
        }
    }
    // What is not in a string is still masked word by word.
    assert_eq!(
        mask_line("token q8Xk2LmN9pR4sT7vW1yZ3bD6fH0jK5nP here").as_deref(),
        Some("token ******************************** here")
    );
}

/// An argument list: each value judged by the flag before it, as `--flag=value` is.
#[test]
fn flag_values_in_argument_lists() {
    let args = [
        "--password",
        "hunter2xyz",
        "--port",
        "8080",
        "--password-file",
        "/etc/pw",
        "-u",
        "admin:Hunt3r-Xyz",
        "--token",
        "$(API_TOKEN)",
        "--api-key",
        "--verbose",
        "--user",
        "1000:1000",
        "-u",
        "postgres:postgres",
        "--user",
        "app:app-group",
    ];
    let got: Vec<(usize, &str)> = scan_flag_values(args.iter().map(|a| Some(*a)))
        .into_iter()
        .map(|(i, f)| (i, f.what))
        .collect();
    assert_eq!(
        got,
        [(1, "a literal password"), (7, "a user:password pair")]
    );
}

/// The name of the Secret an environment variable reads is a reference, shown in
/// snippets (verify30 F7); a value under `secret` anywhere else, or a name whose
/// shape is a secret's, stays masked.
#[test]
fn a_snippet_line_shows_the_secret_an_env_var_reads() {
    for line in [
        r#"env.X = { secret = "shop-shared", key = "currency", divisor = "1Mi" }"#,
        r#"env.X = { secret = "shop-shared", key = "currency", optional = "yes" }"#,
        r#"X = { key = "currency", secret = "app-secrets-8f7d6c5b4a" }"#,
        r#"env = { X = { secret = "shop.shared", key = "a" }, Y = { field = "spec.nodeName" } }"#,
    ] {
        assert_eq!(mask_line(line), None, "{line}");
    }
    for (line, masked) in [
        // Two variables named `secret` and `key`, not a source.
        (
            r#"env = { secret = "hunter2", key = "x" }"#,
            r#"env = { secret = "*******", key = "x" }"#,
        ),
        (
            r#"vars = { secret = "hunter2", key = "x" }"#,
            r#"vars = { secret = "*******", key = "x" }"#,
        ),
        // No `key`: not a source's shape.
        (
            r#"env.X = { secret = "hunter2" }"#,
            r#"env.X = { secret = "*******" }"#,
        ),
        // A key no source has.
        (
            r#"env.X = { secret = "hunter2", key = "x", user = "app" }"#,
            r#"env.X = { secret = "*******", key = "x", user = "app" }"#,
        ),
        // Not a Kubernetes name.
        (
            r#"env.X = { secret = "Hunter2!", key = "x" }"#,
            r#"env.X = { secret = "********", key = "x" }"#,
        ),
        // A line of a table written over several lines: could be a variable.
        (r#"secret = "hunter2""#, r#"secret = "*******""#),
    ] {
        assert_eq!(mask_line(line).as_deref(), Some(masked), "{line}");
    }
    // A name shaped as a secret (a GitHub token) is masked all the same.
    let token = format!("ghp_{}", "16C7e42F292c6912E7710c838347Ae178B4a");
    let line = format!(r#"env.X = {{ secret = "{token}", key = "x" }}"#);
    assert_eq!(
        mask_line(&line),
        Some(line.replace(&token, &"*".repeat(token.len())))
    );
}
