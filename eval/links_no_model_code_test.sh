#!/bin/bash
# Fails when `deps(//eval:...)` (the genquery's output, $1) reaches oneDNN,
# a model or a dataset: reports read results and configs, never train.
set -u
deps="$1"
test -s "$deps" || { echo "FAILED: empty query output $deps"; exit 1; }
grep -c . "$deps" | sed 's/^/targets below eval: /'
bad=$(grep -E '^//models[/:]|^//datasets[/:]|dnnl|//lra[/:]' "$deps")
if [ -n "$bad" ]; then
  echo "FAILED: eval links model code:"
  echo "$bad"
  exit 1
fi
grep -q '^//config:suite$' "$deps" || { echo "FAILED: //config:suite not in the query (is it still the one eval uses?)"; exit 1; }
echo "OK: no oneDNN, //models, //datasets or //lra below //eval"
