// Apache Hive's standalone metastore (3.1) on a loopback address: HiveMetaStore's own main
// binds every interface, so this builds the same thrift server (the same handler, processor
// and transport as HiveMetaStore.startMetaStore without SASL) on HOST:PORT and prints a
// ready line. Run as a single-file program: java -cp "conf:lib/*" Metastore.java HOST PORT
import java.lang.reflect.Method;
import java.net.InetSocketAddress;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hive.metastore.HiveMetaStore;
import org.apache.hadoop.hive.metastore.IHMSHandler;
import org.apache.hadoop.hive.metastore.TSetIpAddressProcessor;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf;
import org.apache.hadoop.hive.metastore.security.TUGIContainingTransport;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.transport.TServerSocket;

public class Metastore {
  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    Configuration conf = MetastoreConf.newMetastoreConf();
    // package-private in HiveMetaStore; this class lives in another class loader
    Method m = HiveMetaStore.class.getDeclaredMethod(
        "newRetryingHMSHandler", String.class, Configuration.class, boolean.class);
    m.setAccessible(true);
    IHMSHandler handler = (IHMSHandler) m.invoke(null, "lakepipe metastore", conf, false);
    TServerSocket socket = new TServerSocket(new InetSocketAddress(host, port));
    TThreadPoolServer.Args a = new TThreadPoolServer.Args(socket)
        .processor(new TSetIpAddressProcessor<>(handler))
        .transportFactory(new TUGIContainingTransport.Factory())
        .protocolFactory(new TBinaryProtocol.Factory())
        .inputProtocolFactory(new TBinaryProtocol.Factory(true, true, 100 * 1024 * 1024, -1))
        .minWorkerThreads(4)
        .maxWorkerThreads(100);
    TThreadPoolServer server = new TThreadPoolServer(a);
    System.out.println("Metastore READY thrift://" + host + ":" + port);
    System.out.flush();
    server.serve();
  }
}
