//! Arbitrary dpids and query strings over real HTTP: every answer is JSON with 200, 400 or
//! 404, never a 5xx, a hang or a dropped connection.

use op25b_test_support::api::TestApi;
use proptest::prelude::*;
use std::sync::OnceLock;

fn api() -> &'static TestApi {
    static API: OnceLock<TestApi> = OnceLock::new();
    API.get_or_init(|| {
        let api = TestApi::start(true);
        api.fill_registry();
        api
    })
}

/// Percent-encodes every byte outside the unreserved set, so any string is a valid URI part.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_dpid_text_is_200_400_or_404(text in "\\PC{1,40}|[0-9a-fA-Fx:]{1,30}") {
        let (status, body) = api().json("GET", &format!("/api/switches/{}", encode(&text)));
        prop_assert!([200, 400, 404].contains(&status), "{text:?}: {status} {body}");
        if status != 200 {
            prop_assert!(body["error"].is_string());
        }
    }

    #[test]
    fn any_offenders_query_is_200_or_400(
        key in "flagged|limit|[a-z]{1,8}|\\PC{1,8}",
        value in "true|false|[0-9]{1,25}|-?[0-9]{1,5}|\\PC{0,12}",
    ) {
        let path = format!("/api/offenders?{}={}", encode(&key), encode(&value));
        let (status, body) = api().json("GET", &path);
        prop_assert!([200, 400].contains(&status), "{path}: {status} {body}");
        if status == 200 {
            prop_assert!(body["offenders"].is_array());
        } else {
            prop_assert!(body["error"].is_string());
        }
    }
}
