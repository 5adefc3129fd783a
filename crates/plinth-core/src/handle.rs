use std::fmt;

use crate::Invalid;

/// Words no user or organization may take: they would shadow console or API paths,
/// or pretend to speak for the platform.
pub const RESERVED_HANDLES: &[&str] = &[
    "about",
    "abuse",
    "account",
    "admin",
    "administrator",
    "api",
    "app",
    "assets",
    "auth",
    "billing",
    "blog",
    "console",
    "dashboard",
    "device",
    "dns",
    "docs",
    "help",
    "home",
    "internal",
    "login",
    "logout",
    "mail",
    "me",
    "metrics",
    "new",
    "null",
    "org",
    "orgs",
    "plinth",
    "postmaster",
    "root",
    "security",
    "settings",
    "signin",
    "signout",
    "signup",
    "static",
    "status",
    "support",
    "system",
    "user",
    "users",
    "webmaster",
    "workspace",
    "workspaces",
    "www",
];

/// A user or organization handle. Users and orgs share this one namespace.
///
/// Lowercase ASCII letters and digits with single inner hyphens, 1–39 characters.
/// Input is ASCII-lowercased first.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Handle(String);

impl Handle {
    pub const MAX_LEN: usize = 39;

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let handle = input.to_ascii_lowercase();
        if handle.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if handle.len() > Self::MAX_LEN {
            return Err(Invalid::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        if !handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Invalid::new(
                "may contain only ASCII letters, digits and hyphens",
            ));
        }
        if handle.starts_with('-') || handle.ends_with('-') {
            return Err(Invalid::new("must not begin or end with a hyphen"));
        }
        if handle.contains("--") {
            return Err(Invalid::new("must not contain two hyphens in a row"));
        }
        if RESERVED_HANDLES.contains(&handle.as_str()) {
            return Err(Invalid::new(format!("\"{handle}\" is reserved")));
        }
        Ok(Self(handle))
    }

    /// Rebuilds a handle read back from the database, where it was validated on the way in.
    pub fn from_trusted(handle: String) -> Self {
        Self(handle)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.0)
    }
}

/// A workspace handle: 1–23 lowercase ASCII letters and digits. No hyphen, so that
/// `{org}-{workspace}` splits unambiguously at its last hyphen.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct WorkspaceHandle(String);

impl WorkspaceHandle {
    pub const MAX_LEN: usize = 23;

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let handle = input.to_ascii_lowercase();
        if handle.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if handle.len() > Self::MAX_LEN {
            return Err(Invalid::new(format!(
                "must be at most {} characters",
                Self::MAX_LEN
            )));
        }
        if !handle
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(Invalid::new("may contain only ASCII letters and digits"));
        }
        Ok(Self(handle))
    }

    pub fn from_trusted(handle: String) -> Self {
        Self(handle)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkspaceHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for WorkspaceHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkspaceHandle({})", self.0)
    }
}

/// A workspace's DNS name, `{org}-{workspace}.{base_domain}`. Derived from the two
/// handles every time, never stored, so renaming an org renames all its workspaces.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DnsName(String);

impl DnsName {
    pub fn new(org: &Handle, workspace: &WorkspaceHandle, base_domain: &str) -> Self {
        Self(format!("{org}-{workspace}.{base_domain}"))
    }

    /// The left-most label, `{org}-{workspace}`: at most 39 + 1 + 23 = 63 bytes, the DNS limit.
    pub fn label(&self) -> &str {
        self.0.split('.').next().unwrap_or_default()
    }

    /// Splits a host's first label back into its org and workspace handles.
    pub fn split_label(label: &str) -> Option<(Handle, WorkspaceHandle)> {
        let (org, ws) = label.rsplit_once('-')?;
        Some((Handle::parse(org).ok()?, WorkspaceHandle::parse(ws).ok()?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DnsName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_folds_case() {
        assert_eq!(Handle::parse("Acme-Corp").unwrap().as_str(), "acme-corp");
        assert_eq!(Handle::parse("a").unwrap().as_str(), "a");
        assert_eq!(Handle::parse(&"a".repeat(39)).unwrap().as_str().len(), 39);
    }

    #[test]
    fn refuses_bad_handles() {
        for bad in [
            "", "-a", "a-", "a--b", "a_b", "a.b", "ä", "ab c", "admin", "API", "www",
        ] {
            assert!(Handle::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Handle::parse(&"a".repeat(40)).is_err());
    }

    #[test]
    fn workspace_handles_have_no_hyphen() {
        assert_eq!(WorkspaceHandle::parse("Prod1").unwrap().as_str(), "prod1");
        for bad in ["", "a-b", "a_b", &"a".repeat(24)] {
            assert!(WorkspaceHandle::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dns_names_split_back() {
        let org = Handle::parse("acme-corp").unwrap();
        let ws = WorkspaceHandle::parse("prod").unwrap();
        let name = DnsName::new(&org, &ws, "plinth.localhost");
        assert_eq!(name.as_str(), "acme-corp-prod.plinth.localhost");
        assert_eq!(DnsName::split_label(name.label()), Some((org, ws)));
    }

    proptest! {
        #[test]
        fn parse_matches_the_documented_pattern(s in "[-a-zA-Z0-9_.]{0,45}") {
            let lower = s.to_ascii_lowercase();
            let pattern_ok = !lower.is_empty()
                && lower.len() <= 39
                && lower.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !lower.starts_with('-') && !lower.ends_with('-') && !lower.contains("--");
            let expected = pattern_ok && !RESERVED_HANDLES.contains(&lower.as_str());
            prop_assert_eq!(Handle::parse(&s).is_ok(), expected);
        }

        #[test]
        fn longest_label_fits_dns(org in "[a-z0-9]{39}", ws in "[a-z0-9]{23}") {
            let name = DnsName::new(&Handle::parse(&org).unwrap(), &WorkspaceHandle::parse(&ws).unwrap(), "x.test");
            prop_assert!(name.label().len() <= 63);
        }

        /// Whatever parses as an org and a workspace handle forms a DNS label that any
        /// resolver takes (RFC 1035 LDH, at most 63 bytes) and that splits back into the
        /// same two handles.
        #[test]
        fn parsed_handles_always_form_a_valid_dns_label(
            org in "[-a-z0-9]{1,39}",
            ws in "[-a-z0-9]{1,23}",
        ) {
            let (Ok(org), Ok(ws)) = (Handle::parse(&org), WorkspaceHandle::parse(&ws)) else {
                return Ok(());
            };
            let name = DnsName::new(&org, &ws, "plinth.localhost");
            let label = name.label();
            prop_assert!(!label.is_empty() && label.len() <= 63, "{label}");
            prop_assert!(label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            prop_assert!(!label.starts_with('-') && !label.ends_with('-'), "{label}");
            prop_assert_eq!(DnsName::split_label(label), Some((org, ws)));
        }

        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = Handle::parse(&s);
            let _ = WorkspaceHandle::parse(&s);
        }
    }
}
