"""The team's feedback as an evaluation set: each vote with its question, what the reply showed (each
quote's article, title and text), its status and the verdict. `archivist feedback --export` writes it
as JSON lines; `bench/answers.py --replay FILE` asks the questions again and says what changed."""
from __future__ import annotations

from bot.state.state import VERDICTS, Feedback


def case(f: Feedback) -> dict:
    return {"question": f.question, "vote": f.vote, "verdict": f.verdict, "comment": f.comment, "status": f.status,
            "shown": list(f.shown), "at": f.at, "channel": f.channel, "user": f.user}


def describe(f: Feedback) -> str:
    """A vote as a few lines for the terminal."""
    verdict = f" · {VERDICTS.get(f.verdict, f.verdict)}" if f.verdict else ""
    lines = [f"{f.at} {'👍' if f.vote == 'up' else '👎'}{verdict} · {f.status or 'answer'} · {f.user} in {f.channel}",
             f"  question: {f.question}"]
    for s in f.shown:
        quote = " ".join(s.get("quote", "").split())
        lines.append(f"  shown: {s.get('title') or s.get('article_id') or 'chunk %s' % s['chunk_id']} — "
                     f"“{quote[:160]}{'…' if len(quote) > 160 else ''}”")
    if f.comment:
        lines.append(f"  comment: {f.comment}")
    return "\n".join(lines)
