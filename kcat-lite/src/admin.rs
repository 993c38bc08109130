//! `--create-topic` / `--delete-topic`, so the lab needs no JVM tool.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use anyhow::Result;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};

use crate::diagnose::Ctx;
use crate::{config, metadata, Args};

pub fn create_topic(args: &Args, name: &str) -> Result<()> {
    if args.partitions < 1 || args.replication_factor < 1 {
        return Err(lakepipe::cli::usage(
            "--partitions and --replication-factor must be at least 1",
        ));
    }
    let admin = client(args)?;
    let topic = NewTopic::new(
        name,
        args.partitions,
        TopicReplication::Fixed(args.replication_factor),
    );
    let results = block_on(admin.create_topics([&topic], &options(args)))
        .map_err(|e| config::unreachable(args, args.timeout(), e))?;
    for r in results {
        r.map_err(|(t, e)| anyhow::anyhow!("creating topic {t:?}: {e}"))?;
    }
    lakepipe::cli::info(
        args.quiet(),
        format!("created topic {name:?} with {} partitions", args.partitions),
    );
    Ok(())
}

pub fn delete_topic(args: &Args, name: &str) -> Result<()> {
    let admin = client(args)?;
    let results = block_on(admin.delete_topics(&[name], &options(args)))
        .map_err(|e| config::unreachable(args, args.timeout(), e))?;
    for r in results {
        r.map_err(|(t, e)| anyhow::anyhow!("deleting topic {t:?}: {e}"))?;
    }
    lakepipe::cli::info(args.quiet(), format!("deleted topic {name:?}"));
    Ok(())
}

fn client(args: &Args) -> Result<AdminClient<Ctx>> {
    // Fail fast, naming the brokers and why, when they do not answer: a consumer's
    // metadata request (the admin client's own logs are never polled).
    metadata::probe(args, None)?;
    config::create(&config::client_config(args)?, Ctx, "admin client")
}

fn options(args: &Args) -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(args.timeout()))
        .operation_timeout(Some(args.timeout()))
}

/// The admin API returns futures; librdkafka completes them from its own thread.
fn block_on<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = TaskContext::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}
