//! `notAfter` read from real certificates minted with `openssl req -x509` (P-256); the
//! expected instants are what `openssl x509 -noout -enddate` printed for them, as Unix seconds.
use super::*;
use crate::policy::Location;
use std::path::Path;

/// `openssl req -x509 -days 30`: notAfter=Jan  6 00:37:31 2027 GMT.
const CERT_30_DAYS: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBhTCCASugAwIBAgIUKDFk4OwhkTe0PzWmHJi+MDYhVvMwCgYIKoZIzj0EAwIw\n\
GDEWMBQGA1UEAwwNb3AyNWItdGVzdC0zMDAeFw0yNjEyMDcwMDM3MzFaFw0yNzAx\n\
MDYwMDM3MzFaMBgxFjAUBgNVBAMMDW9wMjViLXRlc3QtMzAwWTATBgcqhkjOPQIB\n\
BggqhkjOPQMBBwNCAAScrClL2hSfK2ZT9WbvkULjjPFeVoK9j4U6tX2HTh9tdco8\n\
+RIEKkVnHoAP3LYi4U54hDoILQooMCXMvKXAtabgo1MwUTAdBgNVHQ4EFgQUq7ep\n\
ouNVkx10ei1f2KGlgrhGBG0wHwYDVR0jBBgwFoAUq7epouNVkx10ei1f2KGlgrhG\n\
BG0wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAcPY7CG4z5/Yhn\n\
E63VrPTt6xpbzYUzrq9YZ8UV0V/jugIhAIiNyc9AYbP7fIL4QuVa4efb16KZq+B6\n\
SgyktKkpyFHz\n\
-----END CERTIFICATE-----\n\
";
const CERT_30_DAYS_NOT_AFTER: u64 = 1_799_195_851;

/// `openssl req -x509 -days 3650`: notAfter=Dec  4 00:37:32 2036 GMT.
const CERT_10_YEARS: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBijCCAS+gAwIBAgIUI1ZHyjzjDOPo/37CrJaJUAl/klYwCgYIKoZIzj0EAwIw\n\
GjEYMBYGA1UEAwwPb3AyNWItdGVzdC0zNjUwMB4XDTI2MTIwNzAwMzczMloXDTM2\n\
MTIwNDAwMzczMlowGjEYMBYGA1UEAwwPb3AyNWItdGVzdC0zNjUwMFkwEwYHKoZI\n\
zj0CAQYIKoZIzj0DAQcDQgAEtbEmbjHCiC8Nc42TfpvcYBAX6VbzDIZUbzqyd9I9\n\
2ngYC9xUCHwhEN8SAHS8u8yark4E86nxuZtmkhcVKIm3qaNTMFEwHQYDVR0OBBYE\n\
FD2fmdxM1f+FJl7QiYVKdKKMHlYDMB8GA1UdIwQYMBaAFD2fmdxM1f+FJl7QiYVK\n\
dKKMHlYDMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAID5u0vL\n\
0S9BAMZt8D81qsr/qGGzTolrpEENt3HdawMrAiEA7ZQ9g4rrD+hwo81zgxjViTEq\n\
dprJxUvj2nczAqFHCiM=\n\
-----END CERTIFICATE-----\n\
";
const CERT_10_YEARS_NOT_AFTER: u64 = 2_111_963_852;

fn der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .expect("fixture PEM")
        .to_vec()
}

fn file_with(dir: &Path, name: &str, text: &str) -> TlsFile {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write fixture");
    TlsFile {
        field: "controller.tls_cert",
        path,
        location: Location {
            origin: "p.toml".to_owned(),
            line: 3,
            column: 12,
        },
    }
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("op25b-tls-expiry-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn not_after_is_what_openssl_printed() {
    assert_eq!(
        not_after(&der(CERT_30_DAYS)).unwrap().as_secs(),
        CERT_30_DAYS_NOT_AFTER
    );
    assert_eq!(
        not_after(&der(CERT_10_YEARS)).unwrap().as_secs(),
        CERT_10_YEARS_NOT_AFTER
    );
}

#[test]
fn the_earliest_certificate_of_a_file_counts() {
    let dir = temp_dir("earliest");
    let chain = file_with(
        &dir,
        "chain.pem",
        &format!("leaf\n{CERT_10_YEARS}issuer\n{CERT_30_DAYS}"),
    );
    assert_eq!(earliest_not_after(&chain).unwrap(), CERT_30_DAYS_NOT_AFTER);
    let one = file_with(&dir, "one.pem", CERT_10_YEARS);
    assert_eq!(earliest_not_after(&one).unwrap(), CERT_10_YEARS_NOT_AFTER);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn both_roles_are_read_and_problems_are_reported_per_file() {
    let dir = temp_dir("roles");
    let server = file_with(&dir, "server.pem", CERT_30_DAYS);
    let mut ca = file_with(&dir, "ca.pem", CERT_10_YEARS);
    ca.field = "controller.tls_client_ca";
    let tls = TlsSettings {
        listen: "127.0.0.1:6653".parse().unwrap(),
        cert: server.clone(),
        key: server.clone(),
        client_ca: ca.clone(),
    };
    let (found, problems) = certificate_expiry(&tls);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        found,
        vec![
            CertExpiry {
                role: CertRole::Server,
                not_after_unix: CERT_30_DAYS_NOT_AFTER
            },
            CertExpiry {
                role: CertRole::ClientCa,
                not_after_unix: CERT_10_YEARS_NOT_AFTER
            },
        ]
    );

    // A CERTIFICATE block whose bytes are not X.509, and a file that is gone.
    let garbage = file_with(
        &dir,
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n",
    );
    let gone = TlsFile {
        path: dir.join("missing.pem"),
        ..ca
    };
    let (found, problems) = certificate_expiry(&TlsSettings {
        cert: garbage,
        client_ca: gone,
        ..tls
    });
    assert!(found.is_empty(), "{found:?}");
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(
        text[0].starts_with("p.toml:3:12: controller.tls_cert")
            && text[0].contains("certificate 0 is not a valid X.509 certificate"),
        "{text:?}"
    );
    assert!(
        text[1].contains("controller.tls_client_ca") && text[1].contains("cannot read it"),
        "{text:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
