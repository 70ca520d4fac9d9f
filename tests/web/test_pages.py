"""Note, profile, tag, search and notification pages through the real app: compose with a real
upload, media headers and MED-06, XSS-06 escaping, JSON likes, PRIV-07 404s, follow requests."""

from __future__ import annotations

import io

from tests.support.notes import image_bytes
from werkzeug.datastructures import FileStorage

from redfed.models import Follow, Like, MediaAttachment, Note, Visibility

HOSTILE = "<img src=x onerror=alert(1)>\"'<script>alert(2)</script>"


def _photo(name: str = "../../evil.php.png") -> FileStorage:
    return FileStorage(io.BytesIO(image_bytes()), filename=name, content_type="image/png")


async def _post_note(client, token: str, **fields) -> object:
    form = {
        "csrf_token": token,
        "title": "",
        "text": "",
        "visibility": "public",
        "language": "en",
        "alt_text": "",
        **fields,
    }
    return await client.post("/compose", form=form, files={"photos": _photo()})


async def test_compose_shows_note_serves_media_and_deletes(
    client, make_local_account, login
) -> None:
    alice = await make_local_account("alice")
    token = await login(client, alice)
    response = await _post_note(client, token, title="Dumplings", text="Made #dumplings today")
    assert response.status_code == 302
    note = await Note.get(account_id=alice.id)
    assert response.headers["Location"] == f"/@alice/{note.id}"
    page = await (await client.get(f"/@alice/{note.id}")).get_data(as_text=True)
    assert "Dumplings" in page and 'href="https://redfed.test/tags/dumplings"' in page
    media = await MediaAttachment.get(note_id=note.id)
    assert f"/media/{media.file_key}" in page
    served = await client.get(f"/media/{media.file_key}")
    assert served.status_code == 200 and served.mimetype == media.display_mime
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "max-age" in served.headers["Cache-Control"]
    # Explore never shows you your own notes; the Following grid includes them.
    grid = await (await client.get("/following")).get_data(as_text=True)
    assert f"/media/{media.file_key}/thumb" in grid and "data-blurhash" in grid
    deleted = await client.post(f"/notes/{note.id}/delete", form={"csrf_token": token})
    assert deleted.status_code == 302
    assert (await client.get(f"/media/{media.file_key}")).status_code == 404  # MED-06
    assert (await client.get(f"/@alice/{note.id}")).status_code == 404


async def test_bad_compose_shows_the_message_beside_the_field(
    client, make_local_account, login
) -> None:
    alice = await make_local_account("alice")
    token = await login(client, alice)
    form = {
        "csrf_token": token,
        "title": "x" * 101,
        "text": "hi",
        "visibility": "public",
        "language": "en",
    }
    response = await client.post("/compose", form=form)
    assert response.status_code == 422
    html = await response.get_data(as_text=True)
    assert 'id="title-error"' in html and "at most 100 characters" in html
    assert await Note.all().count() == 0 and await MediaAttachment.all().count() == 0


async def test_hostile_names_titles_and_alt_text_are_escaped(
    client, make_local_account, login, make_note
) -> None:
    """XSS-06 for display names, titles and alt text on every page that shows them."""
    alice = await make_local_account("alice")
    alice.display_name = HOSTILE
    await alice.save()
    token = await login(client, alice)
    response = await _post_note(client, token, title=HOSTILE[:100], alt_text=HOSTILE, text="#cats")
    assert response.status_code == 302, await response.get_data(as_text=True)
    note = await Note.get(account_id=alice.id)
    await make_note(alice, text="@alice hi")  # a mention notification would be to oneself: none
    for path in ("/", f"/@alice/{note.id}", "/@alice", "/tags/cats", "/search?q=img"):
        html = await (await client.get(path)).get_data(as_text=True)
        assert "<script>alert(2)" not in html, path
        assert "<img src=x onerror" not in html, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, path


async def test_like_with_json_and_without_csrf(
    client, make_local_account, login, make_note
) -> None:
    alice, bob = await make_local_account("alice"), await make_local_account("bob")
    note = await make_note(alice, title="cake")
    token = await login(client, bob)
    refused = await client.post(f"/notes/{note.id}/like", form={"csrf_token": "wrong"})
    assert refused.status_code == 403 and await Like.all().count() == 0
    liked = await client.post(
        f"/notes/{note.id}/like", headers={"Accept": "application/json", "X-CSRF-Token": token}
    )
    assert liked.status_code == 200
    assert await liked.get_json() == {"liked": True, "likes_count": 1, "collects_count": 0}
    back = await client.post(f"/notes/{note.id}/unlike", form={"csrf_token": token, "next": "/"})
    assert back.status_code == 302 and back.headers["Location"] == "/"
    assert await Like.all().count() == 0


async def test_private_notes_and_their_media_are_not_found(
    client, make_local_account, login, make_note
) -> None:
    alice, bob = await make_local_account("alice"), await make_local_account("bob")
    note = await make_note(alice, text="secret", visibility=Visibility.DIRECT, photos=1)
    key = (await MediaAttachment.get(note_id=note.id)).file_key
    token = ""
    for viewer in ("anonymous", "stranger"):
        if viewer == "stranger":
            token = await login(client, bob)
        assert (await client.get(f"/@alice/{note.id}")).status_code == 404
        assert (await client.get(f"/media/{key}")).status_code == 404
        assert (await client.get(f"/media/{key}/thumb")).status_code == 404
    like = await client.post(f"/notes/{note.id}/like", form={"csrf_token": token})
    assert like.status_code == 404 and await Like.all().count() == 0
    assert (await client.get("/@alice?tab=collections")).status_code == 404


async def test_follow_request_through_the_pages(client, app, make_local_account, login) -> None:
    alice = await make_local_account("alice", locked=True)
    bob = await make_local_account("bob")
    token = await login(client, bob)
    response = await client.post("/@alice/follow", form={"csrf_token": token})
    assert response.status_code == 302
    follow = await Follow.get(follower_id=bob.id)
    assert follow.state == "pending"
    other = app.test_client()
    alice_token = await login(other, alice)
    page = await (await other.get("/follow_requests")).get_data(as_text=True)
    assert "bob" in page
    assert (await other.get("/notifications")).status_code == 200
    await other.post(f"/follow_requests/{follow.id}/accept", form={"csrf_token": alice_token})
    assert (await Follow.get(id=follow.id)).state == "accepted"
    profile = await (await client.get("/@alice")).get_data(as_text=True)
    assert "Unfollow" in profile
