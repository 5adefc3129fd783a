//! argon2id password hashing on a fixed pool of worker threads, each with its own
//! reusable argon2 memory, behind bounded queues.
//!
//! - **Memory is bounded**: one 19 MiB block buffer per worker, allocated at its first job
//!   and reused for every hash after (`Argon2::hash_password_into_with_memory`). Allocating
//!   19 MiB per hash, as `hash_password` does, left the memory in the allocator's arenas
//!   for good (RSS 19 MB → 589 MB after a few bursts of logins). A worker idle for
//!   [`IDLE_RELEASE`] frees its buffer, so an idle server holds none (the next login
//!   pays a few milliseconds of page faults to map it again, beside a ~20 ms hash).
//! - **The queues are bounded**: at most [`QUEUE_LIMIT`] jobs wait per kind; past it the
//!   caller gets 429 `rate-limited` with `Retry-After` at once, unhashed.
//! - **Logins go first**: a worker takes a waiting login (a verification) before a waiting
//!   signup (a new hash), and signups never hold every worker (with two or more, one is
//!   always left for logins), so a burst of signups cannot slow people signing in.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use plinth_core::Password;
use rand::RngExt;
use tokio::sync::oneshot;

use crate::error::ApiError;

/// m = 19 MiB, t = 2, p = 1: OWASP's recommended argon2id minimum.
const M_COST_KIB: u32 = 19 * 1024;

fn params() -> Params {
    Params::new(M_COST_KIB, 2, 1, None).expect("static argon2 parameters are valid")
}

/// Jobs that may wait, per kind (logins, signups), beyond those being hashed.
pub const QUEUE_LIMIT: usize = 32;
/// The most memory a stored hash may ask for when verified (64 MiB): a hash with more is
/// refused rather than allocated for.
const MAX_VERIFY_M_COST_KIB: u32 = 64 * 1024;

/// Blocks (1 KiB each) reserved for a worker's buffer: 33 MiB (see [`blocks`]).
const RESERVED_BLOCKS: usize = 33 * 1024;

/// How long a worker keeps its buffer with nothing to do.
pub const IDLE_RELEASE: std::time::Duration = std::time::Duration::from_secs(5);

/// Hashes and verifies passwords on `workers` threads (one per core by default).
#[derive(Clone)]
pub struct PasswordHashing {
    pool: Arc<PoolHandle>,
}

/// Stops the workers when the last [`PasswordHashing`] goes, freeing their memory.
struct PoolHandle(Arc<Pool>);

impl Drop for PoolHandle {
    fn drop(&mut self) {
        let mut queues = self.0.queues.lock().unwrap_or_else(|e| e.into_inner());
        queues.closed = true;
        drop(queues);
        self.0.ready.notify_all();
    }
}

struct Pool {
    queues: Mutex<Queues>,
    ready: Condvar,
    workers: usize,
    idle_release: std::time::Duration,
    /// Workers holding a buffer now.
    buffers: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct Queues {
    logins: VecDeque<Job>,
    signups: VecDeque<Job>,
    /// Signups being hashed now.
    signups_running: usize,
    closed: bool,
}

enum Job {
    Hash {
        password: Password,
        reply: oneshot::Sender<Result<String, String>>,
    },
    Verify {
        password: Password,
        hash: Option<String>,
        reply: oneshot::Sender<bool>,
    },
}

impl Default for PasswordHashing {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores)
    }
}

impl PasswordHashing {
    pub fn new(workers: usize) -> Self {
        Self::with_idle_release(workers, IDLE_RELEASE)
    }

    fn with_idle_release(workers: usize, idle_release: std::time::Duration) -> Self {
        let workers = workers.max(1);
        let pool = Arc::new(Pool {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
            workers,
            idle_release,
            buffers: Default::default(),
        });
        for i in 0..workers {
            let pool = pool.clone();
            std::thread::Builder::new()
                .name(format!("plinth-argon2-{i}"))
                .spawn(move || work(&pool))
                .expect("a password hashing thread starts");
        }
        Self {
            pool: Arc::new(PoolHandle(pool)),
        }
    }

    fn submit(&self, job: Job) -> Result<(), ApiError> {
        let pool = &self.pool.0;
        let mut queues = pool.queues.lock().unwrap_or_else(|e| e.into_inner());
        let queue = match job {
            Job::Verify { .. } => &mut queues.logins,
            Job::Hash { .. } => &mut queues.signups,
        };
        if queue.len() >= QUEUE_LIMIT {
            // What is waiting now clears in well under a second (about 20 ms a hash).
            return Err(ApiError::rate_limited(1)
                .detail("too many passwords are being checked right now; try again in 1 s"));
        }
        queue.push_back(job);
        drop(queues);
        pool.ready.notify_one();
        Ok(())
    }

    pub async fn hash(&self, password: Password) -> Result<String, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)
    }

    /// Verifies `password` against `hash`, or against a fixed dummy hash when there is no
    /// such user, so that an unknown login takes as long as a wrong password.
    pub async fn verify(&self, password: Password, hash: Option<String>) -> Result<bool, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            hash,
            reply,
        })?;
        answer.await.map_err(ApiError::internal)
    }

    /// How many threads hash.
    pub fn workers(&self) -> usize {
        self.pool.0.workers
    }
}

fn work(pool: &Pool) {
    // This worker's argon2 memory: allocated at its first job, reused until it idles.
    let mut memory: Vec<Block> = Vec::new();
    // Signups may use every worker but one, so a login never waits for a signup's hash.
    let signup_workers = pool.workers.saturating_sub(1).max(1);
    loop {
        let job = {
            let mut queues = pool.queues.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if queues.closed {
                    return;
                }
                if let Some(job) = queues.logins.pop_front() {
                    break job;
                }
                if queues.signups_running < signup_workers
                    && let Some(job) = queues.signups.pop_front()
                {
                    queues.signups_running += 1;
                    break job;
                }
                let (guard, waited) = pool
                    .ready
                    .wait_timeout(queues, pool.idle_release)
                    .unwrap_or_else(|e| e.into_inner());
                queues = guard;
                if waited.timed_out() && !memory.is_empty() {
                    // A mapping of its own (see `blocks`): freeing it unmaps it.
                    memory = Vec::new();
                    pool.buffers.fetch_sub(1, Ordering::Relaxed);
                }
            }
        };
        if memory.is_empty() {
            pool.buffers.fetch_add(1, Ordering::Relaxed);
        }
        match job {
            Job::Hash { password, reply } => {
                let hashed = hash_with(&mut memory, password.expose().as_bytes());
                let mut queues = pool.queues.lock().unwrap_or_else(|e| e.into_inner());
                queues.signups_running -= 1;
                drop(queues);
                // A worker the signup cap left waiting may take the next signup now.
                pool.ready.notify_all();
                let _ = reply.send(hashed);
            }
            Job::Verify {
                password,
                hash,
                reply,
            } => {
                let known = hash.is_some();
                let hash = hash.as_deref().unwrap_or_else(|| dummy_hash());
                let ok = verify_with(&mut memory, password.expose().as_bytes(), hash);
                let _ = reply.send(ok && known);
            }
        }
    }
}

/// `memory`, grown to `blocks` if it is smaller (once per worker, for our own parameters).
fn blocks(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        // Reserved past glibc's largest dynamic mmap threshold (32 MiB), so the buffer is
        // always a mapping of its own: freeing it unmaps it (a smaller one, once freed,
        // raises the threshold and the next comes from an arena that keeps it), and only
        // the pages written, the 19 MiB used, are ever resident.
        memory.reserve_exact(blocks.max(RESERVED_BLOCKS) - memory.len());
        memory.resize(blocks, Block::new());
    }
    &mut memory[..blocks]
}

fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> Result<String, String> {
    let params = params();
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon2
        .hash_password_into_with_memory(
            password,
            &salt,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `hash`, computed in `memory`.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
        None => Version::default(),
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if params.m_cost() > MAX_VERIFY_M_COST_KIB {
        return false;
    }
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = argon2.hash_password_into_with_memory(
        password,
        salt,
        &mut out,
        blocks(memory, params.block_count()),
    );
    // `Output` compares in constant time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| &out == expected)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        use argon2::password_hash::PasswordHasher;
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password_with_salt(b"no such user", b"plinth-dummy-salt")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker frees its buffer once idle, and hashes again after.
    #[tokio::test]
    async fn idle_workers_free_their_memory() {
        let hashing = PasswordHashing::with_idle_release(1, std::time::Duration::from_millis(200));
        let buffers = || hashing.pool.0.buffers.load(Ordering::Relaxed);
        assert_eq!(buffers(), 0, "nothing is allocated before the first job");
        let hash = hashing
            .hash(Password::parse_new("correct horse").unwrap())
            .await
            .unwrap();
        assert_eq!(buffers(), 1);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while buffers() != 0 {
            assert!(std::time::Instant::now() < deadline, "the buffer was kept");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let right = Password::parse_attempt("correct horse").unwrap();
        assert!(hashing.verify(right, Some(hash)).await.unwrap());
        assert_eq!(buffers(), 1);
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let hashing = PasswordHashing::new(2);
        let hash = hashing
            .hash(Password::parse_new("correct horse").unwrap())
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let right = Password::parse_attempt("correct horse").unwrap();
        let wrong = Password::parse_attempt("wrong horse").unwrap();
        assert!(
            hashing
                .verify(right.clone(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!hashing.verify(wrong, Some(hash)).await.unwrap());
        assert!(!hashing.verify(right, None).await.unwrap());
    }

    /// Hashes made by the argon2 crate's own PHC path (as stored before the pool) still
    /// verify, and garbage does not.
    #[tokio::test]
    async fn verifies_hashes_made_the_old_way() {
        use argon2::password_hash::PasswordHasher;
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password_with_salt(b"correct horse", b"0123456789abcdef")
            .unwrap()
            .to_string();
        let hashing = PasswordHashing::new(1);
        let right = Password::parse_attempt("correct horse").unwrap();
        assert!(hashing.verify(right.clone(), Some(old)).await.unwrap());
        for garbage in [
            "",
            "$argon2id$",
            "plain",
            "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(
                !hashing
                    .verify(right.clone(), Some(garbage.to_owned()))
                    .await
                    .unwrap(),
                "{garbage}"
            );
        }
    }

    /// With one worker busy and ten signups waiting, a login is hashed next.
    #[tokio::test]
    async fn logins_go_before_waiting_signups() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let hashing = PasswordHashing::new(1);
        let hashed = Arc::new(AtomicUsize::new(0));
        let mut signups = Vec::new();
        for _ in 0..10 {
            let (hashing, hashed) = (hashing.clone(), hashed.clone());
            signups.push(tokio::spawn(async move {
                hashing
                    .hash(Password::parse_new("correct horse").unwrap())
                    .await
                    .unwrap();
                hashed.fetch_add(1, Ordering::SeqCst);
            }));
        }
        // Let all ten reach the queue.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        hashing
            .verify(Password::parse_attempt("x").unwrap(), None)
            .await
            .unwrap();
        let before = hashed.load(Ordering::SeqCst);
        assert!(before <= 2, "{before} signups were hashed before the login");
        for signup in signups {
            signup.await.unwrap();
        }
    }

    /// Two workers, a queue of signups: signups never hold both workers (sampled while
    /// they run), and a login is hashed on the free one while signups still wait. Checked
    /// on the pool's own counts, not on timings, which a loaded machine stretches.
    #[tokio::test]
    async fn signups_leave_a_worker_for_logins() {
        let hashing = PasswordHashing::new(2);
        let queues = || hashing.pool.0.queues.lock().unwrap();
        let mut signups = Vec::new();
        for _ in 0..6 {
            let hashing = hashing.clone();
            signups.push(tokio::spawn(async move {
                hashing
                    .hash(Password::parse_new("correct horse").unwrap())
                    .await
                    .unwrap();
            }));
        }
        let login = {
            let hashing = hashing.clone();
            tokio::spawn(async move {
                hashing
                    .verify(Password::parse_attempt("x").unwrap(), None)
                    .await
                    .unwrap();
            })
        };
        let mut most_running = 0;
        let mut waiting_when_login_done = None;
        while signups.iter().any(|s| !s.is_finished()) {
            {
                let q = queues();
                most_running = most_running.max(q.signups_running);
                if login.is_finished() && waiting_when_login_done.is_none() {
                    waiting_when_login_done = Some(q.signups.len());
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        assert_eq!(most_running, 1, "signups held both workers");
        let waiting = waiting_when_login_done.expect("the login finished before the signups");
        assert!(
            waiting > 0,
            "the login waited for the whole queue of signups"
        );
        login.await.unwrap();
        for signup in signups {
            signup.await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let hashing = PasswordHashing::new(1);
        let attempts = (0..QUEUE_LIMIT + 20).map(|_| {
            let hashing = hashing.clone();
            async move {
                hashing
                    .verify(Password::parse_attempt("x").unwrap(), None)
                    .await
            }
        });
        let answers = futures_util::future::join_all(attempts).await;
        let refused: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
        // One is being hashed, QUEUE_LIMIT wait, the rest are refused.
        assert!(refused.len() >= 15, "{} refused", refused.len());
        for err in refused {
            assert_eq!(err.status, 429);
        }
    }
}
