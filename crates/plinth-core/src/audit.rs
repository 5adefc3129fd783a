//! Audit log vocabulary: the action names, the filter on them, and the hash chain that
//! makes any edit, removal or reordering of a past entry detectable.

use sha2::{Digest, Sha256};

use crate::Invalid;

/// The `prev_hash` of a chain's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

macro_rules! actions {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// Every action the audit log records, named `<resource>[.<sub>].<verb>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $(#[doc = $doc] $variant,)*
        }

        impl AuditAction {
            /// Every action, in the order of the docs.
            pub const ALL: &[AuditAction] = &[$(AuditAction::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }

            /// What the action records, for the docs.
            pub fn description(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $doc,)*
                }
            }
        }
    };
}

actions! {
    OrgCreate => "org.create", "An org was created; its creator became its owner.";
    OrgUpdate => "org.update", "The org's display name or avatar changed.";
    OrgHandleUpdate => "org.handle.update", "The org's handle (and so every workspace DNS name) changed.";
    OrgAuthReset => "org.auth.reset", "Every token issued until now was refused on the org.";
    OrgDelete => "org.delete", "The org was deleted (restorable during the grace period).";
    OrgRestore => "org.restore", "An administrator restored a deleted org.";
    OrgMemberInvite => "org.member.invite", "A user was invited to the org.";
    OrgMemberAccept => "org.member.accept", "An invitee accepted and became a member.";
    OrgMemberDecline => "org.member.decline", "An invitee declined.";
    OrgMemberUpdate => "org.member.update", "A member's role changed.";
    OrgMemberDelete => "org.member.delete", "A member was removed, left, or an invitation was withdrawn.";
    WorkspaceCreate => "workspace.create", "A workspace was created.";
    WorkspaceUpdate => "workspace.update", "A workspace's handle or display name changed.";
    WorkspaceDelete => "workspace.delete", "A workspace was deleted.";
    WorkspaceMemberAdd => "workspace.member.add", "A user was given a role on a workspace.";
    WorkspaceMemberUpdate => "workspace.member.update", "A workspace role changed.";
    WorkspaceMemberDelete => "workspace.member.delete", "A workspace role was removed.";
    TokenCreate => "token.create", "The user created a user token (its value is never recorded).";
    TokenUpdate => "token.update", "The user changed a token's title, description or status.";
    TokenDelete => "token.delete", "The user deleted a user token.";
    UserUpdate => "user.update", "The user changed their profile.";
    UserAuthReset => "user.auth.reset", "The user signed out everywhere.";
    AuthSignup => "auth.signup", "An account was created.";
    AuthLogin => "auth.login", "A successful login issued a temporary token.";
    AuthLoginFailed => "auth.login.failed", "A login with a wrong password for this account.";
    AuthLogout => "auth.logout", "A login session ended.";
    AuthDeviceApprove => "auth.device.approve", "The user approved a CLI login.";
    AuthDeviceDeny => "auth.device.deny", "The user denied a CLI login.";
    AdminUserCreate => "admin.user.create", "The instance administrator created an account.";
    AdminUserAuthReset => "admin.user.auth.reset", "The instance administrator refused every token of the account issued until now (and set a new password, unless kept).";
    AdminUserDisable => "admin.user.disable", "The instance administrator disabled the account: its tokens are refused and it cannot log in.";
    AdminUserEnable => "admin.user.enable", "The instance administrator enabled a disabled account again.";
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `action` filter: an exact name, or a prefix written `org.member.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    Exact(String),
    /// Holds the prefix with its trailing dot, e.g. `org.member.`.
    Prefix(String),
}

impl ActionFilter {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let (name, prefix) = match input.strip_suffix(".*") {
            Some(name) => (name, true),
            None => (input, false),
        };
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name
                .split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase()));
        if !well_formed {
            return Err(Invalid::new(
                "must be an action such as `org.update`, or a prefix such as `org.member.*`",
            ));
        }
        Ok(if prefix {
            Self::Prefix(format!("{name}."))
        } else {
            Self::Exact(name.to_owned())
        })
    }

    /// The known actions this filter selects (an unknown name selects none).
    pub fn actions(&self) -> Vec<AuditAction> {
        AuditAction::ALL
            .iter()
            .copied()
            .filter(|a| match self {
                Self::Exact(name) => a.as_str() == name,
                Self::Prefix(prefix) => a.as_str().starts_with(prefix.as_str()),
            })
            .collect()
    }
}

/// The audit log's filters as a client sends them, each optional and not yet checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilterInput<'a> {
    pub action: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub target: Option<&'a str>,
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub cursor: Option<&'a str>,
}

/// The audit log's filters, checked: what the store's query takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The known action names selected (empty when the filter names no known action).
    pub actions: Option<Vec<String>>,
    pub actor_handle: Option<String>,
    /// A handle (lowercased) or an id (as given).
    pub target: Option<String>,
    /// Microseconds since the epoch.
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    /// The page starts before this position.
    pub before_seq: Option<i64>,
}

impl AuditFilter {
    /// Checks every filter; a refusal names the field it is about.
    pub fn parse(input: &AuditFilterInput<'_>) -> Result<Self, (&'static str, Invalid)> {
        let actions = input
            .action
            .map(|a| {
                ActionFilter::parse(a.trim())
                    .map(|f| f.actions().iter().map(|a| a.as_str().to_owned()).collect())
                    .map_err(|e| ("action", e))
            })
            .transpose()?;
        let actor_handle = input
            .actor
            .map(|a| {
                crate::Handle::parse(a)
                    .map(crate::Handle::into_string)
                    .map_err(|e| ("actor", e))
            })
            .transpose()?;
        let target = input
            .target
            .map(|t| {
                let t = t.trim();
                if t.is_empty() || t.len() > 128 {
                    Err(("target", Invalid::new("must be 1–128 characters")))
                } else {
                    // Handles are stored lowercase; ids are matched as given.
                    Ok(crate::Handle::parse(t)
                        .map_or_else(|_| t.to_owned(), crate::Handle::into_string))
                }
            })
            .transpose()?;
        let since_us = input.since.map(|s| parse_time("since", s)).transpose()?;
        let until_us = input.until.map(|s| parse_time("until", s)).transpose()?;
        let before_seq = input
            .cursor
            .map(|c| crate::cursor::decode_seq(c).map_err(|e| ("cursor", e)))
            .transpose()?;
        Ok(Self {
            actions,
            actor_handle,
            target,
            since_us,
            until_us,
            before_seq,
        })
    }
}

fn parse_time(field: &'static str, value: &str) -> Result<i64, (&'static str, Invalid)> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000) as i64)
        .map_err(|_| {
            (
                field,
                Invalid::new("must be an RFC 3339 time such as 2026-11-28T12:00:00Z"),
            )
        })
}

/// The fields of an entry that its hash covers, in their canonical order.
#[derive(Debug, Clone, Copy)]
pub struct ChainedFields<'a> {
    pub id: &'a str,
    pub chain: &'a str,
    pub seq: i64,
    pub created_at_us: i64,
    pub org_id: Option<&'a str>,
    pub org_handle: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub actor_handle: Option<&'a str>,
    pub actor_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub target_handle: Option<&'a str>,
    pub data: &'a str,
    pub request_id: Option<&'a str>,
}

impl ChainedFields<'_> {
    /// `SHA-256(prev_hash ‖ canonical entry)`, as lowercase hex. The canonical form
    /// length-prefixes every field (`-` for none), so no two entries encode alike.
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        let seq = self.seq.to_string();
        let created = self.created_at_us.to_string();
        let fields: [Option<&str>; 16] = [
            Some(self.id),
            Some(self.chain),
            Some(&seq),
            Some(&created),
            self.org_id,
            self.org_handle,
            self.actor_id,
            self.actor_handle,
            self.actor_ip,
            self.user_agent,
            Some(self.action),
            self.target_type,
            self.target_id,
            self.target_handle,
            Some(self.data),
            self.request_id,
        ];
        for field in fields {
            match field {
                Some(value) => {
                    hasher.update(value.len().to_string().as_bytes());
                    hasher.update(b":");
                    hasher.update(value.as_bytes());
                }
                None => hasher.update(b"-"),
            }
            hasher.update(b"\n");
        }
        to_hex(&hasher.finalize())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_filters_name_the_field_they_refuse() {
        let refused = |input: AuditFilterInput<'_>| AuditFilter::parse(&input).unwrap_err().0;
        let ok = AuditFilter::parse(&AuditFilterInput {
            action: Some(" org.member.* "),
            actor: Some("Alice"),
            target: Some("ACME"),
            since: Some("2026-11-28T12:00:00Z"),
            until: None,
            cursor: Some(&crate::cursor::encode_seq(7)),
        })
        .unwrap();
        assert!(
            ok.actions
                .as_ref()
                .unwrap()
                .iter()
                .all(|a| a.starts_with("org.member."))
        );
        assert_eq!(ok.actor_handle.as_deref(), Some("alice"));
        assert_eq!(ok.target.as_deref(), Some("acme"));
        assert_eq!(ok.since_us, Some(1_795_867_200_000_000));
        assert_eq!(ok.before_seq, Some(7));
        let input = AuditFilterInput::default();
        assert_eq!(
            refused(AuditFilterInput {
                action: Some("Org"),
                ..input
            }),
            "action"
        );
        assert_eq!(
            refused(AuditFilterInput {
                actor: Some("-x"),
                ..input
            }),
            "actor"
        );
        assert_eq!(
            refused(AuditFilterInput {
                target: Some(" "),
                ..input
            }),
            "target"
        );
        assert_eq!(
            refused(AuditFilterInput {
                since: Some("yesterday"),
                ..input
            }),
            "since"
        );
        assert_eq!(
            refused(AuditFilterInput {
                until: Some("2026-13-01"),
                ..input
            }),
            "until"
        );
        assert_eq!(
            refused(AuditFilterInput {
                cursor: Some("!!"),
                ..input
            }),
            "cursor"
        );
    }

    fn fields<'a>(data: &'a str, actor: Option<&'a str>) -> ChainedFields<'a> {
        ChainedFields {
            id: "e1",
            chain: "org:1",
            seq: 1,
            created_at_us: 42,
            org_id: Some("1"),
            org_handle: Some("acme"),
            actor_id: None,
            actor_handle: actor,
            actor_ip: None,
            user_agent: None,
            action: "org.update",
            target_type: None,
            target_id: None,
            target_handle: None,
            data,
            request_id: None,
        }
    }

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut names: Vec<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        for name in &names {
            assert_eq!(
                ActionFilter::parse(name),
                Ok(ActionFilter::Exact((*name).into()))
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditAction::ALL.len());
    }

    #[test]
    fn filters() {
        let members = ActionFilter::parse("org.member.*").unwrap();
        assert_eq!(members.actions().len(), 5);
        assert_eq!(ActionFilter::parse("org.*").unwrap().actions().len(), 11);
        assert!(
            ActionFilter::parse("nope.nope")
                .unwrap()
                .actions()
                .is_empty()
        );
        for bad in [
            "",
            "*",
            ".*",
            "org.",
            "Org.update",
            "org..x",
            "org.*.x",
            "org update",
        ] {
            assert!(ActionFilter::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hash_covers_every_field_and_the_previous_hash() {
        let base = fields("{}", None).hash(GENESIS_HASH);
        assert_eq!(base.len(), 64);
        assert_eq!(base, fields("{}", None).hash(GENESIS_HASH));
        assert_ne!(base, fields("{} ", None).hash(GENESIS_HASH));
        assert_ne!(base, fields("{}", Some("")).hash(GENESIS_HASH));
        assert_ne!(base, fields("{}", None).hash(&base));
        let mut later = fields("{}", None);
        later.seq = 2;
        assert_ne!(base, later.hash(GENESIS_HASH));
    }
}

#[cfg(test)]
mod docs {
    use super::AuditAction;

    /// docs/AUDIT.md lists every action, so the docs can't fall behind the code.
    #[test]
    fn every_action_is_documented() {
        let doc = include_str!("../../../docs/AUDIT.md");
        for action in AuditAction::ALL {
            assert!(
                doc.contains(&format!("| `{action}` |")),
                "docs/AUDIT.md does not list {action}"
            );
        }
    }
}
