"""`/admin/translation`: installed language pairs, installing a package from an uploaded file,
removing a pair. (Downloads from the package index are the CLI's: `redfed translate install`.)
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from quart import Blueprint, Response, flash, redirect, render_template, request

from redfed.errors import ValidationError
from redfed.services.translation import models_admin
from redfed.services.translation.languages import packages_dir, translation_languages
from redfed.web import security
from redfed.web.i18n import gettext as _

bp = Blueprint("admin_translation", __name__, url_prefix="/admin/translation")
PAGE = "/admin/translation"


@bp.get("")
@security.admin_required
async def index() -> Any:
    settings = security.runtime().settings
    html = await render_template(
        "admin/translation.html",
        installed=models_admin.list_installed(packages_dir(settings)),
        pairs=translation_languages(settings),
        enabled=settings.translation.enabled,
        api_enabled=settings.translation.libretranslate_api,
        max_upload_mb=settings.server.max_body_bytes // (1024 * 1024),
    )
    return Response(html, content_type="text/html; charset=utf-8")


@bp.post("/install")
@security.admin_required
async def install() -> Any:
    await security.read_form()  # refuses repeated fields (WEB-08)
    upload = (await request.files).get("package")
    if upload is None or not upload.filename:
        await flash(_("Choose a .argosmodel file to upload."))
        return redirect(PAGE)
    settings = security.runtime().settings
    folder = settings.translation_dir
    folder.mkdir(parents=True, exist_ok=True)
    # Saved under a generated name beside the packages folder; the uploader's name is never used.
    with tempfile.TemporaryDirectory(prefix=".upload-", dir=folder) as tmp:
        path = Path(tmp) / "upload.argosmodel"
        await upload.save(path)
        try:
            info = await asyncio.to_thread(
                models_admin.install_from_file, packages_dir(settings), path
            )
        except ValidationError as exc:
            await flash(_(exc.public_message))
            return redirect(PAGE)
    await flash(_("Installed %(source)s → %(target)s.", source=info.from_code, target=info.to_code))
    return redirect(PAGE)


@bp.post("/remove")
@security.admin_required
async def remove() -> Any:
    form = await security.read_form()
    source, target = form.get("from", ""), form.get("to", "")
    if models_admin.remove(packages_dir(security.runtime().settings), source, target):
        await flash(_("Removed %(source)s → %(target)s.", source=source, target=target))
    else:
        await flash(_("That language pair is not installed."))
    return redirect(PAGE)
