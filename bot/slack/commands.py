"""Slack listeners for slash commands: `/summarize` (with "Share in channel") and `/archivist`, whose
subcommands manage a channel's watched topics."""
from __future__ import annotations

import json
import re

from slack_bolt import App

from bot.slack.blocks import escape, summary_blocks
from bot.service import NOT_ENABLED, Bot, error_blocks
from bot.slack.views import watches_text
from index.searching import filters as filtermod
from index.searching.filters import FilterError

USAGE = ("Usage: `/archivist watch <words or a question, filters allowed>` posts new articles on it to this "
         "channel after each build · `/archivist watches` lists this channel's watches · "
         "`/archivist unwatch <id>` stops one.")
MAX_WATCH_CHARS = 300


def register(app: App, bot: Bot) -> None:

    @app.command("/summarize")
    def on_summarize(ack, command, respond, context):
        ack()
        if not bot.allowed(command["channel_id"], context.team_id, command.get("channel_name") == "directmessage"):
            respond(text=NOT_ENABLED, response_type="ephemeral")
            return
        try:
            reply = bot.summary(command.get("text", ""))
            blocks, text = summary_blocks(reply, shareable=reply.summary is not None, signer=bot.signer)
        except Exception:
            blocks, text = error_blocks("summarising")
        respond(blocks=blocks, text=text, response_type="ephemeral")

    @app.action("share_summary")
    def on_share(ack, body, client, respond):
        ack()
        value = json.loads(body["actions"][0]["value"])
        try:
            reply = bot.summary(value["id"])
            blocks, text = summary_blocks(reply, signer=bot.signer)
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"Shared by <@{body['user']['id']}> · asked for: {escape(value['q'])}"}]})
        except Exception:
            blocks, text = error_blocks("sharing a summary")
        client.chat_postMessage(channel=body["channel"]["id"], blocks=blocks, text=text, unfurl_links=False,
                                unfurl_media=False)
        respond(delete_original=True)

    @app.command("/archivist")
    def on_archivist(ack, command, respond, client, context):
        ack()
        verb, _, rest = " ".join(command.get("text", "").split()).partition(" ")
        channel, user = command["channel_id"], command["user_id"]
        if verb.lower() not in ("watch", "watches", "unwatch"):
            respond(text=USAGE, response_type="ephemeral")
            return
        if command.get("channel_name") == "directmessage" or channel.startswith("D"):
            respond(text="Watches belong to channels: use `/archivist watch …` in the channel that should get the "
                         "news.", response_type="ephemeral")
            return
        if not bot.allowed(channel, context.team_id, False):
            respond(text=NOT_ENABLED + " Until then it cannot have watches.", response_type="ephemeral")
            return
        if verb.lower() == "watches":
            respond(text=watches_text(bot.state.watches(channel)), response_type="ephemeral")
            return
        # only the channel's own people change what is posted to it
        if user not in bot.members(client, channel, fresh=True):
            respond(text="Only members of this channel can change its watches.", response_type="ephemeral")
            return
        respond(**(_watch(bot, channel, context.team_id or "", user, rest) if verb.lower() == "watch"
                   else _unwatch(bot, channel, user, rest)))


def _watch(bot: Bot, channel: str, team: str, user: str, words: str) -> dict:
    words = words.strip()
    try:
        query, _ = filtermod.parse(words)
    except FilterError as e:
        return {"text": f"That filter doesn't work: {e}.", "response_type": "ephemeral"}
    if not re.search(r"\w", query):
        return {"text": "Watch what? " + USAGE, "response_type": "ephemeral"}
    if len(words) > MAX_WATCH_CHARS:
        return {"text": f"A watch is at most {MAX_WATCH_CHARS} characters.", "response_type": "ephemeral"}
    if len(bot.state.watches(channel)) >= bot.cfg.watch.per_channel:
        return {"text": f"This channel has {bot.cfg.watch.per_channel} watches, the most it may have; "
                        "`/archivist unwatch <id>` one first.", "response_type": "ephemeral"}
    bot.searcher.refresh()
    watch_id = bot.state.add_watch(channel, team, words, user, bot.searcher.generation)
    return {"text": f"<@{user}> set watch `#{watch_id}`: new articles about _{escape(words)}_ will be posted here "
                    f"after each build. `/archivist unwatch {watch_id}` stops it.", "response_type": "in_channel"}


def _unwatch(bot: Bot, channel: str, user: str, arg: str) -> dict:
    m = re.fullmatch(r"#?(\d{1,12})", arg.strip())
    if not m:
        return {"text": "Which watch? `/archivist unwatch <id>`; `/archivist watches` lists the ids.",
                "response_type": "ephemeral"}
    if not bot.state.remove_watch(channel, int(m.group(1))):
        return {"text": f"This channel has no watch `#{m.group(1)}`; `/archivist watches` lists its watches.",
                "response_type": "ephemeral"}
    return {"text": f"<@{user}> stopped watch `#{m.group(1)}`.", "response_type": "in_channel"}
