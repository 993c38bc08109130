# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# The Python venv in the cache: pyspark (Spark SQL), pyarrow, duckdb, polars.
VENV=$CACHE/venv-py$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV_PY=$VENV/bin/python

install_python() {
  local want="pyspark==$PYSPARK_VERSION pyarrow==$PYARROW_VERSION duckdb==$DUCKDB_VERSION polars==$POLARS_VERSION"
  if [[ -f $VENV/.done && $(cat "$VENV/.done") == "$want" ]]; then return 0; fi
  local t0=$SECONDS
  log "creating the Python venv $VENV ($want)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install -q --no-cache-dir $want >"$LOGS/pip-install.log" 2>&1 \
    || { tail -20 "$LOGS/pip-install.log" >&2; die "pip install failed; see $LOGS/pip-install.log"; }
  "$VENV_PY" -c 'import pyarrow, duckdb, polars, pyspark' || die "venv imports failed"
  echo "$want" >"$VENV/.done"
  note_fetch "python venv" $((SECONDS - t0)) "$VENV"
}
