//! argon2id password hashing, run off the async executor and bounded in concurrency.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use plinth_core::Password;
use rand::RngExt;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// m = 19 MiB, t = 2, p = 1: OWASP's recommended argon2id minimum.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords on the blocking pool. At most one hash per core runs at
/// once: a burst of logins queues here instead of starving everything else of memory.
#[derive(Clone)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
}

impl Default for PasswordHashing {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl PasswordHashing {
    pub async fn hash(&self, password: Password) -> Result<String, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || {
            let mut salt = [0u8; 16];
            rand::rng().fill(&mut salt);
            argon2()
                .hash_password_with_salt(password.expose().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(ApiError::internal)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Verifies `password` against `hash`, or against a fixed dummy hash when there is no
    /// such user, so that an unknown login takes as long as a wrong password.
    pub async fn verify(&self, password: Password, hash: Option<String>) -> Result<bool, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
            let ok = argon2()
                .verify_password(password.expose().as_bytes(), hash.as_str())
                .is_ok();
            ok && known
        })
        .await
        .map_err(ApiError::internal)
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        argon2()
            .hash_password_with_salt(b"no such user", b"plinth-dummy-salt")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let hashing = PasswordHashing::default();
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
}
