// A MiniDFSCluster (one namenode, DATANODES datanodes) on 127.0.0.1 for lakepipe's tests.
// Run as a single-file source program:
//   java -cp 'hadoop jars' MiniHdfs.java DATA_DIR CONF_DIR NN_PORT DATANODES
// Formats DATA_DIR only the first time (later starts keep the files), writes
// CONF_DIR/core-site.xml and hdfs-site.xml for clients, prints a READY line, then runs
// until it gets SIGTERM.
import java.io.File;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

public class MiniHdfs {
  public static void main(String[] args) throws Exception {
    File dataDir = new File(args[0]);
    File confDir = new File(args[1]);
    int port = Integer.parseInt(args[2]);
    int dataNodes = Integer.parseInt(args[3]);
    boolean fresh = !new File(dataDir, "name-0-1/current/VERSION").exists();

    Configuration conf = new HdfsConfiguration();
    conf.setBoolean("dfs.permissions.enabled", true);
    conf.set("dfs.permissions.superusergroup", "supergroup");
    conf.setInt("dfs.replication", 1);
    conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.setBoolean("dfs.namenode.acls.enabled", true);
    conf.setInt("dfs.namenode.handler.count", 4);
    conf.setInt("dfs.datanode.handler.count", 2);

    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, dataDir)
        .nameNodePort(port)
        .numDataNodes(dataNodes)
        .format(fresh)
        .build();
    cluster.waitActive();
    // ready only when it serves: after a restart the namenode stays in safe mode until the
    // datanode's block report is in, and reads fail with SafeModeException until then
    long deadline = System.currentTimeMillis() + 120_000;
    while (cluster.getNameNode().isInSafeMode() && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("MiniHdfs: shutting down");
      cluster.shutdown();
    }));

    String uri = "hdfs://127.0.0.1:" + port;
    FileSystem fs = cluster.getFileSystem();
    if (fresh) {
      fs.mkdirs(new Path("/tmp"));
      fs.setPermission(new Path("/tmp"), new FsPermission((short) 01777));
      fs.mkdirs(new Path("/user"));
      fs.setPermission(new Path("/user"), new FsPermission((short) 0755));
    }
    String user = System.getProperty("user.name");
    Path home = new Path("/user/" + user);
    if (!fs.exists(home)) fs.mkdirs(home);

    confDir.mkdirs();
    write(new File(confDir, "core-site.xml"), "fs.defaultFS", uri);
    write(new File(confDir, "hdfs-site.xml"), "dfs.replication", "1");
    // the datanodes' HTTP ports, for tests that read their metrics (/jmx)
    StringBuilder ports = new StringBuilder();
    for (org.apache.hadoop.hdfs.server.datanode.DataNode dn : cluster.getDataNodes()) {
      ports.append(dn.getInfoPort()).append('\n');
    }
    writeText(new File(confDir, "datanode-http-ports"), ports.toString());
    System.out.println("MiniHdfs READY " + uri + " datanodes=" + dataNodes + " formatted=" + fresh);
    System.out.flush();
    Thread.currentThread().join();
  }

  static void write(File f, String name, String value) throws Exception {
    writeText(f, "<?xml version=\"1.0\"?>\n<configuration>\n  <property><name>" + name
        + "</name><value>" + value + "</value></property>\n</configuration>\n");
  }

  static void writeText(File f, String text) throws Exception {
    File tmp = new File(f.getPath() + ".tmp");
    try (OutputStream out = new FileOutputStream(tmp)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    if (!tmp.renameTo(f)) throw new IllegalStateException("cannot write " + f);
  }
}
