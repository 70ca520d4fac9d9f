"""The domain blocks admin page: list, add (suspend / silence / reject media), remove; admins only,
CSRF required, and refused requests change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redfed.models import Account, DomainBlock, DomainSeverity, Note
from tests.support.notes import account


async def _blocks() -> list[tuple[str, str, bool, str]]:
    rows = await DomainBlock.all().order_by("domain")
    return [(b.domain, b.severity, b.reject_media, b.reason) for b in rows]


async def test_admin_blocks_silences_and_unblocks(
    client: Any, login: Any, make_local_account: Any
) -> None:
    # Given an admin, and a remote account with a note from spam.example
    admin = await make_local_account("sam", admin=True)
    spammer = await account("spammer", domain="spam.example")
    await Note.create(
        account=spammer,
        uri="https://spam.example/n/1",
        content_html="<p>buy</p>",
        published_at=datetime.now(UTC),
    )
    token = await login(client, admin)
    # When the admin suspends spam.example and silences loud.example with media rejected
    form = {
        "domain": " Spam.Example ",
        "severity": "suspend",
        "reason": "广告",
        "csrf_token": token,
    }
    assert (await client.post("/admin/domains", form=form)).status_code == 302
    form = {
        "domain": "loud.example",
        "severity": "silence",
        "reject_media": "on",
        "csrf_token": token,
    }
    assert (await client.post("/admin/domains", form=form)).status_code == 302
    # Then both are listed, and the suspension removed what we stored from spam.example
    assert await _blocks() == [
        ("loud.example", DomainSeverity.SILENCE, True, ""),
        ("spam.example", DomainSeverity.SUSPEND, False, "广告"),
    ]
    assert not await Note.filter(account_id=spammer.id).exists()
    assert (await Account.get(id=spammer.id)).suspended_at is not None
    page = await (await client.get("/admin/domains")).get_data(as_text=True)
    assert "spam.example" in page and "loud.example" in page and "广告" in page
    # When the admin removes the suspension
    form = {"domain": "spam.example", "csrf_token": token}
    assert (await client.post("/admin/domains/remove", form=form)).status_code == 302
    # Then only loud.example stays blocked
    assert [b[0] for b in await _blocks()] == ["loud.example"]


async def test_invalid_domain_is_refused_with_the_form_again(
    client: Any, login: Any, make_local_account: Any
) -> None:
    admin = await make_local_account("sam", admin=True)
    token = await login(client, admin)
    form = {"domain": "https://bad example/", "severity": "suspend", "csrf_token": token}
    response = await client.post("/admin/domains", form=form)
    assert response.status_code == 422
    assert "bad example" in await response.get_data(as_text=True)
    form = {"domain": "ok.example", "severity": "obliterate", "csrf_token": token}
    assert (await client.post("/admin/domains", form=form)).status_code == 422
    assert await _blocks() == []


async def test_non_admin_and_logged_out_are_refused_without_state_change(
    client: Any, login: Any, make_local_account: Any
) -> None:
    # Given an existing block and a logged-in ordinary user
    await DomainBlock.create(domain="keep.example", severity=DomainSeverity.SUSPEND)
    before = await _blocks()
    user = await make_local_account("mallory")
    token = await login(client, user)
    # When they open the page, add a block or remove one
    assert (await client.get("/admin/domains")).status_code in (403, 404)
    form = {"domain": "victim.example", "severity": "suspend", "csrf_token": token}
    assert (await client.post("/admin/domains", form=form)).status_code in (403, 404)
    form = {"domain": "keep.example", "csrf_token": token}
    assert (await client.post("/admin/domains/remove", form=form)).status_code in (403, 404)
    # Then nothing changed
    assert await _blocks() == before


async def test_csrf_is_required(client: Any, login: Any, make_local_account: Any) -> None:
    # Given a logged-in admin and an existing block
    admin = await make_local_account("sam", admin=True)
    await login(client, admin)
    await DomainBlock.create(domain="keep.example", severity=DomainSeverity.SUSPEND)
    before = await _blocks()
    # When forms arrive without the token, or with a wrong one
    form = {"domain": "victim.example", "severity": "suspend"}
    assert (await client.post("/admin/domains", form=form)).status_code == 403
    form = {"domain": "keep.example", "csrf_token": "forged"}
    assert (await client.post("/admin/domains/remove", form=form)).status_code == 403
    # Then nothing changed
    assert await _blocks() == before
