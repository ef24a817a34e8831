#!/usr/bin/env bash
# Issue 15 item 9: the same Solomon, Kielce and HHCRSP runs before and after the redesign, one at a
# time on the same machine.  Usage, from the root of a checkout of each commit (with its own venv):
#   benchmarks/results/redesign/run.sh before   # in a checkout of 8850533 (main before the redesign)
#   benchmarks/results/redesign/run.sh after    # in a checkout of main after it
set -u
side=$1
out=benchmarks/results/redesign
echo "== $side $(git rev-parse --short HEAD) $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg)"
.venv/bin/python -m benchmarks.solomon ../shared/benchmarks/solomon/{R101,R108,RC105,R205,RC208,C204}.txt \
    --time-limit 10 --out $out/solomon_$side.json
.venv/bin/python -m benchmarks.kielce --scales 1 10 --time-limit 10 90 --out $out/kielce_$side.json
.venv/bin/python -m benchmarks.hhcrsp benchmarks/instances/hhcrsp/hhcrsp-0[1-9]*.json \
    benchmarks/instances/hhcrsp/hhcrsp-100-*.json --time-limit 10 --out $out/hhcrsp_$side.json
echo "== done $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg)"
