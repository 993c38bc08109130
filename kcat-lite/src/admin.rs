//! `--create-topic` / `--delete-topic`, so the lab needs no JVM tool.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use anyhow::{Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

use crate::{config, Args};

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

fn client(args: &Args) -> Result<AdminClient<DefaultClientContext>> {
    let admin: AdminClient<DefaultClientContext> = config::client_config(args)?
        .create()
        .context("creating the Kafka admin client")?;
    // Fail fast, naming the brokers, when nothing answers.
    admin
        .inner()
        .fetch_metadata(None, args.timeout())
        .map_err(|e| config::unreachable(args, args.timeout(), e))?;
    Ok(admin)
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
