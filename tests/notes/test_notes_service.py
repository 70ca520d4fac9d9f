"""Notes: create (validation changes nothing), photos on disk under generated names (MED-01),
edit history, delete with tombstone and removed files, one federate job per change."""

from __future__ import annotations

import pytest

from redfed.errors import NotFound, ValidationError
from redfed.models import (
    Account,
    Job,
    MediaAttachment,
    Mention,
    Note,
    NoteEdit,
    NoteTag,
    Notification,
    Tombstone,
    Visibility,
)
from redfed.runtime import Runtime
from redfed.services.media import PhotoUpload, media_path
from redfed.services.notes import NoteDraft, create_local_note, delete_local_note, edit_local_note
from tests.support.notes import account, federate_events, image_bytes


@pytest.fixture
def rt(settings, db) -> Runtime:
    return Runtime(settings=settings)


async def _counts() -> tuple[int, ...]:
    return (
        await Note.all().count(),
        await MediaAttachment.all().count(),
        await Job.all().count(),
        await NoteTag.all().count(),
        await Notification.all().count(),
    )


async def test_create_note_with_tags_mentions_photos_and_one_job(rt, settings) -> None:
    alice, bob = await account("alice", languages=["zh"]), await account("bob")
    await account("carol", domain="remote.example")
    draft = NoteDraft(title="Trip", text="Hi @bob and @carol@remote.example @nobody #旅行 #Travel")
    uploads = [
        PhotoUpload(image_bytes("JPEG"), "a.jpg", "sea"),
        PhotoUpload(image_bytes("WEBP"), "b.webp"),
    ]
    note = await create_local_note(rt, alice, draft, uploads)

    assert note.uri == f"https://redfed.test/users/alice/notes/{note.id}"
    assert note.url == f"https://redfed.test/@alice/{note.id}"
    assert note.language == "zh"  # the profile's first language
    assert 'href="https://redfed.test/tags/%E6%97%85%E8%A1%8C"' in note.content_html
    assert 'href="https://redfed.test/@bob"' in note.content_html
    assert (
        "@nobody" in note.content_html
        and 'href="https://redfed.test/@nobody"' not in note.content_html
    )
    tags = await NoteTag.filter(note_id=note.id).values_list("tag__name", flat=True)
    assert sorted(tags) == ["travel", "旅行"]
    mentioned = await Mention.filter(note_id=note.id).values_list("account__username", flat=True)
    assert sorted(mentioned) == ["bob", "carol"]
    media = await MediaAttachment.filter(note_id=note.id).order_by("position")
    assert [m.description for m in media] == ["sea", ""]
    for m in media:
        assert media_path(settings, m.file_key).is_file() and m.blurhash
    assert (await Account.get(id=alice.id)).notes_count == 1
    assert await federate_events() == [{"event": "note_created", "note_id": note.id}]
    assert await Notification.filter(recipient_id=bob.id, kind="mention").count() == 1


@pytest.mark.parametrize(
    ("draft", "photos", "field"),
    [
        (NoteDraft(), 0, "text"),
        (NoteDraft(title="x" * 101), 0, "title"),
        (NoteDraft(text="x" * 5001), 0, "text"),
        (NoteDraft(text="ok", language="not a language"), 0, "language"),
        (NoteDraft(text="ok", visibility="everyone"), 0, "visibility"),  # type: ignore[arg-type]
        (NoteDraft(text="ok"), 10, "photos"),
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(
    rt, settings, draft, photos, field
) -> None:
    alice = await account("alice")
    before = await _counts()
    uploads = [PhotoUpload(image_bytes()) for _ in range(photos)]
    with pytest.raises(ValidationError) as info:
        await create_local_note(rt, alice, draft, uploads)
    assert info.value.field == field
    assert await _counts() == before
    assert not settings.media_dir.exists() or not any(settings.media_dir.rglob("*"))


async def test_a_bad_photo_among_good_ones_leaves_no_file_behind(rt, settings) -> None:
    alice = await account("alice")
    uploads = [
        PhotoUpload(image_bytes()),
        PhotoUpload(b"<?php system($_GET['c']); ?>", "x.php.png"),
    ]
    with pytest.raises(ValidationError):
        await create_local_note(rt, alice, NoteDraft(text="hi"), uploads)
    assert await Note.all().count() == 0
    assert not [p for p in settings.media_dir.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "name", ["../../../x.py", "..%2f..%2fevil.png", "a\x00b.png", "n" * 10_000]
)
async def test_hostile_file_names_never_reach_disk(rt, settings, tmp_path, name) -> None:
    """MED-01: the stored name is generated; nothing is written outside the media root."""
    alice = await account("alice")
    outside_before = {p for p in tmp_path.rglob("*")} - set(settings.media_dir.rglob("*"))
    note = await create_local_note(rt, alice, NoteDraft(), [PhotoUpload(image_bytes(), name)])
    files = [p for p in settings.media_dir.rglob("*") if p.is_file()]
    assert len(files) == 2  # display + thumbnail
    for path in files:
        assert path.resolve().is_relative_to(settings.media_dir.resolve())
        assert "x.py" not in path.name and "evil" not in path.name and "\x00" not in str(path)
    outside_after = {p for p in tmp_path.rglob("*")} - set(settings.media_dir.rglob("*"))
    assert {p for p in outside_after if p.is_file()} == {p for p in outside_before if p.is_file()}
    assert await MediaAttachment.filter(note_id=note.id).count() == 1


async def test_edit_keeps_history_and_bumps_version(rt) -> None:
    alice = await account("alice")
    note = await create_local_note(rt, alice, NoteDraft(title="v1", text="first #old"))
    edited = await edit_local_note(
        rt, alice, note, NoteDraft(title="v2", text="second #new", visibility=Visibility.DIRECT)
    )
    assert edited.text_version == 2 and edited.edited_at is not None
    assert edited.visibility == Visibility.PUBLIC  # visibility never changes on edit
    history = await NoteEdit.filter(note_id=note.id)
    assert [(h.title, "first" in h.content_html) for h in history] == [("v1", True)]
    assert await NoteTag.filter(note_id=note.id).values_list("tag__name", flat=True) == ["new"]
    assert [e["event"] for e in await federate_events()] == ["note_created", "note_updated"]


async def test_only_the_author_edits_or_deletes(rt) -> None:
    alice, mallory = await account("alice"), await account("mallory")
    note = await create_local_note(rt, alice, NoteDraft(title="mine"))
    before = await _counts()
    with pytest.raises(NotFound):
        await edit_local_note(rt, mallory, note, NoteDraft(title="pwned"))
    with pytest.raises(NotFound):
        await delete_local_note(rt, mallory, note)
    assert await _counts() == before
    assert (await Note.get(id=note.id)).title == "mine"


async def test_bad_edit_changes_nothing(rt) -> None:
    alice = await account("alice")
    note = await create_local_note(rt, alice, NoteDraft(title="keep", text="body"))
    with pytest.raises(ValidationError):
        await edit_local_note(rt, alice, note, NoteDraft(title="x" * 200))
    fresh = await Note.get(id=note.id)
    assert (fresh.title, fresh.text_version) == ("keep", 1)
    assert await NoteEdit.all().count() == 0 and await Job.all().count() == 1


async def test_delete_tombstones_removes_files_and_enqueues_delete_first(rt, settings) -> None:
    alice, bob = await account("alice"), await account("bob")
    note = await create_local_note(
        rt, alice, NoteDraft(text="hi @bob"), [PhotoUpload(image_bytes())]
    )
    key = (await MediaAttachment.get(note_id=note.id)).file_key
    await delete_local_note(rt, alice, note)
    assert (
        not media_path(settings, key).exists()
        and not media_path(settings, key, thumb=True).exists()
    )
    assert await Tombstone.filter(uri=note.uri).exists()
    assert not await Note.filter(id=note.id).exists()
    assert (await Account.get(id=alice.id)).notes_count == 0
    events = await federate_events()
    assert events[-1] == {
        "event": "note_deleted",
        "note_uri": note.uri,
        "account_id": alice.id,
        "visibility": "public",
        "mentioned_ids": [bob.id],
        "parent_author_id": None,
    }
    assert len(events) == 2


async def test_a_missing_language_is_detected_and_a_chosen_one_wins(rt) -> None:
    author = await account("lang_author")
    text = "这家火锅店非常好吃，推荐大家去试试。"
    detected = await create_local_note(rt, author, NoteDraft(title="成都火锅推荐", text=text))
    chosen = await create_local_note(
        rt, author, NoteDraft(title="成都火锅推荐", text=text, language="en")
    )
    assert detected.language == "zh"
    assert chosen.language == "en"
