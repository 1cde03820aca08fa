"""Slack listeners for questions: mentions, direct messages, follow-ups in answered threads, More
results, and "Find in archive" on any message (answered privately, with "Share in thread")."""
from __future__ import annotations

import json
import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.blocks import answer_blocks, escape
from bot.service import NOT_ENABLED, Bot, error_blocks, react

log = logging.getLogger("archivist.bot")

NO_TEXT = "That message has no text to look up in the archive."


def register(app: App, bot: Bot) -> None:
    def question(event: dict, client: WebClient, context) -> None:
        channel, ts = event["channel"], event["ts"]
        if event.get("bot_id") or event.get("user") in (None, context.bot_user_id):
            return  # never answer our own or another bot's messages
        key = f"msg:{channel}:{ts}"  # a mention arrives as app_mention and as message: one answer
        if not bot.state.claim(key):
            return
        delivered = False
        thread_ts = event.get("thread_ts") or ts
        try:
            if not bot.allowed(channel, context.team_id, event.get("channel_type") == "im"):
                client.chat_postEphemeral(channel=channel, user=event["user"], text=NOT_ENABLED)
                delivered = True
                return
            react(client, "add", channel, ts)
            # before the reply: a follow-up typed the moment the reply shows must find the thread known
            bot.state.remember_thread(channel, thread_ts)
            bot.reply_to_question(client, event.get("text", ""), channel, thread_ts, ts, user=event["user"])
            delivered = True
            react(client, "remove", channel, ts)
        except Exception:
            log.exception("could not reply to %s; Slack's retry will be answered", key)
        finally:
            bot.state.finish(key, delivered)

    @app.event("app_mention")
    def on_mention(event, client, context):
        question(event, client, context)

    @app.event("message")
    def on_message(event, client, context):
        if event.get("subtype"):
            return  # edits, deletions, joins, bot posts
        in_thread = event.get("thread_ts") and event["thread_ts"] != event["ts"]
        if event.get("channel_type") == "im" or (in_thread and bot.state.answered_thread(event["channel"],
                                                                                          event["thread_ts"])):
            question(event, client, context)

    @app.action("more_results")
    def on_more(ack, body, client):
        ack()
        value = json.loads(body["actions"][0]["value"])
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts") or body["container"].get("message_ts")
        channel = body["channel"]["id"]
        # the same reading as the first page: the thread as it was when this question was asked
        bot.reply_to_question(client, value["q"], channel, thread_ts, value.get("ts", ""), offset=int(value["offset"]))

    @app.shortcut("find_in_archive")
    def on_find(ack, shortcut, respond, context):
        """A message's text as the question, answered only to the person who asked."""
        ack()
        channel = (shortcut.get("channel") or {}).get("id", "")
        message = shortcut.get("message") or {}
        if not bot.allowed(channel, context.team_id, channel.startswith("D")):
            respond(text=NOT_ENABLED, response_type="ephemeral")
            return
        text = message.get("text", "")
        if not text.strip():
            respond(text=NO_TEXT, response_type="ephemeral")
            return
        thread_ts = message.get("thread_ts") or message.get("ts", "")
        try:
            a = bot.answer(text)  # on its own: the claim is checked, not read as a follow-up
            blocks, fallback = answer_blocks(a, signer=bot.signer,
                                             share={"q": text, "thread": thread_ts} if not a.error else None)
            bot.state.log_question(channel, message.get("ts", ""), shortcut["user"]["id"], a.query or a.question,
                                   a.status)
        except Exception:
            blocks, fallback = error_blocks("looking up a message")
        respond(blocks=blocks, text=fallback, response_type="ephemeral", replace_original=False)

    @app.action("share_answer")
    def on_share(ack, body, client, respond):
        """Post the privately found answer in the message's thread, where follow-ups then work."""
        ack()
        value = json.loads(body["actions"][0]["value"])
        channel, user = body["channel"]["id"], body["user"]["id"]
        thread_ts = value["thread"]
        header = {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"<@{user}> looked this up in the archive: _{escape(value['q'][:200])}_"}]}
        # the thread becomes one the bot answered, and the share its turn: follow-ups there read with it
        bot.state.remember_thread(channel, thread_ts)
        bot.reply_to_question(client, value["q"], channel, thread_ts, body["actions"][0]["action_ts"], header=header)
        respond(delete_original=True)
