"""Remote avatars are shown from our own cached thumbnails (issue 3, item 8), fetched through
the safe client by a background job; a changed avatar replaces the old one, files included."""

from __future__ import annotations

import io

from PIL import Image

from redfed.models import Account, MediaAttachment
from redfed.services.media import media_path
from redfed.services.moderation import block_domain
from redfed.services.remote_accounts import get_or_fetch_actor
from tests.federation_in.conftest import make_local


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _icon(instance, path: str) -> dict[str, str]:
    return {"type": "Image", "mediaType": "image/png", "url": instance.url(path)}


async def test_remote_avatar_cached_shown_and_replaced(
    client, worker, runtime, settings, fediverse
) -> None:
    remote = await fediverse()
    bob = remote.add_actor("bob")
    remote.files["/a/1.png"] = (_png((10, 120, 200)), "image/png")
    remote.files["/a/2.png"] = (_png((200, 120, 10)), "image/png")
    bob.extra["icon"] = _icon(remote, "/a/1.png")

    account = await get_or_fetch_actor(runtime, bob.uri)
    first = await MediaAttachment.get(id=account.avatar_media_id)
    assert first.remote_url == remote.url("/a/1.png") and not first.is_cached
    # Before the fetch the profile shows no picture rather than a broken one.
    page = await client.get(f"/@{bob.handle}")
    assert page.status_code == 200 and "/media/" not in await page.get_data(as_text=True)

    await worker.run_until_idle()
    first = await MediaAttachment.get(id=first.id)
    assert first.is_cached and remote.hits("/a/1.png") == 1
    page = await client.get(f"/@{bob.handle}")
    assert f"/media/{first.file_key}/thumb" in await page.get_data(as_text=True)
    thumb = await client.get(f"/media/{first.file_key}/thumb")
    assert thumb.status_code == 200

    # Fetched again unchanged: no new row, no new fetch.
    await get_or_fetch_actor(runtime, bob.uri, refresh=True)
    await worker.run_until_idle()
    assert await MediaAttachment.filter(account_id=account.id).count() == 1
    assert remote.hits("/a/1.png") == 1

    # A new icon: the new one is cached, the old row and its files are gone.
    bob.extra["icon"] = _icon(remote, "/a/2.png")
    account = await get_or_fetch_actor(runtime, bob.uri, refresh=True)
    await worker.run_until_idle()
    second = await MediaAttachment.get(id=account.avatar_media_id)
    assert second.remote_url == remote.url("/a/2.png") and second.is_cached
    assert not await MediaAttachment.exists(id=first.id)
    assert not media_path(settings, first.file_key, thumb=True).exists()

    # The icon removed: no avatar at all.
    del bob.extra["icon"]
    account = await get_or_fetch_actor(runtime, bob.uri, refresh=True)
    await worker.run_until_idle()
    assert account.avatar_media_id is None
    assert not await MediaAttachment.filter(account_id=account.id).exists()


async def test_remote_avatar_not_fetched_from_reject_media_domain(
    client, worker, runtime, fediverse
) -> None:
    remote = await fediverse()
    bob = remote.add_actor("bob")
    remote.files["/a/1.png"] = (_png((1, 2, 3)), "image/png")
    bob.extra["icon"] = _icon(remote, "/a/1.png")
    await block_domain(remote.domain, severity="noop", reject_media=True)

    account = await get_or_fetch_actor(runtime, bob.uri)
    await worker.run_until_idle()
    assert remote.hits("/a/1.png") == 0
    media = await MediaAttachment.get(id=account.avatar_media_id)
    assert not media.is_cached


async def test_a_local_avatar_is_never_removed_by_the_remote_cleanup(
    client, worker, runtime, settings
) -> None:
    """The cleanup job only touches a remote account's media outside notes (a forged or stale
    job id must not delete a local person's avatar)."""
    from redfed.services.jobs import enqueue
    from redfed.services.remote_media import REMOVE_REMOTE_MEDIA

    alice = await make_local(settings, "alice")
    media = await MediaAttachment.create(account=alice, note=None, file_key="")
    await Account.filter(id=alice.id).update(avatar_media_id=None)
    await enqueue(REMOVE_REMOTE_MEDIA, {"media_id": media.id})
    await worker.run_until_idle()
    assert await MediaAttachment.exists(id=media.id)
