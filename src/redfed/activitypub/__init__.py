"""The ActivityPub protocol as pure functions: vocabulary, URIs, audience, rendering (and parsing).

Nothing here awaits or touches the network; models come in, plain dicts go out.
"""
