# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# HDFS: a MiniDFSCluster (namenode + datanodes) from hadoop-client-minicluster, started by
# the small launcher java/MiniHdfs.java; `hdfs dfs` is Hadoop's FsShell from the same jars.
HADOOP_HOME=$CACHE/hadoop-$HADOOP_VERSION
HDFS_DATA=$STATE/hdfs
HDFS_DATANODES=${LAKEPIPE_HDFS_DATANODES:-1}

install_hdfs() {
  mvn_classpath "$HADOOP_HOME" "org.apache.hadoop:hadoop-client-minicluster:$HADOOP_VERSION" \
    org.slf4j:slf4j-simple:1.7.36
}

hdfs_healthy() {
  port_open "$HDFS_PORT" && grep -q '^MiniHdfs READY' "$(logfile hdfs)"
}

start_hdfs() {
  require_port_free hdfs "$HDFS_PORT"
  mkdir -p "$HDFS_DATA"
  # run from the data dir: MiniDFSCluster writes a few relative paths
  (cd "$HDFS_DATA" && launch hdfs "$JAVA17_HOME/bin/java" -Xmx768m -XX:+UseG1GC \
    -Djava.net.preferIPv4Stack=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$HADOOP_HOME/lib/*" "$SERVICES_DIR/java/MiniHdfs.java" \
    "$HDFS_DATA/cluster" "$CONF" "$HDFS_PORT" "$HDFS_DATANODES" >/dev/null)
  wait_healthy hdfs 120 hdfs_healthy
}
