//! `plinth admin audit verify`: checks every audit chain (or one org's) on the database
//! directly, without a running server.

use anyhow::Context;
use plinth_core::Handle;
use plinth_store::{Store, org_chain};

/// Verifies the chains and prints one line per chain (with its head hash, to keep for a
/// later `--head` check); `Ok(false)` when any is broken or `head` is no longer found.
pub async fn verify(store: &Store, org: Option<&str>, head: Option<&str>) -> anyhow::Result<bool> {
    let chains = match org {
        Some(handle) => {
            let handle = Handle::parse(handle).map_err(|e| anyhow::anyhow!("{handle}: {e}"))?;
            let org = store
                .org_by_handle(&handle)
                .await?
                .with_context(|| format!("no live organization \"{handle}\""))?;
            vec![org_chain(&org.id)]
        }
        None => store.audit_chains().await?,
    };
    let mut all_ok = true;
    for chain in &chains {
        let verdict = store
            .verify_audit_chain_from(chain, head)
            .await
            .with_context(|| format!("reading {chain}"))?;
        match &verdict.first_broken {
            None => println!(
                "ok      {chain}: {} entries, head {}{}",
                verdict.entries,
                verdict.head.as_deref().unwrap_or("(none)"),
                match verdict.known_head_seq {
                    Some(Some(seq)) => format!(", the earlier head is entry {seq}"),
                    _ => String::new(),
                }
            ),
            Some(broken) => {
                all_ok = false;
                println!(
                    "BROKEN  {chain}: at entry {} ({}): {}",
                    broken.seq,
                    broken.id.as_deref().unwrap_or("missing"),
                    broken.reason
                );
            }
        }
    }
    println!(
        "{} chain(s) checked, {}",
        chains.len(),
        if all_ok { "all intact" } else { "some broken" }
    );
    Ok(all_ok)
}
