#!/usr/bin/env bash
# A second Trino with HTTPS (self-signed CA), the file password authenticator and JWT
# (an HMAC key file), for presto-q's TLS, password and access token tests, from the
# install services/ cached. Leaves the shared Trino alone.
#   tls-trino.sh start DIR   -> generates certs, a password file and JWT keys in DIR, starts
#                               Trino, prints "HTTPS_URL PID"; the one password user is
#                               `lab` with the password in DIR/password.txt; tokens signed
#                               with DIR/jwt.key (base64 of the HMAC key, as Trino reads it)
#                               are accepted, DIR/other-jwt.key is a key Trino does not know
#   tls-trino.sh stop DIR    -> stops the Trino started for DIR (by its recorded pid)
set -euo pipefail
cmd=$1 dir=$2
CACHE=${LAKEPIPE_CACHE:-$HOME/.cache/lakepipe}
TRINO_HOME=$CACHE/trino-server-476

if [[ $cmd == stop ]]; then
  if [[ -f $dir/trino.pid ]]; then
    pid=$(cat "$dir/trino.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  exit 0
fi

[[ -d $TRINO_HOME/lib && -d $TRINO_HOME/plugin-extra/password-authenticators ]] \
  || { echo "no Trino install (with plugin-extra/password-authenticators) in $TRINO_HOME: run services/up.sh trino" >&2; exit 1; }
java=""
for j in /usr/lib/jvm/temurin-25*/bin/java /usr/lib/jvm/*-2[4-9]*/bin/java; do [[ -x $j ]] && java=$j && break; done
[[ -n $java ]] || { echo "no Java 24+ under /usr/lib/jvm for Trino 476" >&2; exit 1; }

mkdir -p "$dir/etc/catalog" "$dir/var" "$dir/plugin"
cd "$dir"
# A CA and a server certificate it signs (rustls refuses a CA certificate as the server's).
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=presto-q test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile ext.cnf 2>/dev/null
cat server.key server.crt ca.pem >server.pem
# Another CA that signed nothing: trusting it must not make the server trusted.
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca.pem -days 2 -subj "/CN=other CA" 2>/dev/null

# The file authenticator's PBKDF2 form: iterations:salt:hash, hex, HMAC-SHA1 as Trino checks it.
printf 'lab-%s\n' "$(openssl rand -hex 8)" >password.txt
python3 - "$(head -1 password.txt)" >password.db <<'PY'
import hashlib, os, sys
salt = os.urandom(16)
print(f"lab:1000:{salt.hex()}:{hashlib.pbkdf2_hmac('sha1', sys.argv[1].encode(), salt, 1000, 64).hex()}")
PY
# JWT: Trino reads the key file as base64 of an HMAC key (256 bits at least for HS256).
openssl rand -base64 32 >jwt.key
openssl rand -base64 32 >other-jwt.key
printf 'password-authenticator.name=file\nfile.password-file=%s/password.db\n' "$dir" >etc/password-authenticator.properties

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port) https_port=$(free_port)
ln -sfn "$TRINO_HOME/plugin/tpch" plugin/tpch
ln -sfn "$TRINO_HOME/plugin-extra/password-authenticators" plugin/password-authenticators
cat >etc/config.properties <<CONF
node.environment=prestoqtls
node.id=presto-q-tls
node.bind-ip=127.0.0.1
node.internal-address=127.0.0.1
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$http_port
http-server.https.enabled=true
http-server.https.port=$https_port
http-server.https.keystore.path=$dir/server.pem
http-server.authentication.type=PASSWORD,JWT
http-server.authentication.jwt.key-file=$dir/jwt.key
password-authenticator.config-files=$dir/etc/password-authenticator.properties
http-server.log.enabled=false
internal-communication.shared-secret=presto-q-test-secret-$(date +%s%N)
discovery.uri=http://127.0.0.1:$http_port
plugin.dir=$dir/plugin
catalog.config-dir=$dir/etc/catalog
query.max-memory=256MB
query.max-memory-per-node=256MB
CONF
echo "connector.name=tpch" >etc/catalog/tpch.properties
# Started straight from this shell (no subshell holding our stdout open), so $! is java.
cd "$dir/var"
nohup "$java" -server -Xmx1G -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djdk.attach.allowAttachSelf=true \
  -XX:+EnableDynamicAgentLoading -Dfile.encoding=UTF-8 -Dconfig="$dir/etc/config.properties" \
  -cp "$TRINO_HOME/lib/*" io.trino.server.TrinoServer >"$dir/trino.log" 2>&1 </dev/null &
echo $! >"$dir/trino.pid"
cd "$dir"
for _ in $(seq 240); do
  if curl -sf --cacert ca.pem "https://127.0.0.1:$https_port/v1/info" | grep -q '"starting":false'; then
    echo "https://127.0.0.1:$https_port $(cat trino.pid)"
    exit 0
  fi
  kill -0 "$(cat trino.pid)" 2>/dev/null || { tail -20 trino.log >&2; exit 1; }
  sleep 0.5
done
echo "TLS Trino did not start within 120 s; log: $dir/trino.log" >&2
tail -20 trino.log >&2
exit 1
