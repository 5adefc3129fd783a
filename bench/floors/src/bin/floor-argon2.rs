//! `floor-argon2 SECONDS [THREADS]`: argon2id with Plinth's parameters (m = 19 MiB,
//! t = 2, p = 1, each thread reusing its own memory as the server's workers do) on
//! THREADS threads (default: one per core) for SECONDS; prints `hashes/s N`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let threads: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|i| {
            let done = done.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let params = Params::new(19 * 1024, 2, 1, None).expect("valid parameters");
                let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let mut memory = vec![Block::default(); params.block_count()];
                let salt = [i as u8; 16];
                let mut out = [0u8; 32];
                while !stop.load(Ordering::Relaxed) {
                    argon
                        .hash_password_into_with_memory(
                            b"correct horse battery",
                            &salt,
                            &mut out,
                            &mut memory,
                        )
                        .expect("hashing succeeds");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("worker finished");
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!("hashes/s {rate:.1}");
}
