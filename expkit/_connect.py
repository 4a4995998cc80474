"""``expkit.connect()``: the live API when a key is configured, else the bundled demo org."""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expkit._client import Client

if TYPE_CHECKING:
    from expkit.fake import FakeAdapter, FakeServer

__all__ = ["KEY_ENV", "ConnectedClient", "connect"]

KEY_ENV = "AMPLITUDE_MANAGEMENT_API_KEY"


class ConnectedClient(Client):
    """The ``Client`` that ``expkit.connect()`` returns: a Client, and ``fake`` says on what.

    ``fake`` is the ``FakeServer`` that ``connect()`` started for this client (the demo org or
    the fixtures it was given), the ``FakeAdapter`` serving it with ``in_process=True``, or
    None when the client is on the live API or ``base_url=``. ``client.fake.state`` is the
    fake org itself; ``client.fake.stop()`` stops a server early (it stops by itself when the
    interpreter exits).
    """

    def __init__(
        self, *args: Any, fake: FakeServer | FakeAdapter | None = None, **options: Any
    ) -> None:
        super().__init__(*args, **options)
        self.fake = fake


def connect(
    fixtures: str | os.PathLike[str] | None = None,
    *,
    quiet: bool = False,
    in_process: bool = False,
    **client_options: Any,
) -> ConnectedClient:
    """A Client on the live API if a key is configured, else on a local fake of the demo org.

    The key comes from ``api_key=`` or ``AMPLITUDE_MANAGEMENT_API_KEY``. Without one (or when
    ``fixtures=`` is given) a ``FakeServer`` is started on 127.0.0.1 over ``fixtures`` (default:
    ``EXPKIT_FIXTURES``, else the bundled demo org), stopped when the interpreter exits, and
    reachable as the client's ``fake``. With ``in_process=True`` the fake is served inside the
    process instead (a ``FakeAdapter`` mounted on the client's session: no thread, socket or
    exit hook; the client's ``base_url`` is then ``https://fake.expkit.invalid``).
    ``base_url=`` always gives a client on that server. One line says which (none with
    ``quiet=True``).
    """
    from expkit.errors import ValidationError

    has_key = bool(client_options.get("api_key") or os.environ.get(KEY_ENV))
    if client_options.get("base_url") is not None and fixtures is not None:
        raise ValidationError(
            "connect() takes fixtures= (a local fake over them) or base_url= (that server), "
            "not both.",
            field="base_url",
            value=client_options["base_url"],
            allowed="either fixtures= or base_url=",
        )
    if fixtures is None and (has_key or client_options.get("base_url") is not None):
        client = ConnectedClient(**client_options)
        if not quiet:
            print(f"expkit: live Amplitude Experiment API at {client.base_url}")
        return client

    from expkit._paths import default_fixtures
    from expkit.fake import FakeAdapter, FakeServer

    source = Path(fixtures) if fixtures is not None else default_fixtures()
    client_options.pop("api_key", None)
    client_options.pop("base_url", None)
    fake: FakeServer | FakeAdapter
    if in_process:
        fake = FakeAdapter.from_fixtures(source)
        client = ConnectedClient(
            api_key=fake.api_key,
            base_url=fake.url,
            session=fake.session(),
            fake=fake,
            **client_options,
        )
    else:
        fake = FakeServer.from_fixtures(source)
        fake.start()
        atexit.register(fake.stop)
        client = ConnectedClient(
            api_key=fake.api_key, base_url=fake.url, fake=fake, **client_options
        )
    if not quiet:
        from expkit._paths import demo_fixtures

        if fixtures is None and source.resolve() == demo_fixtures().resolve():
            what = f"no {KEY_ENV} set; using the offline demo org ({source.name}, "
        else:
            # fixtures= wins over a key, and recorded fixtures are not the demo org
            what = f"using the offline fixtures in {source} ("
        where = "served in-process" if in_process else f"fake server at {fake.url}"
        print(f"expkit: {what}{where})")
    return client
