"""A small org for the lifecycle tests, and a requests adapter failing chosen writes by path."""

from __future__ import annotations

import copy
import json
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from tests.support import edits_org as make_org

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def lifecycle_org() -> dict[str, Any]:
    """make_org() plus configs for every block: a parent with a live child, a permanent flag,
    an archived flag, a disabled flag, experiments in a mutex and a holdout, and one key in
    two projects."""
    org = make_org()
    flag = org["flags"][0]
    experiment = org["experiments"][0]

    def like(base: dict[str, Any], id_: str, key: str, **extra: Any) -> dict[str, Any]:
        config = copy.deepcopy(base)
        config.update(id=id_, key=key, name=key, **extra)
        return config

    org["flags"] += [
        like(flag, "1002", "stale-one"),
        like(flag, "1003", "stale-two"),
        like(flag, "1004", "parent-flag"),
        like(
            flag,
            "1005",
            "child-flag",
            parentDependencies={"flags": {"1004": ["control"]}, "operator": "all"},
        ),
        like(flag, "1006", "kill-switch", tags=["team:platform", "expkit:permanent"]),
        like(flag, "1007", "old-archived", archived=True, enabled=False),
        like(flag, "1008", "off-flag", enabled=False),
        like(flag, "1009", "twin-key"),
        like(flag, "1010", "twin-key", projectId="200"),
    ]
    org["experiments"] += [
        like(experiment, "2002", "mutex-exp", state="decision-made"),
        like(experiment, "2003", "holdout-exp", state="decision-made"),
        like(experiment, "2004", "done-exp", state="decision-made"),
    ]
    org["mutexes"] = [
        {
            "id": "3001",
            "projectId": "100",
            "name": "Checkout mutex",
            "key": "mutex-checkout",
            "description": None,
            "evaluationMode": "remote",
            "bucketingKey": "amplitude_id",
            "bucketingSalt": "abc",
            "deleted": False,
            "slots": [
                {
                    "name": "SLOT 1",
                    "index": 1,
                    "variantKey": "slot-1",
                    "percentage": 100,
                    "experiments": [2002],
                    "holdouts": [],
                    "individuals": [],
                    "cohorts": [],
                }
            ],
        }
    ]
    org["holdouts"] = [
        {
            "id": "4001",
            "projectId": "100",
            "name": "Q4 holdout",
            "key": "holdout-q4",
            "description": "",
            "holdoutPercentage": 5,
            "evaluationMode": "remote",
            "bucketingKey": "amplitude_id",
            "bucketingSalt": "xyz",
            "variantName": "on",
            "experiments": [2003],
            "individualInclusion": [],
            "individualExclusion": [],
            "deleted": False,
        }
    ]
    org["versions"] = {}
    org["inclusions"] = {}
    return org


def _response(request: requests.PreparedRequest, status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps({"message": f"injected {status}"}).encode()
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    response.url = request.url or ""
    response.request = request
    response.reason = "Internal Server Error"
    return response


class PathFaults(HTTPAdapter):
    """Forwards to the fake; a write to a path in ``fail`` gets a 500 (``"before"``: never
    reaches the server; ``"after"``: the server applies it, the reply is a 500). Records every
    write as (method, path, body)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: dict[str, str] = {}
        self.writes: list[tuple[str, str, Any]] = []
        self.reads_down = False

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        method = request.method or ""
        path = str(requests.utils.urlparse(request.url).path)
        if method not in WRITES:
            if self.reads_down:
                raise requests.exceptions.ConnectionError("injected: connection reset on read")
            return super().send(request, **kwargs)
        self.writes.append((method, path, json.loads(request.body) if request.body else None))
        when = self.fail.get(path)
        if when is None:
            return super().send(request, **kwargs)
        if when == "after":
            super().send(request, **kwargs).close()
        return _response(request, 500)
