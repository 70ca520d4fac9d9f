"""AS2 vocabulary constants shared by rendering (outbound) and parsing (inbound).

One spelling of each IRI and content type, so the two directions never drift apart.
"""

from __future__ import annotations

from typing import Any, Final

AS_NS: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_NS: Final = "https://w3id.org/security/v1"
PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
# Peers also send the Public collection in its compact forms (JSON-LD compaction, old Pleroma).
PUBLIC_ALIASES: Final = frozenset({PUBLIC, "as:Public", "Public"})

AP_CONTENT_TYPE: Final = "application/activity+json"
LD_CONTENT_TYPE: Final = f'application/ld+json; profile="{AS_NS}"'
JRD_CONTENT_TYPE: Final = "application/jrd+json"
XRD_CONTENT_TYPE: Final = "application/xrd+xml"
# What we accept as "this client wants AS2" in content negotiation.
AP_MIME_TYPES: Final = ("application/activity+json", "application/ld+json")

TOOT_NS: Final = "http://joinmastodon.org/ns#"

# The extension terms we use (Mastodon's names, so Mastodon and its kin understand them).
EXTENSIONS: Final[dict[str, Any]] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "toot": TOOT_NS,
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "blurhash": "toot:blurhash",
}

# The `@context` of every document we serve.
CONTEXT: Final[list[Any]] = [AS_NS, SECURITY_NS, EXTENSIONS]

ACTOR_TYPES: Final = frozenset({"Person", "Service", "Application", "Group", "Organization"})
PROFILE_PAGE_REL: Final = "http://webfinger.net/rel/profile-page"
NODEINFO_20_REL: Final = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_21_REL: Final = "http://nodeinfo.diaspora.software/ns/schema/2.1"


def is_public(address: str) -> bool:
    """True for the Public collection in any of its spellings."""
    return address in PUBLIC_ALIASES
