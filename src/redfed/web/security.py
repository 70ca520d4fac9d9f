"""Web security: session loading into `g.viewer`, CSRF (per-session and signed pre-session
tokens, plus an Origin / Sec-Fetch-Site check), security headers, login-required decorators,
form parsing that rejects arrays, and the client address for rate limiting (WEB-01..09).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from quart import Response, current_app, g, redirect, request

from redfed.errors import BadRequest, Forbidden
from redfed.runtime import Runtime
from redfed.services import sessions

SESSION_COOKIE = "redfed_session"
PRESESSION_COOKIE = "redfed_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The content types a cross-site <form> can send without a CORS preflight.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)
_NONCE_LEN = 32

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def runtime() -> Runtime:
    rt: Runtime = current_app.config["REDFED_RUNTIME"]
    return rt


# --- sessions -------------------------------------------------------------------------------


async def load_viewer() -> None:
    """before_request: the logged-in Account/User (or None) into `g.viewer` / `g.viewer_user`."""
    g.viewer = g.viewer_user = g.session = None
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        session = await sessions.load_session(token)
        if session is not None:
            g.session, g.viewer_user, g.viewer = session, session.user, session.user.account


def _secure_cookies() -> bool:
    return runtime().settings.instance.scheme == "https" or request.scheme == "https"


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=_secure_cookies(),
        samesite="Lax",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=_secure_cookies(), samesite="Lax"
    )


# --- CSRF -----------------------------------------------------------------------------------


def csrf_exempt(view: F) -> F:
    """For endpoints that take no cookie authority (signed ActivityPub POSTs, token APIs)."""
    view._csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _signing_key() -> bytes:
    """A random key kept in the data dir (0600), shared by every process of the instance."""
    rt = runtime()
    key = rt.state.get("csrf_key")
    if key is None:
        key = load_or_create_key(rt.settings.data_dir / "csrf.key")
        rt.state["csrf_key"] = key
    return key


def load_or_create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        key = secrets.token_bytes(32)
        fh.write(key)
    return key


def _presession_token(nonce: str) -> str:
    return hmac.new(_signing_key(), nonce.encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token forms must send: the session's, or (logged out) an HMAC of a cookie nonce."""
    if g.get("session") is not None:
        return str(g.session.csrf_token)
    nonce = g.get("presession_nonce") or request.cookies.get(PRESESSION_COOKIE, "")
    if len(nonce) != _NONCE_LEN or not nonce.isalnum():
        nonce = secrets.token_hex(_NONCE_LEN // 2)
        g.new_presession_nonce = nonce
    g.presession_nonce = nonce
    return _presession_token(nonce)


def _expected_token() -> str | None:
    if g.get("session") is not None:
        return str(g.session.csrf_token)
    nonce = request.cookies.get(PRESESSION_COOKIE, "")
    return _presession_token(nonce) if len(nonce) == _NONCE_LEN else None


def _same_origin(origin: str) -> bool:
    ours = {runtime().settings.base_url, f"{request.scheme}://{request.host}"}
    return origin in ours


async def check_csrf() -> None:
    """before_request: every unsafe request with cookie authority or a form body needs the token."""
    if request.method not in UNSAFE_METHODS or "Authorization" in request.headers:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "_csrf_exempt", False):
        return
    is_form = (request.mimetype or "") in FORM_TYPES
    if not is_form and g.get("session") is None:
        return  # JSON bodies cannot be sent cross-site without a preflight, and carry no session
    if request.headers.get("Sec-Fetch-Site", "") == "cross-site":
        raise Forbidden("Cross-site form submission refused.")
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin):
        raise Forbidden("Cross-site form submission refused.")
    sent = request.headers.get(CSRF_HEADER, "")
    if is_form and not sent:
        values = (await request.form).getlist(CSRF_FIELD)
        sent = values[0] if len(values) == 1 else ""
    expected = _expected_token()
    if not sent or expected is None or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("The form expired or was sent from another site. Reload and try again.")


# --- headers --------------------------------------------------------------------------------


async def add_security_headers(response: Response) -> Response:
    """after_request: WEB-09 headers, and the pre-session cookie when one was minted."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if (response.mimetype or "") == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
    if g.get("viewer") is not None or g.get("new_presession_nonce"):
        # Pages with a person's data or a form token must not be kept by shared caches.
        headers.setdefault("Cache-Control", "private, no-store")
    nonce = g.get("new_presession_nonce")
    if nonce:
        response.set_cookie(
            PRESESSION_COOKIE,
            nonce,
            httponly=True,
            secure=_secure_cookies(),
            samesite="Lax",
            path="/",
        )
    return response


# --- access ---------------------------------------------------------------------------------


def login_required(view: F) -> F:
    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("viewer") is None:
            target = request.full_path.rstrip("?") if request.method == "GET" else "/"
            return redirect(f"/login?next={quote(target, safe='/')}")
        return await view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def admin_required(view: F) -> F:
    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("viewer") is None:
            return redirect(f"/login?next={quote(request.path, safe='/')}")
        if not g.viewer_user.is_admin:
            raise Forbidden()
        return await view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-origin relative paths (XSS-09): `/x?y`, never `//evil`, `/\\evil`, `https:evil`."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# --- forms ----------------------------------------------------------------------------------


async def read_form(*, multi: Iterable[str] = ()) -> dict[str, Any]:
    """The posted form as plain strings; fields in `multi` as lists. A field sent more than once
    or named like an array (`email[]`) is refused with 400 (WEB-08)."""
    form = await request.form
    multi = set(multi)
    data: dict[str, Any] = {}
    for key in form.keys():
        values = form.getlist(key)
        if "[" in key or (len(values) > 1 and key not in multi):
            raise BadRequest("A form field was sent more than once.")
        data[key] = list(values) if key in multi else values[0]
    for key in multi:
        data.setdefault(key, [])
    return data


# --- client address -------------------------------------------------------------------------


def client_ip() -> str:
    """The client's address: X-Forwarded-For is believed only from `server.trusted_proxies`
    (WEB-06); then the right-most address not itself a trusted proxy is the client."""
    remote = request.remote_addr or ""
    proxies = _trusted_networks()
    if not proxies or not _in(remote, proxies):
        return remote
    header = request.headers.get("X-Forwarded-For", "")
    forwarded = [p.strip() for p in header.split(",") if p.strip()]
    for hop in reversed(forwarded):
        if not _in(hop, proxies):
            return hop
    return forwarded[0] if forwarded else remote


def _trusted_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    rt = runtime()
    nets = rt.state.get("trusted_proxy_networks")
    if nets is None:
        nets = [ipaddress.ip_network(p, strict=False) for p in rt.settings.server.trusted_proxies]
        rt.state["trusted_proxy_networks"] = nets
    return list(nets)


def _in(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


# --- rate limiting --------------------------------------------------------------------------


class FailureLimiter:
    """Counts failures per key in a sliding window (in memory, per process: enough for one
    instance; several processes each allow `limit`). Keys are like `ip:1.2.3.4`, `acct:alice`."""

    def __init__(self, limit: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.limit, self.window, self.max_keys = limit, window_seconds, max_keys
        self._hits: dict[str, list[float]] = {}

    def _recent(self, key: str, now: float) -> list[float]:
        hits = [t for t in self._hits.get(key, ()) if now - t < self.window]
        if hits:
            self._hits[key] = hits
        else:
            self._hits.pop(key, None)
        return hits

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 when it may try now."""
        now = time.monotonic()
        hits = self._recent(key, now)
        if len(hits) < self.limit:
            return 0
        return max(1, int(hits[-self.limit] + self.window - now) + 1)

    def record(self, key: str) -> None:
        now = time.monotonic()
        if len(self._hits) >= self.max_keys:  # a flood of distinct keys: forget the stale ones
            for stale in [k for k, v in self._hits.items() if now - v[-1] >= self.window]:
                del self._hits[stale]
        self._recent(key, now)
        self._hits.setdefault(key, []).append(now)

    def clear(self, key: str) -> None:
        self._hits.pop(key, None)


LOGIN_FAILURE_LIMIT = 10
LOGIN_WINDOW_SECONDS = 15 * 60


def login_limiter() -> FailureLimiter:
    state = runtime().state
    limiter = state.get("login_failures")
    if limiter is None:
        limiter = FailureLimiter(LOGIN_FAILURE_LIMIT, LOGIN_WINDOW_SECONDS)
        state["login_failures"] = limiter
    return limiter  # type: ignore[no-any-return]
