"""Text dumps of scraped pages: the title, the publication date and only the article's body."""
from pathlib import Path

import pytest

from index.reading import textdump

ROOT = Path(__file__).resolve().parents[1]
DUMPS = Path(__file__).parent / "data" / "dumps"


def test_seed_dump_keeps_the_article_and_drops_the_page_around_it():
    d = textdump.clean((ROOT / "examples/archive/text/ibm-facial-recognition.txt").read_text())
    assert d.title == "IBM Quits Facial Recognition, Joins Call For Police Reforms"
    assert d.published == "2020-06-09"  # not the "Updated: Jun 8, 2022" date
    paras = d.text.split("\n\n")
    assert paras[0].startswith("IBM is getting out of the facial recognition business")
    assert paras[-1].startswith("Even before the protests, U.S. senators")
    assert paras[-1].endswith("to identify people.")
    assert any(p.startswith("Civil liberties advocates") for p in paras)
    assert any(p.endswith("and human rights violations.") for p in paras)
    assert len(paras) == 15
    for noise in ("ServerLink", "KSL 5 TV", "NATIONAL NEWS", "alligator", "minutes ago", "Sponsored",
                  "Botox", "Nassar", "Windows 11", "Associated Press"):
        assert noise not in d.text, noise
    assert d.title not in d.text


def test_local_news_dump_with_byline_subheading_and_inline_labels():
    d = textdump.clean((DUMPS / "city-council-budget.txt").read_text())
    assert d.title == "City Council Approves $48 Million Budget After Marathon Session"
    assert d.published == "2021-03-03"
    assert d.author == "Jane Okafor"
    paras = d.text.split("\n\n")
    assert paras[0].startswith("The Riverside City Council approved")
    assert "What the budget pays for" in paras  # a subheading inside the body stays
    assert paras[-1] == ("The budget takes effect July 1. The city will hold a public workshop on the road "
                         "repair schedule next month.")
    for noise in ("Advertisement", "RELATED", "Photo:", "Most Read", "break-ins", "Founders Park",
                  "inbox", "Share this", "Skip to main"):
        assert noise not in d.text, noise


def test_blog_dump_with_posted_and_updated_lines_and_teasers():
    d = textdump.clean((DUMPS / "bees-can-count.txt").read_text())
    assert d.title == "Honeybees Can Add And Subtract, Researchers Find"
    assert d.published == "2019-10-14"
    assert d.author == "Priya Natarajan"
    paras = d.text.split("\n\n")
    assert paras[0].startswith("Honeybees can learn to add and subtract by one")
    assert "That is remarkable." in paras  # a short paragraph between two long ones is still the article's
    assert paras[-1].endswith("learns new problems quickly.")
    for noise in ("lavender", "Comments", "comet", "houseplants", "Sponsored", "SCIENCE"):
        assert noise not in d.text, noise


def test_hard_wrapped_newsletter_is_unwrapped_and_its_footer_dropped():
    d = textdump.clean((DUMPS / "harbor-newsletter.txt").read_text())
    assert d.title == "Ferry Service To Gull Island Will Resume In Spring"
    assert d.published == "2020-11-09"
    paras = d.text.split("\n\n")
    assert len(paras) == 3
    assert paras[0] == ("The county transportation board voted on Thursday to restore ferry service between the "
                        "mainland and Gull Island next April, two years after the old boat was retired because of "
                        "corrosion in its hull.")
    assert "Unsubscribe" not in d.text and "receiving this email" not in d.text


@pytest.mark.parametrize("line, expected", [
    ("Jun 9, 2020, 2:59 PM | Updated: Jun 8, 2022, 4:48 pm", "2020-06-09"),
    ("Published 9 June 2020", "2020-06-09"),
    ("2020-06-09T14:59:00Z", "2020-06-09"),
    ("Sept. 3rd, 2019", "2019-09-03"),
    ("Updated: Jun 8, 2022", ""),  # only an update date: not the publication date
    ("no date here", ""),
    ("Feb 30, 2020", ""),  # not a real day
])
def test_find_date(line, expected):
    assert textdump.find_date(line) == expected


def test_text_without_any_prose_is_kept_whole_rather_than_lost():
    d = textdump.clean("Shopping list\n\neggs\nmilk\nbread flour\n")
    assert d.text == "Shopping list\n\neggs\n\nmilk\n\nbread flour"
