//! Org and workspace handles: parsing never panics, a parsed handle parses again to
//! itself, and any two parsed handles form a valid DNS label that splits back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plinth_core::{DnsName, Handle, WorkspaceHandle};

fuzz_target!(|input: &str| {
    let (org, ws) = input.split_once('/').unwrap_or((input, input));
    let org = Handle::parse(org);
    let ws = WorkspaceHandle::parse(ws);
    if let Ok(org) = &org {
        assert_eq!(Handle::parse(org.as_str()).as_ref(), Ok(org));
    }
    if let Ok(ws) = &ws {
        assert_eq!(WorkspaceHandle::parse(ws.as_str()).as_ref(), Ok(ws));
    }
    if let (Ok(org), Ok(ws)) = (org, ws) {
        let name = DnsName::new(&org, &ws, "plinth.localhost");
        let label = name.label();
        assert!(!label.is_empty() && label.len() <= 63, "{label}");
        assert!(
            label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        );
        assert!(!label.starts_with('-') && !label.ends_with('-'));
        assert_eq!(DnsName::split_label(label), Some((org, ws)));
    }
    let _ = DnsName::split_label(input);
});
