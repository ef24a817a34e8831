#!/bin/bash
# usage: queue.sh TL "INSTS" cfg1 cfg2 ... (sequential, one solver at a time)
cd /work/main
TL=$1; INSTS=$2; shift 2
for c in "$@"; do
  echo "== $c" ; .venv/bin/python -m benchmarks.tuning.run "$c" $TL $INSTS
done
