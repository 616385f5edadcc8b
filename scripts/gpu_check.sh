#!/usr/bin/env bash
# The GPU checks of issue 11, as one script for a lent GPU machine (see ../shared/device/README.md):
#   run(command="bash scripts/gpu_check.sh", carry=[".gpu"], timeout_s=540)
# Trains the default model there (about 2 minutes), then measures predict in fp32 and bf16 on
# 20,000 test sentences and 20,000 test reports, and the sentences again at two other token budgets;
# results come back under $OUT.
set -euo pipefail
source .gpu/gpu_env.sh
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1 || true
python3 -m training.cli train --output-dir /tmp/gpu_run --evaluate_after_training false --disable_tqdm true \
    > "$OUT/train.log" 2>&1
python3 scripts/gpu_benchmark.py --model /tmp/gpu_run --unit both --texts 20000 --json > "$OUT/gpu_benchmark.json"
python3 -c "import json,sys; from training.gpu_benchmark import format_gpu_benchmark as f; \
print('\n\n'.join(map(f, json.load(open(sys.argv[1])))))" "$OUT/gpu_benchmark.json" | tee "$OUT/gpu_benchmark.txt"
# The token budget per batch (default 32768 on CUDA): smaller and larger budgets on the same sentences.
for budget in 8192 131072; do
    python3 scripts/gpu_benchmark.py --model /tmp/gpu_run --unit sentences --texts 20000 --batch-tokens "$budget" \
        | tee -a "$OUT/gpu_budgets.txt"
done
