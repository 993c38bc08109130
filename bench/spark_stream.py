"""The lab's streaming job, for bench/stream-spark.sh: Spark Structured Streaming reads a
Kafka topic and writes Parquet to HDFS every TRIGGER seconds, with a checkpoint folder.

Usage: spark_stream.py BROKERS TOPIC OUT CHECKPOINT plain|split [TRIGGER_SECS]
  plain: the file sink (`writeStream.format("parquet")`), one folder;
  split: `foreachBatch` writing a folder per event type, each with only its own columns
         (what `pq-write --split-by event_type` does).
Runs until killed. Started by bin/... through PYSPARK_SUBMIT_ARGS (jars, driver memory).
"""
import os
import sys

# the services' SparkSession settings
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "services", "spark"))
from spark_sql import local_builder  # noqa: E402

# every field of bench/gen_events.py's events, plus the producer's send time
SCHEMA = (
    "sent_ms BIGINT, event_type STRING, Host STRING, Accept STRING, `User-Agent` STRING, "
    "timestamp STRING, seq BIGINT, user STRUCT<id: BIGINT, country: STRING, premium: BOOLEAN>, "
    "sword_type STRING, price DOUBLE, tags ARRAY<STRING>, knife_type STRING, quantity BIGINT, "
    "guild STRUCT<name: STRING, rank: BIGINT, motto: STRING>, arena_id BIGINT, "
    "opponents ARRAY<BIGINT>, score BIGINT, "
    "metadata STRUCT<session: STRING, client: STRUCT<version: STRING, os: STRING>>"
)
COMMON = ["sent_ms", "event_type", "Host", "Accept", "User-Agent", "timestamp", "seq", "user",
          "metadata", "_topic", "_partition", "_offset", "_timestamp"]
OWN = {
    "purchase_sword": ["sword_type", "price", "tags"],
    "purchase_knife": ["knife_type", "price", "quantity"],
    "join_guild": ["guild"],
    "enter_arena": ["arena_id", "opponents", "score"],
    "default": [],
}


def main():
    brokers, topic, out, checkpoint, mode = sys.argv[1:6]
    trigger = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    from pyspark.sql import functions as F

    spark = local_builder("lakepipe-bench-stream").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    raw = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", brokers)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
    )
    # the same columns as `pq-write --envelope kcat --kafka-meta`
    events = raw.select(
        F.from_json(F.col("value").cast("string"), SCHEMA).alias("e"),
        F.col("topic").alias("_topic"),
        F.col("partition").alias("_partition"),
        F.col("offset").alias("_offset"),
        F.col("timestamp").alias("_timestamp"),
    ).select("e.*", "_topic", "_partition", "_offset", "_timestamp")
    w = events.writeStream.option("checkpointLocation", checkpoint).trigger(
        processingTime="%d seconds" % trigger
    )
    if mode == "plain":
        query = w.format("parquet").option("path", out).start()
    else:
        def write_types(df, _batch_id):
            df.persist()
            for t, own in OWN.items():
                cols = [F.col("`%s`" % c) for c in COMMON + own]
                df.where(F.col("event_type") == t).select(*cols).write.mode("append").parquet(
                    "%s/%s" % (out, t)
                )
            df.unpersist()

        query = w.foreachBatch(write_types).start()
    print("spark: streaming query started", file=sys.stderr, flush=True)
    query.awaitTermination()


if __name__ == "__main__":
    main()
