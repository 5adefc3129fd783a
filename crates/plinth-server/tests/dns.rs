//! The real DNS server, over UDP and TCP, as workspaces come and go.

use std::net::{IpAddr, Ipv6Addr};

use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::{RData, RecordType};
use plinth_server::testing::TestApp;
use plinth_server::testing::dns::{addresses, has_soa_authority, tcp_query, udp_query};
use plinth_store::test_support::Backend;

async fn app(backend: Backend) -> TestApp {
    TestApp::new(backend).await
}

plinth_store::on_both_backends!(app =>
    names_follow_workspaces_over_udp_and_tcp,
    apex_records_nxdomain_and_refused,
);

/// Answered when a test starts its own server with an IPv6 workspace address.
mod ipv6 {
    use super::*;

    async fn app(backend: Backend) -> TestApp {
        TestApp::with_settings(backend, |s| {
            s.workspace_address = IpAddr::V6(Ipv6Addr::LOCALHOST);
        })
        .await
    }

    plinth_store::on_both_backends!(app => ipv6_addresses_answer_aaaa);

    async fn ipv6_addresses_answer_aaaa(app: &TestApp) {
        let ann = app.user("ann").await;
        app.create_org(&ann, "acme").await;
        app.create_workspace(&ann, "acme", "prod").await;
        let udp = app.server.dns_udp_addr;
        let aaaa = udp_query(udp, "acme-prod.plinth.localhost.", RecordType::AAAA).await;
        assert_eq!(aaaa.metadata.response_code, ResponseCode::NoError);
        assert_eq!(addresses(&aaaa), [IpAddr::V6(Ipv6Addr::LOCALHOST)]);
        // The name exists, with no A record: NOERROR, empty, SOA in authority.
        let a = udp_query(udp, "acme-prod.plinth.localhost.", RecordType::A).await;
        assert_eq!(a.metadata.response_code, ResponseCode::NoError);
        assert!(a.answers.is_empty());
        assert!(has_soa_authority(&a));
    }
}

async fn names_follow_workspaces_over_udp_and_tcp(app: &TestApp) {
    let udp = app.server.dns_udp_addr;
    let tcp = app.server.dns_tcp_addr;
    let name = "acme-prod.plinth.localhost.";
    let ann = app.user("ann").await;
    app.create_org(&ann, "acme").await;

    for answer in [
        udp_query(udp, name, RecordType::A).await,
        tcp_query(tcp, name, RecordType::A).await,
    ] {
        assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);
        assert!(answer.metadata.authoritative);
        assert!(has_soa_authority(&answer));
    }

    let ws = app.create_workspace(&ann, "acme", "prod").await;
    let expected = [IpAddr::from([127, 0, 0, 1])];
    for answer in [
        udp_query(udp, name, RecordType::A).await,
        tcp_query(tcp, name, RecordType::A).await,
        // Names compare case-insensitively.
        udp_query(udp, "ACME-Prod.Plinth.Localhost.", RecordType::A).await,
    ] {
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert!(answer.metadata.authoritative);
        assert_eq!(addresses(&answer), expected);
    }
    // No IPv6 address is configured: AAAA is an empty NOERROR.
    let aaaa = tcp_query(tcp, name, RecordType::AAAA).await;
    assert_eq!(aaaa.metadata.response_code, ResponseCode::NoError);
    assert!(aaaa.answers.is_empty());

    // The four queries for the live name were metered for the org's workspace.
    let state = app.state();
    plinth_server::usage::tasks::flush_usage(state).await;
    let org_id = app.get("/api/v1/orgs/acme", &ann).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let day = plinth_server::usage::meter::day_of(state.now());
    let rows = state.store.usage(&org_id, &day, &day).await.unwrap();
    let dns = rows
        .iter()
        .find(|r| r.metric == "dns_queries")
        .expect("dns_queries counted");
    assert_eq!(dns.value, 4);
    assert_eq!(dns.workspace_id, ws["id"].as_str().unwrap());

    app.delete("/api/v1/orgs/acme/workspaces/prod", &ann)
        .await
        .assert_status(204);
    for answer in [
        udp_query(udp, name, RecordType::A).await,
        tcp_query(tcp, name, RecordType::A).await,
    ] {
        assert_eq!(answer.metadata.response_code, ResponseCode::NXDomain);
        assert!(answer.answers.is_empty());
    }
}

async fn apex_records_nxdomain_and_refused(app: &TestApp) {
    let udp = app.server.dns_udp_addr;
    let tcp = app.server.dns_tcp_addr;

    let soa = udp_query(udp, "plinth.localhost.", RecordType::SOA).await;
    assert_eq!(soa.metadata.response_code, ResponseCode::NoError);
    assert!(soa.metadata.authoritative);
    assert!(matches!(soa.answers[0].data, RData::SOA(_)), "{soa:?}");

    let ns = tcp_query(tcp, "plinth.localhost.", RecordType::NS).await;
    assert_eq!(ns.metadata.response_code, ResponseCode::NoError);
    match &ns.answers[0].data {
        RData::NS(target) => assert_eq!(target.0.to_ascii(), "ns1.plinth.localhost."),
        other => panic!("expected NS, got {other:?}"),
    }

    for unknown in [
        "nobody-here.plinth.localhost.",
        "deep.acme-prod.plinth.localhost.",
        "no-hyphen-ws-.plinth.localhost.",
    ] {
        let answer = udp_query(udp, unknown, RecordType::A).await;
        assert_eq!(
            answer.metadata.response_code,
            ResponseCode::NXDomain,
            "{unknown}"
        );
        assert!(has_soa_authority(&answer), "{unknown}");
    }

    for outside in ["example.com.", "localhost.", "plinth.localhost.evil.test."] {
        for answer in [
            udp_query(udp, outside, RecordType::A).await,
            tcp_query(tcp, outside, RecordType::A).await,
        ] {
            assert_eq!(
                answer.metadata.response_code,
                ResponseCode::Refused,
                "{outside}"
            );
            assert!(answer.answers.is_empty());
        }
    }

    // No log line per query at the default level: every answer is counted instead.
    let metrics = app.metrics().await;
    for line in [
        r#"plinth_dns_queries_total{rcode="NOERROR"} 2"#,
        r#"plinth_dns_queries_total{rcode="NXDOMAIN"} 3"#,
        r#"plinth_dns_queries_total{rcode="REFUSED"} 6"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}
