//! The audit log: appended inside the caller's write transaction, read newest first by
//! keyset, verified as a hash chain, trimmed by retention with a checkpoint.

use plinth_core::{ChainedFields, GENESIS_HASH};
use sqlx::Row as _;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::deferred::{Bind, bind_all};
use crate::sql::{Row, args};
use crate::store::{Backend, Store, WriteTx, micros_to_time, new_id, time_to_micros};
use crate::writer::ChainHead;
use crate::{Result, StoreError};

/// The chain of an org's log.
pub fn org_chain(org_id: &str) -> String {
    format!("org:{org_id}")
}

/// The chain of a user's own log (logins, tokens, profile).
pub fn user_chain(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// An entry to append; the store adds id, time, position and hashes.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub chain: String,
    pub org_id: Option<String>,
    pub org_handle: Option<String>,
    pub actor_id: Option<String>,
    pub actor_handle: Option<String>,
    pub actor_ip: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_handle: Option<String>,
    /// JSON text.
    pub data: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: String,
    pub chain: String,
    pub seq: i64,
    pub created_at: OffsetDateTime,
    pub org_id: Option<String>,
    pub org_handle: Option<String>,
    pub actor_id: Option<String>,
    pub actor_handle: Option<String>,
    pub actor_ip: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub target_handle: Option<String>,
    pub data: String,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    fn fields(&self) -> ChainedFields<'_> {
        ChainedFields {
            id: &self.id,
            chain: &self.chain,
            seq: self.seq,
            created_at_us: time_to_micros(self.created_at),
            org_id: self.org_id.as_deref(),
            org_handle: self.org_handle.as_deref(),
            actor_id: self.actor_id.as_deref(),
            actor_handle: self.actor_handle.as_deref(),
            actor_ip: self.actor_ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            action: &self.action,
            target_type: self.target_type.as_deref(),
            target_id: self.target_id.as_deref(),
            target_handle: self.target_handle.as_deref(),
            data: &self.data,
            request_id: self.request_id.as_deref(),
        }
    }
}

/// A filtered read of one chain, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub chain: String,
    /// `None`: every action; `Some(list)`: only these (an empty list matches nothing).
    pub actions: Option<Vec<String>>,
    pub actor_handle: Option<String>,
    /// Matches the target's handle or its id.
    pub target: Option<String>,
    /// Inclusive, unix µs.
    pub since_us: Option<i64>,
    /// Exclusive, unix µs.
    pub until_us: Option<i64>,
    /// Keyset: only entries older than this position.
    pub before_seq: Option<i64>,
    /// Only entries at or after this position (the export reads windows of positions).
    pub from_seq: Option<i64>,
    pub limit: u32,
}

#[derive(Debug)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    /// The position to continue before, when there may be more.
    pub next_before: Option<i64>,
}

/// The outcome of walking a chain from its checkpoint to its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainVerification {
    pub ok: bool,
    /// Entries checked.
    pub entries: u64,
    /// The head hash as recorded, if the chain has entries.
    pub head: Option<String>,
    pub first_broken: Option<BrokenLink>,
    /// With a head saved earlier: whether it is still in the chain, at this position.
    /// `Some(None)` means it is not: entries were removed or rewritten since.
    pub known_head_seq: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The position where the chain breaks.
    pub seq: i64,
    /// The entry found there, if any.
    pub id: Option<String>,
    pub reason: String,
}

macro_rules! columns {
    () => {
        "id, chain, seq, created_at, org_id, org_handle, actor_id, actor_handle, \
         actor_ip, user_agent, action, target_type, target_id, target_handle, \
         data, request_id, prev_hash, hash"
    };
}
const COLUMNS: &str = columns!();
const INSERT_ENTRY: &str = concat!(
    "INSERT INTO audit_log (",
    columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
);

fn from_row(row: &AnyRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        id: row.try_get("id")?,
        chain: row.try_get("chain")?,
        seq: row.try_get("seq")?,
        created_at: micros_to_time(row.try_get("created_at")?),
        org_id: row.try_get("org_id")?,
        org_handle: row.try_get("org_handle")?,
        actor_id: row.try_get("actor_id")?,
        actor_handle: row.try_get("actor_handle")?,
        actor_ip: row.try_get("actor_ip")?,
        user_agent: row.try_get("user_agent")?,
        action: row.try_get("action")?,
        target_type: row.try_get("target_type")?,
        target_id: row.try_get("target_id")?,
        target_handle: row.try_get("target_handle")?,
        data: row.try_get("data")?,
        request_id: row.try_get("request_id")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

impl WriteTx {
    /// Appends to `entry.chain` in this transaction: if the change it records rolls back,
    /// so does the entry, and if the entry cannot be written the caller's commit never
    /// happens. Concurrent writers queue for the chain's head (its row locked on
    /// PostgreSQL, the one write lock on SQLite) instead of forking the chain.
    pub async fn append_audit(
        &mut self,
        entry: NewAuditEntry,
        now: OffsetDateTime,
    ) -> Result<AuditRecord> {
        let (head_seq, prev_hash) = match self.known_chain_head(&entry.chain) {
            Some(head) => (head.seq, head.hash),
            None => self.read_chain_head(&entry.chain).await?,
        };

        let mut record = AuditRecord {
            id: new_id(),
            chain: entry.chain,
            seq: head_seq + 1,
            // Whole microseconds, as stored, so the hash recomputes from the row.
            created_at: micros_to_time(time_to_micros(now)),
            org_id: entry.org_id,
            org_handle: entry.org_handle,
            actor_id: entry.actor_id,
            actor_handle: entry.actor_handle,
            actor_ip: entry.actor_ip,
            user_agent: entry.user_agent,
            action: entry.action,
            target_type: entry.target_type,
            target_id: entry.target_id,
            target_handle: entry.target_handle,
            data: entry.data,
            request_id: entry.request_id,
            prev_hash,
            hash: String::new(),
        };
        record.hash = record.fields().hash(&record.prev_hash);
        // Nothing in the transaction reads the entry back, so it and the new head go out
        // with the transaction's next statement or its commit (deferred.rs). The head was
        // read (on PostgreSQL, locked) above, so no other writer can append in between.
        self.defer(
            INSERT_ENTRY,
            vec![
                Bind::Text(record.id.clone()),
                Bind::Text(record.chain.clone()),
                Bind::Int(record.seq),
                Bind::Int(time_to_micros(record.created_at)),
                Bind::OptText(record.org_id.clone()),
                Bind::OptText(record.org_handle.clone()),
                Bind::OptText(record.actor_id.clone()),
                Bind::OptText(record.actor_handle.clone()),
                Bind::OptText(record.actor_ip.clone()),
                Bind::OptText(record.user_agent.clone()),
                Bind::Text(record.action.clone()),
                Bind::OptText(record.target_type.clone()),
                Bind::OptText(record.target_id.clone()),
                Bind::OptText(record.target_handle.clone()),
                Bind::Text(record.data.clone()),
                Bind::OptText(record.request_id.clone()),
                Bind::Text(record.prev_hash.clone()),
                Bind::Text(record.hash.clone()),
            ],
        )
        .await?;
        self.defer(
            "UPDATE audit_chains SET head_seq = $1, head_hash = $2 WHERE chain = $3",
            vec![
                Bind::Int(record.seq),
                Bind::Text(record.hash.clone()),
                Bind::Text(record.chain.clone()),
            ],
        )
        .await?;
        // Only the held writer reads them back (`known_chain_head`).
        if self.held_writer().is_some() {
            self.moved_heads.push((
                record.chain.clone(),
                ChainHead {
                    seq: record.seq,
                    hash: record.hash.clone(),
                },
            ));
        }
        Ok(record)
    }

    /// The chain's head as this transaction left it, or as SQLite's writer last committed
    /// it (writer.rs); `None` when it must be read. Only on SQLite's held writer: there the
    /// queued head updates run one after another, where PostgreSQL would get two updates
    /// of one row in one statement (deferred.rs), and keep either; so on PostgreSQL a
    /// second append to a chain sends the queue and reads the head back.
    fn known_chain_head(&mut self, chain: &str) -> Option<ChainHead> {
        let moved = self
            .moved_heads
            .iter()
            .rev()
            .find(|(c, _)| c == chain)
            .map(|(_, head)| head.clone());
        let writer = self.held_writer()?;
        moved.or_else(|| writer.take_chain_head(chain))
    }

    /// The chain's head from its row, which a chain's first entry creates. On PostgreSQL
    /// the row is locked, so concurrent writers queue instead of forking the chain; on
    /// SQLite, BEGIN IMMEDIATE already holds the database's one write lock.
    async fn read_chain_head(&mut self, chain: &str) -> Result<(i64, String)> {
        let head_sql = match self.backend {
            Backend::Postgres => {
                "SELECT head_seq, head_hash FROM audit_chains WHERE chain = $1 FOR UPDATE"
            }
            Backend::Sqlite => "SELECT head_seq, head_hash FROM audit_chains WHERE chain = $1",
        };
        let decode = |row: Row<'_>| Ok((row.get("head_seq")?, row.get("head_hash")?));
        let head = self.fetch_optional(head_sql, args![chain], decode).await?;
        Ok(match head {
            Some(head) => head,
            None => {
                self.execute("INSERT INTO audit_chains (chain, head_seq, head_hash, checkpoint_seq, checkpoint_hash) \
                     VALUES ($1, 0, $2, 0, $2) ON CONFLICT (chain) DO NOTHING", args![chain, GENESIS_HASH])
                .await?;
                self.fetch_one(head_sql, args![chain], decode).await?
            }
        })
    }
}

impl Store {
    /// One page of a chain, newest first, filtered.
    ///
    /// A filter that matches one of several values (an action prefix, a target that may
    /// be a handle or an id) becomes a UNION of one branch per value, each walking its
    /// own `(chain, column, seq)` index newest first and stopping after `limit + 1` rows:
    /// the cost is a few index probes however long the log is, where a single `IN`/`OR`
    /// query would collect and sort every match.
    pub async fn audit_page(&self, query: &AuditQuery) -> Result<AuditPage> {
        let Some((sql, binds)) = page_sql(query) else {
            return Ok(AuditPage::empty());
        };
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), &binds)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        Ok(AuditPage::from_rows(items, query.limit))
    }

    /// [`Store::audit_page`] for bulk reads (the export): the database packs each row
    /// into one JSON array, so the driver moves one value a row instead of eighteen,
    /// about twice as fast on SQLite.
    pub async fn audit_page_packed(&self, query: &AuditQuery) -> Result<AuditPage> {
        let Some((inner, binds)) = page_sql(query) else {
            return Ok(AuditPage::empty());
        };
        let pack = match self.backend() {
            Backend::Sqlite => format!("json_array({COLUMNS})"),
            Backend::Postgres => format!("json_build_array({COLUMNS})::text"),
        };
        let sql = format!("SELECT {pack} AS packed FROM ({inner}) p ORDER BY seq DESC");
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), &binds)
            .fetch_all(&mut *self.reader().await?)
            .await?;
        let items = rows
            .iter()
            .map(|row| unpack(&row.try_get::<String, _>("packed")?))
            .collect::<Result<Vec<_>>>()?;
        Ok(AuditPage::from_rows(items, query.limit))
    }
}

/// The SQL of one filtered page, returning [`COLUMNS`] newest first (`limit + 1` rows),
/// and its parameters; `None` when nothing can match.
fn page_sql(query: &AuditQuery) -> Option<(String, Vec<Bind>)> {
    if query.actions.as_ref().is_some_and(Vec::is_empty) || query.limit == 0 {
        return None;
    }
    let mut binds: Vec<Bind> = vec![Bind::Text(query.chain.clone())];
    let next = |binds: &mut Vec<Bind>, value: Bind| {
        binds.push(value);
        format!("${}", binds.len())
    };
    let mut common = String::from("chain = $1");
    if let Some(actor) = &query.actor_handle {
        let p = next(&mut binds, Bind::Text(actor.clone()));
        common.push_str(&format!(" AND actor_handle = {p}"));
    }
    if let Some(since) = query.since_us {
        let p = next(&mut binds, Bind::Int(since));
        common.push_str(&format!(" AND created_at >= {p}"));
    }
    if let Some(until) = query.until_us {
        let p = next(&mut binds, Bind::Int(until));
        common.push_str(&format!(" AND created_at < {p}"));
    }
    if let Some(before) = query.before_seq {
        let p = next(&mut binds, Bind::Int(before));
        common.push_str(&format!(" AND seq < {p}"));
    }
    if let Some(from) = query.from_seq {
        let p = next(&mut binds, Bind::Int(from));
        common.push_str(&format!(" AND seq >= {p}"));
    }
    // One row more than asked tells whether another page exists.
    let limit = next(&mut binds, Bind::Int(i64::from(query.limit) + 1));

    let action_branches: Vec<String> = match &query.actions {
        None => vec![String::new()],
        Some(actions) => actions
            .iter()
            .map(|a| format!(" AND action = {}", next(&mut binds, Bind::Text(a.clone()))))
            .collect(),
    };
    let target_branches: Vec<String> = match &query.target {
        None => vec![String::new()],
        Some(target) => {
            let p = next(&mut binds, Bind::Text(target.clone()));
            vec![
                format!(" AND target_handle = {p}"),
                format!(" AND target_id = {p}"),
            ]
        }
    };
    let mut branches = Vec::new();
    for action in &action_branches {
        for target in &target_branches {
            branches.push(format!("{common}{action}{target}"));
        }
    }
    let sql = if let [only] = branches.as_slice() {
        format!("SELECT {COLUMNS} FROM audit_log WHERE {only} ORDER BY seq DESC LIMIT {limit}")
    } else {
        let parts: Vec<String> = branches
            .iter()
            .enumerate()
            .map(|(i, cond)| {
                format!(
                    "SELECT {COLUMNS} FROM (SELECT {COLUMNS} FROM audit_log WHERE {cond} \
                     ORDER BY seq DESC LIMIT {limit}) b{i}"
                )
            })
            .collect();
        // UNION, not UNION ALL: an entry whose target handle equals its id is found
        // by both target branches.
        format!("{} ORDER BY seq DESC LIMIT {limit}", parts.join(" UNION "))
    };

    Some((sql, binds))
}

/// One row packed by the database as a JSON array of [`COLUMNS`].
#[derive(serde::Deserialize)]
struct Packed(
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
);

fn unpack(packed: &str) -> Result<AuditRecord> {
    let p: Packed = serde_json::from_str(packed)
        .map_err(|e| StoreError::Corrupt(format!("a packed audit row: {e}")))?;
    Ok(AuditRecord {
        id: p.0,
        chain: p.1,
        seq: p.2,
        created_at: micros_to_time(p.3),
        org_id: p.4,
        org_handle: p.5,
        actor_id: p.6,
        actor_handle: p.7,
        actor_ip: p.8,
        user_agent: p.9,
        action: p.10,
        target_type: p.11,
        target_id: p.12,
        target_handle: p.13,
        data: p.14,
        request_id: p.15,
        prev_hash: p.16,
        hash: p.17,
    })
}

impl AuditPage {
    fn empty() -> Self {
        Self {
            items: Vec::new(),
            next_before: None,
        }
    }

    /// From `limit + 1` rows: the extra one only says that there is more.
    fn from_rows(mut items: Vec<AuditRecord>, limit: u32) -> Self {
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_before = if more {
            items.last().map(|e| e.seq)
        } else {
            None
        };
        Self { items, next_before }
    }
}

impl Store {
    /// The position of a chain's newest entry (0 for an empty or unknown chain).
    pub async fn audit_head(&self, chain: &str) -> Result<i64> {
        let row = sqlx::query("SELECT head_seq FROM audit_chains WHERE chain = $1")
            .bind(chain)
            .fetch_optional(&mut *self.reader().await?)
            .await?;
        Ok(match row {
            Some(row) => row.try_get("head_seq")?,
            None => 0,
        })
    }

    /// How many entries `chain` keeps (head minus the retention checkpoint): O(1), for an
    /// unfiltered export's expected total.
    pub async fn audit_kept_entries(&self, chain: &str) -> Result<i64> {
        let row = sqlx::query(
            "SELECT head_seq - checkpoint_seq AS kept FROM audit_chains WHERE chain = $1",
        )
        .bind(chain)
        .fetch_optional(&mut *self.reader().await?)
        .await?;
        Ok(match row {
            Some(row) => row.try_get("kept")?,
            None => 0,
        })
    }

    /// Every chain, for `plinth admin audit verify`.
    pub async fn audit_chains(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT chain FROM audit_chains ORDER BY chain")
            .fetch_all(&mut *self.reader().await?)
            .await?;
        rows.iter()
            .map(|r| r.try_get("chain").map_err(Into::into))
            .collect()
    }

    /// Entries recorded in `chain` in `[from, to)`, for the usage snapshot.
    pub async fn count_audit_entries(&self, chain: &str, from_us: i64, to_us: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM audit_log WHERE chain = $1 \
             AND created_at >= $2 AND created_at < $3",
        )
        .bind(chain)
        .bind(from_us)
        .bind(to_us)
        .fetch_one(&mut *self.reader().await?)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Walks `chain` from its checkpoint to its head in batches (constant memory) and
    /// reports the first entry whose position, link or hash is wrong.
    pub async fn verify_audit_chain(&self, chain: &str) -> Result<ChainVerification> {
        self.verify_audit_chain_from(chain, None).await
    }

    /// Like [`Store::verify_audit_chain`], and also proves that `known_head`, a head hash
    /// saved earlier by someone outside the database, is still in the chain. The chain
    /// alone cannot show that its newest entries were deleted and the head moved back:
    /// an earlier head that is no longer found shows exactly that (`ok` is then false).
    pub async fn verify_audit_chain_from(
        &self,
        chain: &str,
        known_head: Option<&str>,
    ) -> Result<ChainVerification> {
        const BATCH: i64 = 1000;
        let Some(head) = sqlx::query(
            "SELECT head_seq, head_hash, checkpoint_seq, checkpoint_hash \
             FROM audit_chains WHERE chain = $1",
        )
        .bind(chain)
        .fetch_optional(&mut *self.reader().await?)
        .await?
        else {
            return Ok(ChainVerification {
                ok: known_head.is_none(),
                entries: 0,
                head: None,
                first_broken: known_head.map(|_| BrokenLink {
                    seq: 1,
                    id: None,
                    reason: "the chain is empty, so the earlier head is not in it".to_owned(),
                }),
                known_head_seq: known_head.map(|_| None),
            });
        };
        let head_seq: i64 = head.try_get("head_seq")?;
        let head_hash: String = head.try_get("head_hash")?;
        let mut expected_seq: i64 = head.try_get::<i64, _>("checkpoint_seq")? + 1;
        let mut expected_prev: String = head.try_get("checkpoint_hash")?;
        let mut entries = 0u64;
        // The checkpoint counts as found: entries before it went by retention.
        let mut known_seq = known_head
            .filter(|h| *h == expected_prev)
            .map(|_| expected_seq - 1);
        let broken = |seq: i64, id: Option<String>, reason: String, entries: u64| {
            Ok(ChainVerification {
                ok: false,
                entries,
                head: Some(head_hash.clone()),
                first_broken: Some(BrokenLink { seq, id, reason }),
                known_head_seq: known_head.map(|_| None),
            })
        };
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM audit_log WHERE chain = $1 AND seq >= $2 \
                 ORDER BY seq LIMIT $3"
            )))
            .bind(chain)
            .bind(expected_seq)
            .bind(BATCH)
            .fetch_all(&mut *self.reader().await?)
            .await?;
            let done = (rows.len() as i64) < BATCH;
            for row in &rows {
                let entry = from_row(row)?;
                if entry.seq != expected_seq {
                    return broken(
                        expected_seq,
                        None,
                        format!("entry {expected_seq} is missing"),
                        entries,
                    );
                }
                if entry.prev_hash != expected_prev {
                    return broken(
                        entry.seq,
                        Some(entry.id),
                        "prev_hash does not match the entry before it".to_owned(),
                        entries,
                    );
                }
                if entry.fields().hash(&entry.prev_hash) != entry.hash {
                    return broken(
                        entry.seq,
                        Some(entry.id),
                        "the entry's content does not match its hash".to_owned(),
                        entries,
                    );
                }
                if known_head == Some(entry.hash.as_str()) {
                    known_seq = Some(entry.seq);
                }
                entries += 1;
                expected_seq += 1;
                expected_prev = entry.hash;
            }
            if done {
                break;
            }
        }
        if expected_seq - 1 != head_seq || expected_prev != head_hash {
            return broken(
                expected_seq,
                None,
                format!(
                    "the chain ends at entry {} but its head is entry {head_seq}",
                    expected_seq - 1
                ),
                entries,
            );
        }
        if known_head.is_some() && known_seq.is_none() {
            return broken(
                expected_seq,
                None,
                "the earlier head is no longer in the chain: entries were removed or \
                 rewritten since it was saved (or it is older than the retention period)"
                    .to_owned(),
                entries,
            );
        }
        Ok(ChainVerification {
            ok: true,
            entries,
            head: (head_seq > 0).then_some(head_hash),
            first_broken: None,
            known_head_seq: known_head.map(|_| known_seq),
        })
    }

    /// Retention: removes entries created before `cutoff`, chain by chain, moving each
    /// chain's checkpoint to the last removed entry so that verification stays green.
    pub async fn purge_audit_before(&self, cutoff: OffsetDateTime) -> Result<u64> {
        let cutoff_us = time_to_micros(cutoff);
        let chains = sqlx::query(
            "SELECT chain, MAX(seq) AS last FROM audit_log WHERE created_at < $1 GROUP BY chain",
        )
        .bind(cutoff_us)
        .fetch_all(&mut *self.reader().await?)
        .await?;
        let mut removed = 0;
        for row in &chains {
            let chain: String = row.try_get("chain")?;
            let last: i64 = row.try_get("last")?;
            let mut tx = self.begin().await?;
            let lock = match tx.backend {
                Backend::Postgres => " FOR UPDATE",
                Backend::Sqlite => "",
            };
            tx.fetch_one(
                sqlx::AssertSqlSafe(format!(
                    "SELECT head_seq FROM audit_chains WHERE chain = $1{lock}"
                )),
                args![&chain],
                |row| row.get::<i64>("head_seq"),
            )
            .await?;
            let hash: String = tx
                .fetch_optional(
                    "SELECT hash FROM audit_log WHERE chain = $1 AND seq = $2",
                    args![&chain, last],
                    |row| row.get("hash"),
                )
                .await?
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("audit entry {last} of {chain} vanished"))
                })?;
            let done = tx
                .execute(
                    "DELETE FROM audit_log WHERE chain = $1 AND seq <= $2",
                    args![&chain, last],
                )
                .await?;
            tx.execute(
                "UPDATE audit_chains SET checkpoint_seq = $1, checkpoint_hash = $2 \
                 WHERE chain = $3",
                args![last, &hash, &chain],
            )
            .await?;
            tx.commit().await?;
            removed += done;
        }
        Ok(removed)
    }
}
