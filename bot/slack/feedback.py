"""Slack listeners for feedback: 👍 and 👎 on a reply. A 👎 opens a small form (what was wrong, an
optional comment) whose verdict is stored with the vote, what the reply showed and its status, so that
`archivist feedback --export` can turn a team's 👎 into regression cases."""
from __future__ import annotations

import json
import logging

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.service import Bot
from bot.state.state import VERDICTS
from bot.slack.views import feedback_modal

log = logging.getLogger("archivist.bot")


def shown_quotes(bot: Bot, shown: list[list[int]]) -> list[dict]:
    """What a reply showed, read now (a later build may change the articles): each quote's chunk, offsets,
    article and text, so that a vote stays a self-contained evaluation case."""
    hits = {h.chunk_id: h for h in bot.searcher.store.hits([(c, 0.0) for c, _, _ in shown])}
    out = []
    for c, start, end in shown:
        h = hits.get(c)
        out.append({"chunk_id": c, "start": start, "end": end, "article_id": h.article_id if h else "",
                    "title": h.title if h else "", "quote": h.text[start - h.start:end - h.start] if h else ""})
    return out


def register(app: App, bot: Bot) -> None:
    def on_vote(vote: str):
        def handler(ack, body, client):
            ack()
            value = json.loads(body["actions"][0]["value"])
            channel, user = body["channel"]["id"], body["user"]["id"]
            message = body.get("message") or {}
            reply_ts = message.get("ts") or body.get("container", {}).get("message_ts", "")
            shown = shown_quotes(bot, value.get("shown", []))
            new = bot.state.feedback(user, channel, reply_ts, vote, value["q"], value["chunks"], value.get("st", ""),
                                     shown)
            if not new:
                return  # a replayed or repeated click
            if vote == "down":
                where = json.dumps({"c": channel, "m": reply_ts, "t": message.get("thread_ts") or ""})
                try:
                    client.views_open(trigger_id=body["trigger_id"], view=feedback_modal(where))
                    return
                except SlackApiError as e:  # the trigger lasts 3 s: a slow click still counts, without the form
                    log.warning("cannot open the feedback form: %s", e.response.get("error"))
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=message.get("thread_ts"),
                                      text=f"Thanks, your {'👍' if vote == 'up' else '👎'} is recorded.")
        return handler

    app.action("feedback_up")(on_vote("up"))
    app.action("feedback_down")(on_vote("down"))

    @app.view("feedback_verdict")
    def on_verdict(ack, body, view, client):
        values = view["state"]["values"]
        choice = ((values.get("verdict", {}).get("choice") or {}).get("selected_option") or {}).get("value")
        if choice not in VERDICTS:
            ack(response_action="errors", errors={"verdict": "Pick what was wrong."})
            return
        ack()
        where = json.loads(view.get("private_metadata") or "{}")
        comment = ((values.get("comment", {}).get("text") or {}).get("value") or "").strip()[:1000]
        user = body["user"]["id"]
        if bot.state.verdict(user, where.get("c", ""), where.get("m", ""), choice, comment):
            client.chat_postEphemeral(channel=where["c"], user=user, thread_ts=where.get("t") or None,
                                      text=f"Thanks, your 👎 is recorded: {VERDICTS[choice]}.")
