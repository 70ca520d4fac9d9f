"""Every peer-shaped payload under tests/fixtures/ap passes normalisation and parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redfed.activitypub.normalize import check_document
from redfed.activitypub.parse import parse_activity, parse_key_document, parse_note

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ap"


@pytest.mark.parametrize(
    "name", ["mastodon_create_note", "pixelfed_accept", "misskey_like", "pleroma_announce"]
)
def test_activity_fixtures_parse(name: str) -> None:
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    check_document(doc)
    activity = parse_activity(doc)
    assert activity.actor.startswith("https://") and activity.object_id.startswith("https://")


def test_mastodon_note_details() -> None:
    doc = json.loads((FIXTURES / "mastodon_create_note.json").read_text())
    note = parse_note(doc["object"])
    assert note.language == "en" and note.hashtags == ("travel",)
    assert note.attachments[0].description == "A harbour" and note.attachments[0].width == 1200
    assert "<p>" in note.content_html


def test_gotosocial_key_document() -> None:
    doc = json.loads((FIXTURES / "gotosocial_key.json").read_text())
    assert parse_key_document(doc)[2] == "https://gts.example/users/ben"


def test_a_redfed_note_title_is_not_shown_twice() -> None:
    # redfed repeats the title as a bold lead paragraph for Mastodon, which ignores `name`.
    doc = {
        "id": "https://a.example/users/mei/notes/1",
        "type": "Note",
        "attributedTo": "https://a.example/users/mei",
        "name": "成都火锅 & more",
        "content": "<p><strong>成都火锅 &amp; more</strong></p><p>Spicy!</p>",
    }
    parsed = parse_note(doc)
    assert parsed.title == "成都火锅 & more"
    assert parsed.content_html == "<p>Spicy!</p>"
    # A Mastodon note whose first paragraph merely looks similar keeps its content.
    other = {**doc, "name": "", "content": "<p><strong>Bold start</strong></p><p>text</p>"}
    assert parse_note(other).content_html.startswith("<p><strong>Bold start")
