"""The Home tab: what the archive holds, the person's recent questions, the watches of their channels,
and for admins the week's feedback. Rebuilt each time it is opened, from a few cheap queries."""
from __future__ import annotations

import datetime as dt
import logging

from slack_bolt import App

from bot.service import Bot
from bot.slack.views import HomeData, home_view

log = logging.getLogger("archivist.bot")


def home_data(bot: Bot, client, user: str) -> HomeData:
    s = bot.searcher
    s.refresh()
    first, last = s.date_range()  # sizes and dates are read once per generation, not per view
    watches = bot.state.watches()
    mine = tuple(w for w in watches if user in bot.members(client, w.channel))
    admin = user in bot.cfg.slack.admins
    week = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    votes = bot.state.feedback_since(week) if admin else []
    return HomeData(
        articles=s.articles, chunks=s.chunk_count, first=first, last=last,
        built_at=s.meta.get("built_at", "").replace("T", " ").rstrip("Z"),
        questions=tuple(bot.state.recent_questions(user)), watches=mine, admin=admin,
        votes=(sum(f.vote == "up" for f in votes), sum(f.vote == "down" for f in votes)),
        disliked=tuple(f for f in votes if f.vote == "down"))


def register(app: App, bot: Bot) -> None:
    @app.event("app_home_opened")
    def on_home(event, client):
        if event.get("tab") != "home":
            return  # the Messages tab: questions are asked there
        client.views_publish(user_id=event["user"], view=home_view(home_data(bot, client, event["user"])))
