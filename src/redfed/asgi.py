"""ASGI entry point for external servers: `hypercorn redfed.asgi:app`. The only module that
builds an app at import."""

from redfed.app import create_app
from redfed.config import load_settings

app = create_app(load_settings(), freeze_gc=True)  # a server process: see gc_tuning
