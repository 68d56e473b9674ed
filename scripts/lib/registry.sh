# Sourced after common.sh: local OCI registries (Debian's docker-registry 2.8) for tests.
# Functions only; nothing runs on source.
#
#   <dir>/<name>/config.yml  registry.log (app log + one access line per HTTP request)  registry.pid
#   <dir>/<name>/data        blobs and repositories
#   <dir>/<name>/htpasswd    (basic)          <dir>/<name>/tls/server.{crt,key}   (tls)
#   <dir>/ca/ca.crt          CA of every tls registry under <dir> (only the certificate lives there)
#   <dir>/ca-private/ca.key  its key

CDRV_REGISTRY_USER=cdrv
CDRV_REGISTRY_PASSWORD=s3cret-pw

# True while <pid> runs (a zombie waiting for PID 1 to reap it counts as gone).
_cdrv_reg_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

_cdrv_reg_pid() {
  local rd=$1 pid
  [ -s "$rd/registry.pid" ] || return 1
  pid=$(cat "$rd/registry.pid")
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  local -a args=()
  mapfile -d '' -t args <"/proc/$pid/cmdline" 2>/dev/null || return 1
  [ "${args[-1]:-}" = "$rd/config.yml" ] || return 1
  printf '%s\n' "$pid"
}

# cdrv_registry_ca <dir>: makes (once) the CA at <dir>/ca/ca.crt, key in <dir>/ca-private/ca.key.
cdrv_registry_ca() {
  local dir=${1:?dir}
  if [ -s "$dir/ca/ca.crt" ] && [ -s "$dir/ca-private/ca.key" ]; then return 0; fi
  mkdir -p "$dir/ca" "$dir/ca-private"
  chmod 700 "$dir/ca-private"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 3650 \
    -subj "/CN=cdrv test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -keyout "$dir/ca-private/ca.key.tmp" -out "$dir/ca/ca.crt.tmp" 2>/dev/null
  mv -f "$dir/ca-private/ca.key.tmp" "$dir/ca-private/ca.key"
  mv -f "$dir/ca/ca.crt.tmp" "$dir/ca/ca.crt"
}

# Server certificate for 127.0.0.1 and localhost signed by the CA; remade when missing or when the CA
# changed.
_cdrv_reg_server_cert() {
  local dir=$1 rd=$2
  cdrv_registry_ca "$dir"
  if [ -s "$rd/tls/server.crt" ] && [ -s "$rd/tls/server.key" ] &&
    openssl verify -CAfile "$dir/ca/ca.crt" "$rd/tls/server.crt" >/dev/null 2>&1; then
    return 0
  fi
  mkdir -p "$rd/tls"
  chmod 700 "$rd/tls"
  cat >"$rd/tls/ext.cnf" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
    -subj "/CN=127.0.0.1" -keyout "$rd/tls/server.key" -out "$rd/tls/server.csr" 2>/dev/null
  openssl x509 -req -in "$rd/tls/server.csr" -CA "$dir/ca/ca.crt" -CAkey "$dir/ca-private/ca.key" \
    -CAcreateserial -CAserial "$dir/ca-private/ca.srl" -days 3650 -sha256 \
    -extfile "$rd/tls/ext.cnf" -out "$rd/tls/server.crt" 2>/dev/null
  rm -f "$rd/tls/server.csr"
}

# cdrv_registry_url <dir> <name>: prints http(s)://127.0.0.1:<port> of a started registry.
cdrv_registry_url() {
  local rd=${1:?dir}/${2:?name}
  cat "$rd/url"
}

# cdrv_registry_start <dir> <name> <port> [plain|basic|tls]
#   plain: HTTP, no auth.  basic: HTTP + htpasswd (cdrv / s3cret-pw, bcrypt).  tls: HTTPS, no auth,
#   certificate for 127.0.0.1 + localhost from the CA at <dir>/ca/ca.crt.
# Waits until /v2/ answers (200 or 401), up to 15 s. Idempotent when the same registry already runs.
cdrv_registry_start() {
  local dir=${1:?dir} name=${2:?name} port=${3:?port} mode=${4:-plain}
  dir=$(realpath -m -- "$dir")
  local rd=$dir/$name scheme=http
  case $mode in
    plain | basic) ;;
    tls) scheme=https ;;
    *) cdrv_log "registry: unknown mode '$mode' (plain|basic|tls)"; return 1 ;;
  esac
  local url=$scheme://127.0.0.1:$port pid
  if pid=$(_cdrv_reg_pid "$rd"); then
    if [ "$(cat "$rd/url" 2>/dev/null)" = "$url" ] && [ "$(cat "$rd/mode" 2>/dev/null)" = "$mode" ]; then
      _cdrv_reg_wait "$dir" "$name" "$url" 15 && return 0
    fi
    cdrv_registry_stop "$dir" "$name"
  fi
  if [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null || true)" ]; then
    cdrv_log "registry: port $port is already in use:"
    ss -ltnp "sport = :$port" >&2 || true
    return 1
  fi
  mkdir -p "$rd/data"
  local extra=""
  case $mode in
    basic)
      htpasswd -B -b -c "$rd/htpasswd" "$CDRV_REGISTRY_USER" "$CDRV_REGISTRY_PASSWORD" 2>/dev/null
      extra="auth:
  htpasswd:
    realm: cdrv-registry
    path: $rd/htpasswd"
      ;;
    tls)
      _cdrv_reg_server_cert "$dir" "$rd"
      ;;
  esac
  {
    cat <<EOF
# written by scripts/lib/registry.sh ($mode)
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
  fields:
    service: registry
    instance: $name
storage:
  filesystem:
    rootdirectory: $rd/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: cdrv-test-secret-$name
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    if [ "$mode" = tls ]; then
      cat <<EOF
  tls:
    certificate: $rd/tls/server.crt
    key: $rd/tls/server.key
EOF
    fi
    cat <<EOF
health:
  storagedriver:
    enabled: false
EOF
    [ -n "$extra" ] && printf '%s\n' "$extra"
  } >"$rd/config.yml.tmp"
  mv -f "$rd/config.yml.tmp" "$rd/config.yml"
  printf '%s\n' "$url" >"$rd/url"
  printf '%s\n' "$mode" >"$rd/mode"
  rm -f "$rd/registry.pid"
  printf '\n=== %s cdrv_registry_start %s %s\n' "$(date -Is)" "$mode" "$url" >>"$rd/registry.log"
  # Access lines go to stdout, the rest to stderr: both end in registry.log.
  setsid bash -c 'echo $$ >"$1"; exec /usr/bin/docker-registry serve "$2"' _ \
    "$rd/registry.pid" "$rd/config.yml" </dev/null >>"$rd/registry.log" 2>&1 &
  if ! _cdrv_reg_wait "$dir" "$name" "$url" 15; then
    cdrv_log "registry $name: /v2/ does not answer on $url; tail of $rd/registry.log:"
    tail -n 30 "$rd/registry.log" >&2
    cdrv_registry_stop "$dir" "$name"
    return 1
  fi
}

# (secs × CDRV_TEST_SLOW_FACTOR: a software-emulated VM under load is slow to start anything.)
_cdrv_reg_wait() {
  local dir=$1 name=$2 url=$3 secs=$4 code pid
  local rd=$dir/$name deadline=$((SECONDS + secs * ${CDRV_TEST_SLOW_FACTOR:-1}))
  while [ $SECONDS -lt $deadline ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --noproxy '*' \
      --cacert "$dir/ca/ca.crt" "$url/v2/" 2>/dev/null || true)
    case $code in 200 | 401) return 0 ;; esac
    pid=$(cat "$rd/registry.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && ! _cdrv_reg_alive "$pid"; then return 1; fi
    sleep 0.1
  done
  return 1
}

# cdrv_registry_stop <dir> <name>: SIGTERM (5 s) then SIGKILL. Keeps the data; rm -rf <dir> to purge.
cdrv_registry_stop() {
  local dir=${1:?dir} name=${2:?name} pid i
  dir=$(realpath -m -- "$dir")
  local rd=$dir/$name
  if pid=$(_cdrv_reg_pid "$rd"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      _cdrv_reg_alive "$pid" || break
      sleep 0.05
    done
    if _cdrv_reg_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$rd/registry.pid"
}
