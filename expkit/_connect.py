"""``expkit.connect()``: the live API when a key is configured, else the bundled demo org."""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from expkit._client import Client

KEY_ENV = "AMPLITUDE_MANAGEMENT_API_KEY"


def connect(
    fixtures: str | os.PathLike[str] | None = None,
    *,
    quiet: bool = False,
    **client_options: Any,
) -> Client:
    """A Client on the live API if a key is configured, else on a local fake of the demo org.

    The key comes from ``api_key=`` or ``AMPLITUDE_MANAGEMENT_API_KEY``. Without one (or when
    ``fixtures=`` is given) a ``FakeServer`` is started on 127.0.0.1 over ``fixtures`` (default:
    ``EXPKIT_FIXTURES``, else the bundled demo org) and stopped when the interpreter exits.
    One line says which.
    """
    from expkit._client import Client

    has_key = bool(client_options.get("api_key") or os.environ.get(KEY_ENV))
    if has_key and fixtures is None and "base_url" not in client_options:
        client = Client(**client_options)
        if not quiet:
            print(f"expkit: live Amplitude Experiment API at {client.base_url}")
        return client

    from expkit._paths import default_fixtures
    from expkit.fake import FakeServer

    source = Path(fixtures) if fixtures is not None else default_fixtures()
    server = FakeServer.from_fixtures(source)
    server.start()
    atexit.register(server.stop)
    client_options.pop("api_key", None)
    client = server.client(**client_options)
    # keep the server alive as long as the client is
    client._fake_server = server  # type: ignore[attr-defined]
    if not quiet:
        print(
            f"expkit: no {KEY_ENV} set; using the offline demo org "
            f"({source.name}, fake server at {server.url})"
        )
    return client
